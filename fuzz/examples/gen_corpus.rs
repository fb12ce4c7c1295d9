//! Writes the seed corpus: `cargo run --manifest-path fuzz/Cargo.toml --example gen_corpus`.
//! Replaces `corpus/<target>/` with exactly the seeds of `clab_keys_fuzz::seeds` (the router's
//! tokens come from a seeded entropy source, so the output is the same every time).

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for target in clab_keys_fuzz::seeds::TARGETS {
        let dir = root.join(target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
    }
    let seeds = clab_keys_fuzz::seeds::seeds();
    for (target, name, bytes) in &seeds {
        std::fs::write(root.join(target).join(name), bytes)?;
    }
    println!("wrote {} seeds under {}", seeds.len(), root.display());
    Ok(())
}

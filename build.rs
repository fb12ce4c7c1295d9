//! Copies the guide (`docs/*.md`) and the README into `OUT_DIR` for the crate docs, with the
//! links between chapters rewritten from file names (`axum.md#testing-your-app`, right on
//! GitHub and in a clone) to the doc modules that hold them on docs.rs
//! (`crate::guide::axum#testing-your-app`). Nothing else changes: the doc tests compile the
//! very code blocks of the files.

use std::path::Path;

/// Chapter file → its module under `clab_keys::guide`.
const CHAPTERS: [(&str, &str); 17] = [
    ("README.md", "contents"),
    ("contract.md", "contract"),
    ("axum.md", "axum"),
    ("actix-web.md", "actix_web"),
    ("seaorm.md", "sea_orm"),
    ("openapi.md", "openapi"),
    ("token-format.md", "token_format"),
    ("security-model.md", "security_model"),
    ("migrating-sha256.md", "migrating_sha256"),
    ("configuration.md", "configuration"),
    ("cli.md", "cli"),
    ("redis.md", "redis"),
    ("using-the-api.md", "using_the_api"),
    ("faq.md", "faq"),
    ("dependencies.md", "dependencies"),
    ("security.md", "security"),
    ("performance.md", "performance"),
];

/// Rewrites `](prefix<chapter>` link targets to `](crate::guide::<module>`.
fn rewrite(text: &str, prefix: &str) -> String {
    let mut out = text.to_owned();
    for (file, module) in CHAPTERS {
        out = out.replace(
            &format!("]({prefix}{file}"),
            &format!("](crate::guide::{module}"),
        );
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::var("OUT_DIR")?;
    let out = Path::new(&out);
    std::fs::create_dir_all(out.join("docs"))?;
    println!("cargo::rerun-if-changed=README.md");
    println!("cargo::rerun-if-changed=docs");
    let readme = std::fs::read_to_string("README.md")?;
    std::fs::write(out.join("README.md"), rewrite(&readme, "docs/"))?;
    for (file, _) in CHAPTERS {
        let text = std::fs::read_to_string(Path::new("docs").join(file))?;
        std::fs::write(out.join("docs").join(file), rewrite(&text, ""))?;
    }
    Ok(())
}

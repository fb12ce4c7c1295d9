//! The two layers of the crate import one way: the keys layer (format, hashing, store, key
//! service) never imports from the http layer (`src/http/`), which builds on it. A new import
//! that closes a circle fails here, naming the file and the line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_keys_layer_never_imports_the_http_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let http = src.join("http");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let below: Vec<_> = files
        .iter()
        .filter(|f| !f.starts_with(&http))
        // The crate root wires both layers together, and `dangerous` sits beside them on
        // purpose: it makes principals (http) from keys-layer values.
        .filter(|f| !f.ends_with("lib.rs") && !f.ends_with("dangerous.rs"))
        .collect();
    assert!(
        below.len() >= 10,
        "expected the keys layer's files, found {below:?}"
    );
    for file in below {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            assert!(
                !code.contains("crate::http") && !code.contains("super::http"),
                "{}:{}: the keys layer imports the http layer: {line}",
                file.display(),
                n + 1
            );
        }
    }
}

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

/// The names the http layer exports (`pub use` lines of `src/http/mod.rs`).
fn http_names(src: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(src.join("http").join("mod.rs")).unwrap();
    let mut names = Vec::new();
    for item in text.split("pub use ").skip(1) {
        let item = &item[..item.find(';').unwrap()];
        let list = item.find('{').map_or_else(
            || item.rsplit("::").next().unwrap().to_owned(),
            |open| item[open + 1..item.rfind('}').unwrap()].to_owned(),
        );
        names.extend(
            list.split(',')
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
        );
    }
    names
}

/// The first segment of every `crate::…` path in a line of code, groups included
/// (`crate::{a, b::c}` gives `a` and `b`).
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for rest in code.split("crate::").skip(1) {
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(group.split(',').map(|n| {
                n.split([':', ' '])
                    .find(|w| !w.is_empty())
                    .unwrap_or("")
                    .to_owned()
            }));
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            found.push(rest[..end].to_owned());
        }
    }
    found
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
    let mut upper = http_names(&src);
    assert!(upper.iter().any(|n| n == "Principal"), "parsed {upper:?}");
    upper.push("http".to_owned());
    for file in below {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            // Code only: a doc comment may name the layer above to explain where a value goes.
            let code = line.split("//").next().unwrap_or_default();
            let named: Vec<String> = crate_paths(code)
                .into_iter()
                .filter(|p| upper.contains(p))
                .collect();
            assert!(
                named.is_empty() && !code.contains("super::http"),
                "{}:{}: the keys layer uses the http layer ({named:?}): {line}",
                file.display(),
                n + 1
            );
        }
    }
}

//! The guide's claims about the token format, checked against the real generator and parser:
//! the regular expressions printed in `docs/token-format.md` (and the gitleaks rule there) are
//! the ones the code publishes, they match every generated token in every context the guide
//! lists, its fixtures hold, and every chapter is compiled as a doc test by `src/lib.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use clab_keys::OsEntropy;
use clab_keys::{KeyFormats, TokenFormat};
use regex::Regex;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn token_format_md() -> String {
    read("docs/token-format.md")
}

/// The fenced code blocks of a markdown text: `(info string, body)`, in order.
fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some(rest)) if rest.trim().is_empty() => {
                blocks.extend(current.take());
            }
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(current.is_none(), "a code block is not closed");
    blocks
}

/// The body of the first code block after the HTML comment `marker`.
fn block_after(markdown: &str, marker: &str) -> String {
    let at = markdown
        .find(marker)
        .unwrap_or_else(|| panic!("marker {marker:?} not found"));
    code_blocks(&markdown[at..])
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no code block after {marker:?}"))
        .1
}

/// The one-line bodies of the `text` blocks: the regular expressions as printed.
fn printed_regexes(markdown: &str) -> Vec<String> {
    code_blocks(markdown)
        .into_iter()
        .filter(|(info, body)| info == "text" && body.lines().count() == 1)
        .map(|(_, body)| body.trim_end().to_owned())
        .filter(|body| body.contains("[0-9A-Za-z]{46}"))
        .collect()
}

/// The `regex = '''…'''` value of the gitleaks rule.
fn gitleaks_regex(markdown: &str) -> String {
    let toml = code_blocks(markdown)
        .into_iter()
        .find(|(info, body)| info == "toml" && body.contains("[[rules]]"))
        .expect("the gitleaks rule is a toml block with [[rules]]")
        .1;
    let line = toml
        .lines()
        .find(|l| l.starts_with("regex = '''"))
        .expect("the rule has a regex = '''…''' line");
    line.trim_start_matches("regex = '''")
        .trim_end_matches("'''")
        .to_owned()
}

fn generated_tokens(n: usize) -> Vec<String> {
    let format = TokenFormat::default();
    (0..n)
        .map(|_| {
            let (_, key) = format.generate(&OsEntropy).expect("the OS CSPRNG works");
            key.expose_secret().to_owned()
        })
        .collect()
}

/// The contexts the guide says a scanner finds a token in.
fn contexts(token: &str) -> Vec<String> {
    vec![
        token.to_owned(),
        format!("export CLAB_API_KEY={token}"),
        format!("CLAB_API_KEY=\"{token}\"\n"),
        format!("{{\"token\":\"{token}\",\"prefix\":\"{}\"}}", &token[..18]),
        format!("Authorization: Bearer {token}\r\n"),
        format!("https://api.example.com/hook?key={token}&x=1"),
        format!("'{token}'"),
        format!("({token})"),
        format!("\t{token} "),
    ]
}

#[test]
fn printed_regexes_are_the_ones_the_code_publishes() {
    let format = TokenFormat::default();
    let printed = printed_regexes(&token_format_md());
    assert_eq!(printed, vec![format.regex(), format.scan_regex()]);
}

#[test]
fn gitleaks_rule_uses_the_published_scan_regex() {
    assert_eq!(
        gitleaks_regex(&token_format_md()),
        TokenFormat::default().scan_regex()
    );
}

#[test]
fn anchored_regex_matches_every_generated_token_and_nothing_longer_or_shorter() {
    let anchored = Regex::new(&TokenFormat::default().regex()).unwrap();
    for token in generated_tokens(2_000) {
        assert_eq!(token.len(), 56);
        assert!(anchored.is_match(&token), "{token}");
        assert!(!anchored.is_match(&token[..55]));
        assert!(!anchored.is_match(&format!("{token}0")));
        assert!(!anchored.is_match(&format!(" {token}")));
    }
}

#[test]
fn gitleaks_regex_finds_every_generated_token_in_every_context() {
    let scan = Regex::new(&gitleaks_regex(&token_format_md())).unwrap();
    for token in generated_tokens(500) {
        for text in contexts(&token) {
            let found: Vec<&str> = scan
                .captures_iter(&text)
                .map(|c| c.get(1).unwrap().as_str())
                .collect();
            assert_eq!(found, vec![token.as_str()], "in {text:?}");
        }
    }
}

#[test]
fn gitleaks_regex_ignores_tokens_glued_to_other_characters() {
    let scan = Regex::new(&gitleaks_regex(&token_format_md())).unwrap();
    for token in generated_tokens(200) {
        for text in [
            format!("x{token}"),
            format!("my_{token}"),
            format!("{token}x"),
            format!("{token}_"),
            token[..55].to_owned(),
            token.replacen("clab_user_", "clab_usr_", 1),
            token.replacen("clab_user_", "Clab_user_", 1),
        ] {
            assert!(!scan.is_match(&text), "{text:?}");
        }
    }
}

#[test]
fn must_match_fixtures_are_found_and_are_valid_keys() {
    let md = token_format_md();
    let scan = Regex::new(&gitleaks_regex(&md)).unwrap();
    let formats = KeyFormats::default();
    let fixtures = block_after(&md, "<!-- fixtures: must-match -->");
    assert!(fixtures.lines().count() >= 5);
    for line in fixtures.lines() {
        let found: Vec<&str> = scan
            .captures_iter(line)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        assert_eq!(found.len(), 1, "exactly one key in {line:?}");
        assert!(
            formats.parse(found[0].as_bytes()).is_ok(),
            "fixture key {} must have a valid checksum",
            found[0]
        );
    }
}

#[test]
fn must_not_match_fixtures_are_not_found() {
    let md = token_format_md();
    let scan = Regex::new(&gitleaks_regex(&md)).unwrap();
    let fixtures = block_after(&md, "<!-- fixtures: must-not-match -->");
    assert!(fixtures.lines().count() >= 5);
    for line in fixtures.lines() {
        assert!(!scan.is_match(line), "{line:?} must not match");
    }
}

#[test]
fn every_example_key_in_the_guide_has_a_valid_checksum() {
    // Any 56-character `clab_user_` string printed in the docs is either a valid example key
    // or one of the look-alikes listed as such.
    let md = token_format_md();
    let look_alikes = block_after(&md, "<!-- fixtures: must-not-match -->");
    let anchored_body = Regex::new(r"clab_user_[0-9A-Za-z]{46}").unwrap();
    let formats = KeyFormats::default();
    for line in md.lines().filter(|l| !look_alikes.contains(*l)) {
        for m in anchored_body.find_iter(line) {
            let after = line[m.end()..].chars().next();
            if after.is_some_and(|c| c.is_ascii_alphanumeric()) {
                continue;
            }
            assert!(
                formats.parse(m.as_str().as_bytes()).is_ok(),
                "{} in {line:?}",
                m.as_str()
            );
        }
    }
}

#[test]
fn every_chapter_is_compiled_as_a_doc_test() {
    let lib = read("src/lib.rs");
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    for chapter in chapters {
        let name = chapter.file_name().unwrap().to_str().unwrap();
        let include = format!("\"/docs/{name}\"))");
        assert!(
            lib.contains(&include),
            "src/lib.rs does not compile docs/{name}"
        );
    }
    assert!(lib.contains("\"/README.md\")))"));
    // build.rs copies every chapter for the crate docs: none may be missing from its list.
    let build = read("build.rs");
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            let name = path.file_name().unwrap().to_str().unwrap();
            assert!(
                build.contains(&format!("(\"{name}\"")),
                "build.rs does not copy docs/{name}"
            );
        }
    }
}

/// The GitHub anchor of a heading: lowercase, spaces to `-`, punctuation other than `-` and
/// `_` dropped.
fn anchor_of(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a markdown page's headings (outside code blocks).
fn anchors(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.push(anchor_of(line.trim_start_matches('#')));
        }
    }
    out
}

/// Relative links (`[text](path#anchor)` and `[label]: path`) from the README and the guide
/// name files that exist and headings those files have.
#[test]
fn relative_links_resolve() {
    let link = Regex::new(r"\]\(([^)\s]+)\)|^\[[^\]]+\]:\s*(\S+)").unwrap();
    let mut pages = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let dir = page.parent().unwrap_or(Path::new("."));
        let mut in_code = false;
        for line in text.lines() {
            if line.starts_with("```") {
                in_code = !in_code;
            }
            if in_code {
                continue;
            }
            for c in link.captures_iter(line) {
                let target = c.get(1).or_else(|| c.get(2)).unwrap().as_str();
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
                let linked = if file.is_empty() {
                    page.clone()
                } else {
                    dir.join(file)
                };
                assert!(
                    linked.exists(),
                    "{} links to {target}, which does not exist",
                    page.display()
                );
                if !anchor.is_empty() {
                    let headings = anchors(&std::fs::read_to_string(&linked).unwrap());
                    assert!(
                        headings.iter().any(|h| h == anchor),
                        "{} links to {target}, which has no such heading",
                        page.display()
                    );
                }
            }
        }
    }
}

//! `--name value` command-line options, without a parser crate.

use std::collections::HashMap;
use std::str::FromStr;

use crate::{BoxError, err};

/// The options of one command line: `--name value` pairs and the other (positional) words.
#[derive(Debug, Default)]
pub struct Args {
    named: HashMap<String, String>,
    /// The words that are not options, in order.
    pub positional: Vec<String>,
}

impl Args {
    /// Reads the process's arguments (after the program name).
    ///
    /// # Errors
    ///
    /// Returns an error for an option without a value.
    pub fn from_env() -> Result<Self, BoxError> {
        Self::parse(std::env::args().skip(1))
    }

    /// Reads `words`.
    ///
    /// # Errors
    ///
    /// Returns an error for an option without a value.
    pub fn parse(words: impl IntoIterator<Item = String>) -> Result<Self, BoxError> {
        let mut args = Self::default();
        let mut words = words.into_iter();
        while let Some(word) = words.next() {
            if let Some(name) = word.strip_prefix("--") {
                let value = words
                    .next()
                    .ok_or_else(|| err(format!("--{name} needs a value")))?;
                args.named.insert(name.to_owned(), value);
            } else {
                args.positional.push(word);
            }
        }
        Ok(args)
    }

    /// The value of `--name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.named.get(name).map(String::as_str)
    }

    /// The value of `--name`, required.
    ///
    /// # Errors
    ///
    /// Returns an error when it is missing.
    pub fn required(&self, name: &str) -> Result<&str, BoxError> {
        self.get(name)
            .ok_or_else(|| err(format!("--{name} is required")))
    }

    /// The value of `--name` parsed, or `default` when missing.
    ///
    /// # Errors
    ///
    /// Returns an error when it does not parse.
    pub fn parsed<T: FromStr>(&self, name: &str, default: T) -> Result<T, BoxError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| err(format!("--{name}: cannot read {v:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_and_positional_words_are_told_apart() {
        let args = Args::parse(
            ["load", "--out", "x.svg", "a.csv"]
                .into_iter()
                .map(String::from),
        )
        .unwrap_or_default();
        assert_eq!(args.get("out"), Some("x.svg"));
        assert_eq!(args.positional, ["load", "a.csv"]);
        assert_eq!(args.parsed("n", 3u32).ok(), Some(3));
    }

    #[test]
    fn an_option_without_a_value_is_an_error() {
        assert!(Args::parse(["--out".to_owned()]).is_err());
    }
}

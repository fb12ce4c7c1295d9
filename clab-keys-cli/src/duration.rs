//! Durations on the command line: `30d`, `12h`, `1d12h`, `90m`, `45s`, `2w`.

/// Parses one or more `<number><unit>` pairs (units `s`, `m`, `h`, `d`, `w`) into a duration.
/// A bare number, an unknown unit, an empty text and a total beyond ten thousand years are
/// refused, with a message clap shows as a usage error.
pub fn parse(text: &str) -> Result<time::Duration, String> {
    const HELP: &str = "expected a number and a unit (s, m, h, d or w), such as 30d, 12h or 1d12h";
    const MAX_SECONDS: i64 = 10_000 * 366 * 86_400;
    let text = text.trim();
    if text.is_empty() {
        return Err(HELP.to_owned());
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(HELP.to_owned());
        }
        let (number, after) = rest.split_at(digits);
        let mut chars = after.chars();
        let unit = match chars.next() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3_600,
            Some('d') => 86_400,
            Some('w') => 7 * 86_400,
            _ => return Err(HELP.to_owned()),
        };
        rest = chars.as_str();
        total = number
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit))
            .and_then(|s| total.checked_add(s))
            .filter(|s| *s <= MAX_SECONDS)
            .ok_or_else(|| "the duration is too long".to_owned())?;
    }
    Ok(time::Duration::seconds(total))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn units_and_combinations_are_read() {
        for (text, seconds) in [
            ("45s", 45),
            ("90m", 5_400),
            ("12h", 43_200),
            ("30d", 2_592_000),
            ("2w", 1_209_600),
            ("1d12h", 129_600),
            ("0s", 0),
            (" 7d ", 604_800),
        ] {
            assert_eq!(parse(text), Ok(time::Duration::seconds(seconds)), "{text}");
        }
    }

    #[test]
    fn other_text_is_refused() {
        for text in [
            "",
            "30",
            "d",
            "30x",
            "-1d",
            "1.5d",
            "30 d",
            "1d 2h",
            "30D",
            "99999999999w",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }
}

//! Small, independent readers of the HTTP grammar the targets check against (RFC 9110 §5.6,
//! §11; RFC 6750 §3).

/// `tchar` (RFC 9110 §5.6.2).
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Characters allowed in `error` and `error_description` values (RFC 6750 §3):
/// `%x20-21 / %x23-5B / %x5D-7E`.
pub fn is_rfc6750_error_char(b: u8) -> bool {
    matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e)
}

/// `scope = scope-token *( SP scope-token )`, `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`
/// (RFC 6750 §3).
pub fn is_rfc6750_scope(s: &str) -> bool {
    !s.is_empty()
        && s.split(' ').all(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
        })
}

/// Whether every byte may appear in a field value as the `http` crate and RFC 9110 §5.5 allow
/// for a sender: visible ASCII, SP and HTAB (no obs-text).
pub fn is_field_value(v: &str) -> bool {
    v.bytes().all(|b| b == b'\t' || (0x20..=0x7e).contains(&b))
}

/// One parsed challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme, as written.
    pub scheme: String,
    /// `(lower-case name, unquoted value)` in order.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of a parameter (names are case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a `WWW-Authenticate` value holding exactly one challenge with auth-params:
///
/// ```text
/// challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
/// auth-param  = token BWS "=" BWS ( token / quoted-string )
/// #rule       = element *( OWS "," OWS element )      (no empty elements from a sender)
/// ```
///
/// Parameter names must be unique (RFC 9110 §11.2, RFC 6750 §3). A token68 is refused: our
/// challenges never carry one.
///
/// # Errors
///
/// A description of the first violation.
pub fn parse_challenge(v: &str) -> Result<Challenge, String> {
    if !is_field_value(v) {
        return Err("not a valid field value".into());
    }
    let b = v.as_bytes();
    let mut i = 0;
    let token = |i: &mut usize| -> Option<String> {
        let start = *i;
        while *i < b.len() && is_tchar(b[*i]) {
            *i += 1;
        }
        (*i > start).then(|| v[start..*i].to_owned())
    };
    let ows = |i: &mut usize| {
        while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t') {
            *i += 1;
        }
    };
    let scheme = token(&mut i).ok_or("no auth-scheme")?;
    let mut params: Vec<(String, String)> = Vec::new();
    if i == b.len() {
        return Ok(Challenge { scheme, params });
    }
    if b[i] != b' ' {
        return Err(format!("byte {i}: expected SP after the scheme"));
    }
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    loop {
        let name = token(&mut i).ok_or_else(|| format!("byte {i}: expected a param name"))?;
        ows(&mut i);
        if i >= b.len() || b[i] != b'=' {
            return Err(format!("byte {i}: expected `=` (token68 or bad param)"));
        }
        i += 1;
        ows(&mut i);
        let value = if i < b.len() && b[i] == b'"' {
            i += 1;
            let mut out = String::new();
            loop {
                match b.get(i) {
                    None => return Err("unterminated quoted-string".into()),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let c = *b.get(i + 1).ok_or("dangling quoted-pair")?;
                        out.push(char::from(c));
                        i += 2;
                    }
                    Some(&c) => {
                        out.push(char::from(c));
                        i += 1;
                    }
                }
            }
            out
        } else {
            token(&mut i).ok_or_else(|| format!("byte {i}: expected a token or quoted-string"))?
        };
        let lower = name.to_ascii_lowercase();
        if params.iter().any(|(n, _)| *n == lower) {
            return Err(format!("parameter `{lower}` repeated"));
        }
        params.push((lower, value));
        ows(&mut i);
        if i == b.len() {
            return Ok(Challenge { scheme, params });
        }
        if b[i] != b',' {
            return Err(format!("byte {i}: expected `,` between params"));
        }
        i += 1;
        ows(&mut i);
        if i == b.len() {
            return Err("trailing comma".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc_examples() {
        let c = parse_challenge(r#"Bearer realm="example""#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.param("realm"), Some("example"));
        let c = parse_challenge(
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.param("error"), Some("invalid_token"));
        assert_eq!(c.params.len(), 3);
        assert!(parse_challenge("Bearer").is_ok());
    }

    #[test]
    fn refuses_broken_challenges() {
        for bad in [
            r#"Bearer realm="a"b""#,
            r#"Bearer realm="a" error="x""#,
            r#"Bearer realm="a", realm="b""#,
            r#"Bearer realm="a","#,
            r#"Bearer realm="unterminated"#,
            "Bearer abc==",
            "Bearer realm=\"\u{e9}\"",
            "Bearer realm=\"a\r\n\"",
            "",
        ] {
            assert!(parse_challenge(bad).is_err(), "{bad:?} should not parse");
        }
    }
}

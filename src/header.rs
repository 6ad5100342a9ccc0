//! Values that end up in a mail header or on an SMTP command line, checked where they are loaded.
//!
//! A carriage return or line feed in a name, an address or the `EHLO` name would end the header
//! or the command early and let the rest be read as a header or a command of its own (`Bcc:`,
//! `RCPT TO:`). So every such value is refused at load time when it holds a control character,
//! and shown escaped in the message that says so. Internationalised domains are converted to
//! their ASCII form (IDNA) at load, so a letter never depends on the server accepting UTF-8
//! domains; a host name given for `EHLO` must be one (RFC 1123) or an address literal.

use std::fmt::Write as _;

use lettre::Address;

/// The first character of `value` that must not reach a header: a control character (C0, DEL,
/// C1, including CR, LF and TAB) or a Unicode line or paragraph separator.
pub(crate) fn forbidden_char(value: &str) -> Option<char> {
    value
        .chars()
        .find(|&c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

/// `value` as a message shows it: control characters and separators escaped (`\r`, `\n`,
/// `\u{1b}`), so a refused value cannot itself fake lines or colours on a terminal.
pub(crate) fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The message for `value` (of the kind `what`, such as "name") holding a forbidden character,
/// or `None` when it holds none.
pub(crate) fn control_problem(what: &str, value: &str) -> Option<String> {
    let c = forbidden_char(value)?;
    Some(format!(
        "{what} `{}` holds a control character (`{}`), which could forge mail headers",
        escaped(value),
        c.escape_default()
    ))
}

/// Parses an email address for a header: no control character, and a non-ASCII domain converted
/// to ASCII (`a@bücher.example` → `a@xn--bcher-kva.example`). The error is the reason, worded to
/// follow the value in backticks.
pub(crate) fn parse_address(text: &str) -> Result<Address, String> {
    if let Some(c) = forbidden_char(text) {
        return Err(format!(
            "holds a control character (`{}`), which could forge mail headers",
            c.escape_default()
        ));
    }
    let address: Address = text
        .trim()
        .parse()
        .map_err(|_| "is not a valid email address".to_string())?;
    let domain = address.domain();
    if domain.is_ascii() {
        return Ok(address);
    }
    let ascii = idna::domain_to_ascii_strict(domain)
        .map_err(|_| format!("has a domain `{domain}` that cannot be converted to ASCII (IDNA)"))?;
    Address::new(address.user(), ascii).map_err(|_| "is not a valid email address".to_string())
}

/// Checks a name given for `EHLO`: a host name of RFC 1123 labels (letters, digits, `-` inside,
/// 1 to 63 characters each, 253 in all; a non-ASCII name is converted with IDNA), or an address
/// literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`). Returns the name to send.
pub(crate) fn hello_name(name: &str) -> Result<String, String> {
    if let Some(c) = forbidden_char(name) {
        return Err(format!(
            "holds a control character (`{}`), which would inject SMTP commands",
            c.escape_default()
        ));
    }
    if let Some(literal) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        let ip = literal
            .strip_prefix("IPv6:")
            .map(|v6| v6.parse::<std::net::Ipv6Addr>().is_ok())
            .unwrap_or_else(|| literal.parse::<std::net::Ipv4Addr>().is_ok());
        return if ip {
            Ok(name.to_string())
        } else {
            Err("is not an address literal (`[192.0.2.1]` or `[IPv6:2001:db8::1]`)".into())
        };
    }
    let ascii = if name.is_ascii() {
        name.to_string()
    } else {
        idna::domain_to_ascii_strict(name)
            .map_err(|_| "cannot be converted to an ASCII host name (IDNA)".to_string())?
    };
    let host = ascii.strip_suffix('.').unwrap_or(&ascii);
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(
            "is not a host name (letters, digits and `-` in dot-separated labels) or an \
             address literal"
                .into(),
        );
    }
    Ok(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_and_shown_escaped() {
        let rows = [
            (
                "Evil Org\r\nBcc: x@x.example",
                Some('\r'),
                "Evil Org\\r\\nBcc: x@x.example",
            ),
            ("lone\nLF", Some('\n'), "lone\\nLF"),
            ("tab\there", Some('\t'), "tab\\there"),
            ("esc\u{1b}[31m", Some('\u{1b}'), "esc\\u{1b}[31m"),
            ("c1\u{85}next", Some('\u{85}'), "c1\\u{85}next"),
            ("sep\u{2028}", Some('\u{2028}'), "sep\\u{2028}"),
            (
                "Organisation für Sicherheit «OSCE»",
                None,
                "Organisation für Sicherheit «OSCE»",
            ),
        ];
        for (value, found, shown) in rows {
            assert_eq!(forbidden_char(value), found, "{value:?}");
            assert_eq!(escaped(value), shown, "{value:?}");
            assert_eq!(control_problem("name", value).is_some(), found.is_some());
        }
    }

    #[test]
    fn addresses_get_ascii_domains_or_are_refused() {
        let rows: [(&str, Result<&str, &str>); 7] = [
            ("sg@un.example", Ok("sg@un.example")),
            (" sg@un.example ", Ok("sg@un.example")),
            ("a@bücher.example", Ok("a@xn--bcher-kva.example")),
            ("info@мвд.example", Ok("info@xn--b1aew.example")),
            ("a@bü-.example", Err("IDNA")),
            (
                "sg@un.example\r\nBcc: x@x.example",
                Err("control character"),
            ),
            ("not an address", Err("not a valid email address")),
        ];
        for (text, expected) in rows {
            match (parse_address(text), expected) {
                (Ok(a), Ok(want)) => assert_eq!(a.to_string(), want, "{text}"),
                (Err(e), Err(want)) => assert!(e.contains(want), "{text}: {e}"),
                (got, want) => panic!("{text}: {got:?}, expected {want:?}"),
            }
        }
    }

    #[test]
    fn hello_names_are_host_names_or_address_literals() {
        let rows: [(&str, Option<&str>); 13] = [
            ("mail.office.example", Some("mail.office.example")),
            ("mail.office.example.", Some("mail.office.example.")),
            ("localhost", Some("localhost")),
            ("[192.0.2.1]", Some("[192.0.2.1]")),
            ("[IPv6:2001:db8::1]", Some("[IPv6:2001:db8::1]")),
            ("bücher.example", Some("xn--bcher-kva.example")),
            ("mail.example\r\nMAIL FROM:<x@x.example>", None),
            ("mail example", None),
            ("-mail.example", None),
            ("mail..example", None),
            ("[300.1.1.1]", None),
            ("", None),
            ("under_score.example", None),
        ];
        for (name, expected) in rows {
            assert_eq!(hello_name(name).ok().as_deref(), expected, "{name:?}");
        }
        assert!(hello_name(&format!("{}.example", "a".repeat(64))).is_err());
    }
}

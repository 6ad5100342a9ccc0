//! Front matter: `+++`-fenced TOML at the very top of a statement file, whose `title`, `date` and
//! `addressees` win over what detection would find in the text.

use chrono::NaiveDate;

use super::{collapse_whitespace, AddresseeSource, Passage, Recognised, StatementError};

/// Front matter `addressees = [...]` as the statement's one passage.
pub(super) fn front_matter_passage(
    list: Vec<String>,
    first_line: usize,
    last_line: usize,
) -> Passage {
    Passage {
        recognised: Recognised::FrontMatter,
        copies: false,
        first_line,
        last_line,
        text: format!(
            "addressees = [{}]",
            list.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        source: AddresseeSource::List(list),
        line_starts: Vec::new(),
    }
}

/// What the front matter says; every field optional.
#[derive(Debug, Default)]
pub(super) struct FrontMatter {
    pub(super) title: Option<String>,
    pub(super) date: Option<NaiveDate>,
    /// The names, and the first and last lines of the key.
    pub(super) addressees: Option<(Vec<String>, usize, usize)>,
}

/// Reads `+++`-fenced TOML at the very top; returns it and the index of the first line after it.
pub(super) fn front_matter(
    path: &str,
    lines: &[&str],
) -> Result<(FrontMatter, usize), StatementError> {
    if lines.first().map(|l| l.trim()) != Some("+++") {
        return Ok((FrontMatter::default(), 0));
    }
    let invalid = |line: usize, message: String| StatementError::Invalid {
        path: path.to_string(),
        line,
        message,
    };
    let Some(close) = (1..lines.len()).find(|&i| lines[i].trim() == "+++") else {
        return Err(invalid(
            1,
            "the front matter opened by `+++` is never closed by another `+++` line".to_string(),
        ));
    };
    let content = lines[1..close].join("\n");
    let table: toml::Table = toml::from_str(&content).map_err(|e| {
        // Content line k (0-based) is file line k + 2: the opening `+++` is line 1.
        let line = 2 + e.span().map_or(0, |span| {
            content[..span.start.min(content.len())]
                .matches('\n')
                .count()
        });
        invalid(
            line,
            format!("invalid front matter: {}", e.message().trim()),
        )
    })?;
    let key_line = |key: &str| {
        (1..close)
            .find(|&i| {
                let l = lines[i].trim_start();
                l.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
                    || l.strip_prefix(&format!("\"{key}\"")).is_some()
            })
            .map_or(1, |i| i + 1)
    };
    let mut front = FrontMatter::default();
    for (key, value) in &table {
        match (key.as_str(), value) {
            ("title", toml::Value::String(s)) if !s.trim().is_empty() => front.title = Some(collapse_whitespace(s)),
            ("title", _) => return Err(invalid(key_line(key), "front matter `title` must be a non-empty string".to_string())),
            ("date", toml::Value::String(s)) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                Ok(d) => front.date = Some(d),
                Err(_) => {
                    return Err(invalid(
                        key_line(key),
                        format!("front matter date `{s}` is not a date of the form YYYY-MM-DD"),
                    ))
                }
            },
            ("date", toml::Value::Datetime(dt)) => {
                let d = match (dt.date, dt.time) {
                    (Some(d), None) => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()),
                    _ => None,
                };
                match d {
                    Some(d) => front.date = Some(d),
                    None => {
                        return Err(invalid(
                            key_line(key),
                            format!("front matter date `{dt}` is not a date of the form YYYY-MM-DD"),
                        ))
                    }
                }
            }
            ("date", other) => {
                return Err(invalid(
                    key_line(key),
                    format!("front matter date `{other}` is not a date of the form YYYY-MM-DD"),
                ))
            }
            ("addressees", toml::Value::Array(items)) => {
                let mut names = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        toml::Value::String(s) if !s.trim().is_empty() => names.push(s.clone()),
                        other => {
                            return Err(invalid(
                                key_line(key),
                                format!("front matter `addressees` holds `{other}`, not a name"),
                            ))
                        }
                    }
                }
                let first = key_line(key);
                let last = (first..=close)
                    .find(|&n| lines[n - 1].contains(']'))
                    .unwrap_or(first);
                front.addressees = Some((names, first, last));
            }
            ("addressees", _) => {
                return Err(invalid(
                    key_line(key),
                    "front matter `addressees` must be a list of names, e.g. `addressees = [\"Council of Europe\"]`"
                        .to_string(),
                ))
            }
            (other, _) => {
                return Err(invalid(
                    key_line(other),
                    format!("unknown front matter key `{other}` (expected `title`, `date` or `addressees`)"),
                ))
            }
        }
    }
    Ok((front, close + 1))
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;

    #[test]
    fn front_matter_wins_over_detection() {
        let text = "+++\ntitle = \"On “Peace”\"\ndate = \"2021-06-01\"\naddressees = [\"- the Council of Europe\", \"UNESCO\"]\n+++\n"
            .to_string()
            + &with_tail("Sabina Aliyeva\n\n27 May 2021\n\nThis Statement is addressed to the European Union.");
        let s = ok(&text);
        assert_eq!(s.title, "On “Peace”");
        assert_eq!(s.date, date(2021, 6, 1));
        assert!(s.id.as_str().starts_with("2021-06-01-"));
        assert_eq!(list(&s), ["- the Council of Europe", "UNESCO"]);
        assert_eq!(s.paragraphs, ["We call for peace."]);
        // The id covers the front matter too: changing it makes another statement.
        assert_ne!(ok(&text.replace("UNESCO", "UNICEF")).id, s.id);

        let s = ok("+++\ndate = 2021-06-01\n+++\nTitle\n\nBody.");
        assert_eq!((s.title.as_str(), s.date), ("Title", date(2021, 6, 1)));
        let s = ok("+++\ntitle = \"Given\"\n+++\nThe body starts at once.\n\nMore.");
        assert_eq!(s.title, "Given");
        assert_eq!(s.paragraphs, ["The body starts at once.", "More."]);
    }

    #[test]
    fn malformed_front_matter_is_an_error_with_its_line() {
        let cases: &[(&str, &str)] = &[
            (
                "+++\ntitle = \"A\"\ndate = \n+++\nT",
                "statements/s.txt:3: invalid front matter",
            ),
            (
                "+++\ntitle = \"A\"\ndate = \"27 May 2021\"\n+++\nT",
                "statements/s.txt:3: front matter date `27 May 2021` is not a date",
            ),
            (
                "+++\ntitle = \"A\"\n\naddressees = \"UNESCO\"\n+++\nT",
                "statements/s.txt:4: front matter `addressees` must be a list",
            ),
            (
                "+++\ntitel = \"A\"\n+++\nT",
                "statements/s.txt:2: unknown front matter key `titel`",
            ),
            (
                "+++\ntitle = \"A\"\nT",
                "statements/s.txt:1: the front matter opened by `+++` is never closed",
            ),
            (
                "+++\ntitle = 3\n+++\nT",
                "statements/s.txt:2: front matter `title` must be a non-empty string",
            ),
        ];
        for (text, message) in cases {
            let e = err(text);
            assert!(e.starts_with(message), "`{text}`: {e}");
            let crlf = err(&text.replace('\n', "\r\n"));
            assert_eq!(crlf, e, "CRLF changes the error of `{text}`");
        }
    }
}

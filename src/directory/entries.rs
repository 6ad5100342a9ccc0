//! Checking one entry of the recipients folder: its id, names, addresses (parsed into
//! `lettre::Address` here, so an invalid one fails at load time and never at send time; domains
//! to ASCII), language, and values that end up in mail headers.

use std::collections::HashMap;
use std::path::Path;

use lettre::Address;
use toml::Spanned;

use super::load::{Lines, PendingGroupRef, RawGroup, RawOrganization, Validator};
use super::{Group, OrgId, Organization, Origin};

/// The language of an organisation that names none: the templates' fallback.
const DEFAULT_LANGUAGE: &str = "en";

/// ISO 639-1 two-letter codes, sorted for binary search.
const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi",
    "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de",
    "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy",
    "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia",
    "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk",
    "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo",
    "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd",
    "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl",
    "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl",
    "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk",
    "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa",
    "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// Whether a recipient's domain can be reached across the Internet: a name with a dot (`un.example`)
/// or an address literal (`[192.0.2.1]`). The address grammar allows a bare `un`, but in a
/// directory of institutions that is a typo, and the letter would go nowhere.
fn reachable_domain(domain: &str) -> bool {
    if domain.starts_with('[') {
        return true;
    }
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    domain.contains('.') && !domain.starts_with('.') && !domain.contains("..")
}

impl Validator {
    pub(super) fn id(
        &mut self,
        source: usize,
        lines: &Lines<'_>,
        id: &Option<Spanned<String>>,
    ) -> String {
        let Some(id) = id else {
            return String::new();
        };
        if OrgId::new(id.get_ref()).is_none() {
            self.error(
                source,
                Some(lines.line(id.span().start)),
                format!(
                    "`{}` is not a valid id (use a-z, 0-9 and `-`, not at either end)",
                    id.get_ref()
                ),
            );
        }
        id.get_ref().clone()
    }

    pub(super) fn names(
        &mut self,
        source: usize,
        lines: &Lines<'_>,
        kind: &str,
        id: &str,
        name: &Option<Spanned<String>>,
        aliases: &[Spanned<String>],
    ) -> (String, Vec<String>) {
        let check = |v: &mut Validator, s: &Spanned<String>, what: &str| {
            if s.get_ref().trim().is_empty() {
                v.error(
                    source,
                    Some(lines.line(s.span().start)),
                    format!("{kind} `{id}` has an empty {what}"),
                );
            }
            v.no_control(source, lines, s, &format!("the {what} of {kind} `{id}`"));
        };
        if let Some(n) = name {
            check(self, n, "name");
        }
        for a in aliases {
            check(self, a, "alias");
        }
        (
            name.as_ref()
                .map(|n| n.get_ref().clone())
                .unwrap_or_default(),
            aliases.iter().map(|a| a.get_ref().clone()).collect(),
        )
    }

    /// Refuses a value holding a control character: names, contacts and addresses reach the
    /// letters' headers, where a line break would start a header of its own.
    pub(super) fn no_control(
        &mut self,
        source: usize,
        lines: &Lines<'_>,
        value: &Spanned<String>,
        what: &str,
    ) {
        if let Some(problem) = crate::header::control_problem(what, value.get_ref()) {
            self.error(source, Some(lines.line(value.span().start)), problem);
        }
    }

    pub(super) fn addresses(
        &mut self,
        source: usize,
        lines: &Lines<'_>,
        raw: &[Spanned<String>],
        seen: &mut HashMap<String, usize>,
        id: &str,
    ) -> Vec<Address> {
        let mut out = Vec::with_capacity(raw.len());
        for e in raw {
            let line = lines.line(e.span().start);
            let text = e.get_ref();
            match crate::header::parse_address(text) {
                Ok(address) if !reachable_domain(address.domain()) => self.error(
                    source,
                    Some(line),
                    format!("`{text}` is not a valid email address"),
                ),
                Ok(address) => {
                    let key = address.to_string().to_lowercase();
                    if let Some(first) = seen.insert(key, line) {
                        self.error(
                            source,
                            Some(line),
                            format!(
                                "`{text}` is listed twice for organization `{id}` (first on line {first})"
                            ),
                        );
                    } else {
                        out.push(address);
                    }
                }
                Err(reason) => self.error(
                    source,
                    Some(line),
                    format!("`{}` {reason}", crate::header::escaped(text)),
                ),
            }
        }
        out
    }

    pub(super) fn organization(
        &mut self,
        source: usize,
        file: &Path,
        lines: &Lines<'_>,
        line: usize,
        raw: RawOrganization,
        complete: bool,
    ) {
        let id = self.id(source, lines, &raw.id);
        let (name, aliases) =
            self.names(source, lines, "organization", &id, &raw.name, &raw.aliases);
        let mut seen = HashMap::new();
        let emails = self.addresses(source, lines, &raw.emails, &mut seen, &id);
        let cc = self.addresses(source, lines, &raw.cc, &mut seen, &id);
        // A missing `emails` key was already reported; an empty list is its own mistake.
        if complete && raw.emails.is_empty() {
            self.error(
                source,
                Some(line),
                format!("organization `{id}` has no email address"),
            );
        }
        let language = match &raw.language {
            Some(l) => {
                if ISO_639_1.binary_search(&l.get_ref().as_str()).is_err() {
                    self.error(
                        source,
                        Some(lines.line(l.span().start)),
                        format!(
                            "`{}` is not an ISO 639-1 language code (such as `en` or `fr`)",
                            l.get_ref()
                        ),
                    );
                }
                l.get_ref().clone()
            }
            None => DEFAULT_LANGUAGE.to_string(),
        };
        for (value, what) in [(&raw.salutation, "salutation"), (&raw.contact, "contact")] {
            if let Some(value) = value {
                self.no_control(
                    source,
                    lines,
                    value,
                    &format!("the {what} of organization `{id}`"),
                );
            }
        }
        for title in &raw.heads {
            if crate::normalize::name_key(title.get_ref()).is_empty() {
                self.error(
                    source,
                    Some(lines.line(title.span().start)),
                    format!("organization `{id}` has an empty head title"),
                );
            }
        }
        let memberships = raw
            .groups
            .iter()
            .map(|g| PendingGroupRef {
                id: g.get_ref().clone(),
                source,
                line: lines.line(g.span().start),
            })
            .collect();
        self.organizations.push(Organization {
            // An invalid id was reported above; the placeholder only lives until `finish` fails.
            id: OrgId(id),
            name,
            aliases,
            emails,
            cc,
            language,
            salutation: raw.salutation.map(Spanned::into_inner),
            contact: raw.contact.map(Spanned::into_inner),
            heads: raw.heads.into_iter().map(Spanned::into_inner).collect(),
            origin: Origin {
                file: file.to_path_buf(),
                line,
            },
        });
        self.memberships.push(memberships);
        self.org_sources.push(source);
    }

    pub(super) fn group(
        &mut self,
        source: usize,
        file: &Path,
        lines: &Lines<'_>,
        line: usize,
        raw: RawGroup,
    ) {
        let id = self.id(source, lines, &raw.id);
        let (name, aliases) = self.names(source, lines, "group", &id, &raw.name, &raw.aliases);
        self.groups.push(Group {
            id,
            name,
            aliases,
            members: Vec::new(),
            origin: Origin {
                file: file.to_path_buf(),
                line,
            },
        });
        self.group_sources.push(source);
    }
}

#[cfg(test)]
// A failed setup step should fail the test on the spot.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::load::tests::{errors, sources};
    use super::super::*;
    use super::*;

    #[test]
    fn each_problem_is_reported_with_file_line_and_value() {
        // (file text, expected "file:line: message fragment" for each error, in order)
        let cases: &[(&str, &[&str])] = &[
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"\n",
                &["recipients/a.toml:4: not valid TOML"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemail = [\"sg@un.example\"]\nphone = \"1\"\n",
                &[
                    "recipients/a.toml:1: organization is missing the required key `emails`",
                    "recipients/a.toml:4: unknown key `email` in organization",
                    "recipients/a.toml:5: unknown key `phone` in organization",
                ],
            ),
            (
                "[[organisation]]\nid = \"x\"\n",
                &["recipients/a.toml:1: unknown key `organisation` (expected `[[organization]]` or `[[group]]`)"],
            ),
            (
                "[[organization]]\nid = \"UN_SG\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\n",
                &["recipients/a.toml:2: `UN_SG` is not a valid id"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = []\n",
                &["recipients/a.toml:1: organization `un` has no email address"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\n  \"ok@un.example\",\n  \"sg.un.example\",\n]\ncc = [\"a@@b\"]\n",
                &[
                    "recipients/a.toml:6: `sg.un.example` is not a valid email address",
                    "recipients/a.toml:8: `a@@b` is not a valid email address",
                ],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un\", \"ok@[192.0.2.1]\"]\n",
                &["recipients/a.toml:4: `sg@un` is not a valid email address"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\", \"SG@un.example\"]\ncc = [\"sg@un.example\"]\n",
                &[
                    "recipients/a.toml:4: `SG@un.example` is listed twice for organization `un`",
                    "recipients/a.toml:5: `sg@un.example` is listed twice for organization `un`",
                ],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\ngroups = [\n\"nowhere\"]\n",
                &["recipients/a.toml:6: `nowhere` is not the id of any group"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\n\n[[group]]\nid = \"lonely\"\nname = \"Lonely\"\n",
                &["recipients/a.toml:6: group `lonely` has no members"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\nlanguage = \"eng\"\n",
                &["recipients/a.toml:5: `eng` is not an ISO 639-1 language code"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"  \"\naliases = [\"\"]\nemails = [\"sg@un.example\"]\n",
                &[
                    "recipients/a.toml:3: organization `un` has an empty name",
                    "recipients/a.toml:4: organization `un` has an empty alias",
                ],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\nheads = [\"Secretary-General\",\n \" - \"]\n",
                &["recipients/a.toml:6: organization `un` has an empty head title"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\nheads = \"Secretary-General\"\n",
                &["recipients/a.toml:5: invalid type"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = 3\nemails = [\"sg@un.example\"]\n",
                &["recipients/a.toml:3: invalid type"],
            ),
            (
                "organization = \"un\"\n",
                &["recipients/a.toml:1: `organization` must be an array of tables"],
            ),
        ];
        for (text, expected) in cases {
            let got = errors(&[("a.toml", text)]);
            assert_eq!(got.len(), expected.len(), "{text}\n{got:#?}");
            for (g, e) in got.iter().zip(expected.iter()) {
                assert!(g.starts_with(e), "{text}\nexpected {e:?}\n     got {g:?}");
            }
        }
    }

    /// Regression: `name = "Evil Name Org\r\nBcc: evil@x.example"` passed `check`, then panicked
    /// inside lettre's `To:` code at dispatch. Every value that can reach a header is refused at
    /// load, with its line and the value escaped.
    #[test]
    fn control_characters_in_header_bound_values_are_refused() {
        let org = |field: &str| {
            format!("[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\n{field}\n")
        };
        // (file text, expected start of the only message)
        let cases = [
            (
                "[[organization]]\nid = \"un\"\nname = \"Evil Name Org\\r\\nBcc: evil@x.example\"\nemails = [\"sg@un.example\"]\n".to_string(),
                "recipients/a.toml:3: the name of organization `un` `Evil Name Org\\r\\nBcc: evil@x.example` holds a control character",
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"Lone CR\\r\"\nemails = [\"sg@un.example\"]\n".to_string(),
                "recipients/a.toml:3: the name of organization `un` `Lone CR\\r`",
            ),
            (org("aliases = [\"U\\nN\"]"), "recipients/a.toml:5: the alias of organization `un` `U\\nN`"),
            (org("contact = \"Secretary\\nBcc: x@x.example\""), "recipients/a.toml:5: the contact of organization `un`"),
            (org("salutation = \"Excellency\\u001b[2J\""), "recipients/a.toml:5: the salutation of organization `un` `Excellency\\u{1b}[2J`"),
            (org("cc = [\"cc@un.example\\r\\nBcc: x@x.example\"]"), "recipients/a.toml:5: `cc@un.example\\r\\nBcc: x@x.example` holds a control character"),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\ngroups = [\"g\"]\n[[group]]\nid = \"g\"\nname = \"G\\u0007\"\n".to_string(),
                "recipients/a.toml:8: the name of group `g` `G\\u{7}`",
            ),
        ];
        for (text, expected) in cases {
            let got = errors(&[("a.toml", &text)]);
            assert_eq!(got.len(), 1, "{text}\n{got:#?}");
            assert!(
                got[0].starts_with(expected),
                "{text}\nexpected {expected:?}\n     got {:?}",
                got[0]
            );
        }
    }

    /// Regression: `a@bücher.example` passed `check` and failed at send on a server without
    /// SMTPUTF8. Domains are converted to ASCII at load; what cannot be converted is refused.
    #[test]
    fn international_domains_are_converted_to_ascii_or_refused() {
        let text = "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"a@bücher.example\"]\ncc = [\"b@Bücher.example\"]\n";
        let directory = from_sources(&sources(&[("a.toml", text)])).unwrap();
        let org = &directory.organizations[0];
        assert_eq!(org.emails[0].to_string(), "a@xn--bcher-kva.example");
        assert_eq!(org.cc[0].to_string(), "b@xn--bcher-kva.example");
        let got = errors(&[(
            "a.toml",
            "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"a@bü-.example\"]\n",
        )]);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(
            got[0].starts_with("recipients/a.toml:4: `a@bü-.example` has a domain"),
            "{got:?}"
        );
        assert!(got[0].contains("IDNA"), "{got:?}");
    }

    #[test]
    fn language_codes_are_sorted_for_binary_search() {
        assert!(ISO_639_1.windows(2).all(|w| w[0] < w[1]));
    }
}

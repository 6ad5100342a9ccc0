//! Helpers shared by the command suites: the seed's path, an independent computation of a
//! statement id, the shipped directory read straight from its TOML files, and the checks every
//! refused run must pass (exit 2, no panic).

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::support::workspace::{Output, Workspace};

/// The seed statement, relative to a workspace made by `Workspace::new`.
pub(crate) const SEED: &str = "seeds/2021-05-27-kalbajar-statement.txt";

/// A statement id computed the way the README defines it, independently of herald's code:
/// `<date>-<first 8 hex digits of SHA-256 of the normalised text>`, where normalising turns
/// line endings into LF and strips trailing whitespace from each line and from the end.
pub(crate) fn statement_id(date: &str, text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified.lines().map(str::trim_end).collect();
    let normalised = lines.join("\n");
    let normalised = normalised.trim_end();
    let digest = Sha256::digest(normalised.as_bytes());
    format!("{date}-{}", &hex::encode(digest)[..8])
}

/// One organisation as written in `recipients/*.toml`.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) emails: Vec<String>,
    pub(crate) cc: Vec<String>,
}

/// Every organisation of the workspace's `recipients/*.toml`, by id, read with the `toml` crate.
pub(crate) fn directory(ws: &Workspace) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    let folder = ws.path().join("recipients");
    for file in std::fs::read_dir(&folder).expect("recipients folder") {
        let path = file.expect("folder entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let table: toml::Table = read(&path).parse().expect("a shipped recipients file");
        let Some(orgs) = table.get("organization").and_then(|o| o.as_array()) else {
            continue;
        };
        for org in orgs {
            let strings = |key: &str| -> Vec<String> {
                org.get(key)
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .map(|s| s.as_str().expect("a string").to_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let id = org["id"].as_str().expect("id").to_owned();
            let entry = Entry {
                name: org["name"].as_str().expect("name").to_owned(),
                aliases: strings("aliases"),
                emails: strings("emails"),
                cc: strings("cc"),
            };
            assert!(out.insert(id.clone(), entry).is_none(), "`{id}` twice");
        }
    }
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `herald resolve PATH --format json`, whatever its exit status, with its output.
pub(crate) fn resolve_json(ws: &Workspace, statement: &str) -> (Output, serde_json::Value) {
    let output = ws.run(["resolve", statement, "--format", "json"]);
    assert_no_panic(&output);
    let json = output.json();
    (output, json)
}

/// Strings of a JSON array.
pub(crate) fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

#[track_caller]
pub(crate) fn assert_no_panic(output: &Output) {
    assert!(
        !output.stderr.contains("panicked") && !output.stderr.contains("RUST_BACKTRACE"),
        "herald panicked:\n{}",
        output.stderr
    );
}

/// A refused run: exit 2, no panic, and stderr holding every one of `needles`.
#[track_caller]
pub(crate) fn assert_refused(output: &Output, needles: &[&str]) {
    assert_no_panic(output);
    output.assert_code(2);
    for needle in needles {
        assert!(
            output.stderr.contains(needle),
            "stderr does not mention `{needle}`:\n{}",
            output.stderr
        );
    }
}

/// The journal's letters as (statement, organisation, state); empty when there is no journal.
pub(crate) fn letter_states(ws: &Workspace) -> Vec<(String, String, String)> {
    if !ws.data_dir().join("herald.db").exists() {
        return Vec::new();
    }
    let db = ws.journal();
    let Ok(mut query) = db.prepare("SELECT statement_id, organization, state FROM letters") else {
        // A journal without the table holds no letters.
        return Vec::new();
    };
    query
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("read letters")
        .map(|r| r.expect("a row"))
        .collect()
}

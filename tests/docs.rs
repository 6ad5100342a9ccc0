//! `docs/` documents every configuration key, recipients key, template variable and helper,
//! delivery state and journal table and column. The lists come from the code — the loaders'
//! own "expected one of" answers to an unknown key, the template context as serialised, the
//! helpers registered, the states, the schema of a journal the binary wrote — so a key added to
//! the code without its documentation fails here.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::workspace::Workspace;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const SENDER: &str = "[sender]\nname = \"Sender\"\nemail = \"sender@x.example\"\n";
const PROBE: &str = "zz_probe";

fn doc(name: &str) -> String {
    std::fs::read_to_string(Path::new(REPO).join("docs").join(name))
        .unwrap_or_else(|e| panic!("docs/{name}: {e}"))
}

/// The backquoted names after "expected" in a loader's answer to the unknown key `zz_probe`.
fn expected(message: &str) -> Vec<String> {
    let (_, rest) = message
        .split_once("expected")
        .unwrap_or_else(|| panic!("no `expected` in: {message}"));
    let rest = rest.lines().next().unwrap_or_default();
    rest.split('`')
        .skip(1)
        .step_by(2)
        .map(|s| {
            s.trim_start_matches("[[")
                .trim_end_matches("]]")
                .to_string()
        })
        .collect()
}

/// The keys a section of the configuration accepts (`""`: the top level, whose keys are the
/// sections).
fn config_keys(section: &str) -> Vec<String> {
    let text = match section {
        "" => format!("{PROBE} = 1\n{SENDER}"),
        "sender" => format!("[sender]\n{PROBE} = 1\n"),
        _ => format!("{SENDER}[{section}]\n{PROBE} = 1\n"),
    };
    let path = Path::new(REPO).join("config/probe.toml");
    let error = herald::config::Config::parse(&path, &text)
        .err()
        .unwrap_or_else(|| panic!("`{PROBE}` in [{section}] was accepted"))
        .to_string();
    assert!(error.contains(PROBE), "{error}");
    expected(&error)
}

/// The dotted name of every value in the template context (`statement.title`).
fn variables(value: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let serde_json::Value::Object(map) = value {
        for (key, value) in map {
            let name = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if value.is_object() {
                variables(value, &name, out);
            } else {
                out.insert(name);
            }
        }
    }
}

#[track_caller]
fn assert_documented(page: &str, what: &str, names: impl IntoIterator<Item = String>) {
    let text = doc(page);
    let names: Vec<String> = names.into_iter().collect();
    assert!(!names.is_empty(), "no {what} found in the code");
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !text.contains(&format!("`{n}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/{page} does not document these {what}: {missing:?}"
    );
}

#[test]
fn every_key_variable_state_and_column_in_the_code_is_documented() {
    // Configuration: every section, and every key of each.
    let sections = config_keys("");
    assert!(sections.contains(&"sender".to_string()), "{sections:?}");
    let configuration = doc("configuration.md");
    for section in &sections {
        assert!(
            configuration.contains(&format!("## `[{section}]`")),
            "docs/configuration.md has no `[{section}]` section"
        );
        assert_documented(
            "configuration.md",
            &format!("[{section}] keys"),
            config_keys(section),
        );
    }

    // Recipients: every key of an organisation and of a group.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("probe.toml"),
        format!("[[organization]]\n{PROBE} = 1\n\n[[group]]\n{PROBE} = 1\n"),
    )
    .expect("write");
    let error = match herald::directory::load(dir.path()) {
        Ok(_) => panic!("unknown keys were accepted"),
        Err(e) => e.to_string(),
    };
    for kind in ["organization", "group"] {
        let line = error
            .lines()
            .find(|l| l.contains(&format!("`{PROBE}` in {kind}")))
            .unwrap_or_else(|| panic!("no unknown key reported in {kind}: {error}"));
        assert_documented("recipients.md", &format!("{kind} keys"), expected(line));
    }

    // Templates: every variable of the context a letter is rendered with, and every helper.
    let config =
        herald::config::Config::load(&Path::new(REPO).join("config/herald.toml")).expect("config");
    let directory =
        herald::directory::load(&Path::new(REPO).join("recipients")).expect("recipients");
    let seed = "seeds/2021-05-27-kalbajar-statement.txt";
    let text = std::fs::read_to_string(Path::new(REPO).join(seed)).expect("seed");
    let statement = herald::statement::parse(seed, "kalbajar.txt", &text).expect("the seed parses");
    let addressees = vec!["UN Secretary-General".to_string()];
    let facts = herald::letters::StatementFacts::new(&statement);
    let mut data =
        herald::letters::LetterData::new(&statement, &facts, &config.sender, &addressees)
            .expect("the statement's context");
    data.set_organization(&directory.organizations[0])
        .expect("the organisation's context");
    let mut names = BTreeSet::new();
    variables(data.variables(), "", &mut names);
    assert!(names.contains("statement.title"), "{names:?}");
    assert_documented("templates.md", "template variables", names);
    let mut helpers = Vec::new();
    for entry in std::fs::read_dir(Path::new(REPO).join("src/letters")).expect("src/letters") {
        let source = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
        for piece in source.split("register_helper(\"").skip(1) {
            helpers.extend(piece.split('"').next().map(str::to_string));
        }
    }
    assert_documented("templates.md", "helpers", helpers);

    // The journal: every delivery state, and every table and column of a journal herald wrote.
    assert_documented(
        "journal.md",
        "delivery states",
        herald::journal::State::ALL.map(|s| s.as_str().to_string()),
    );
    let ws = Workspace::new();
    ws.run(["dispatch", seed, "--yes"]).assert_success();
    let db = ws.journal();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    let journal = doc("journal.md");
    for table in &tables {
        assert!(
            journal.contains(&format!("### `{table}`")),
            "docs/journal.md has no `{table}` table"
        );
        let columns: Vec<String> = db
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .expect("query")
            .query_map([], |r| r.get(0))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect();
        assert_documented("journal.md", &format!("columns of `{table}`"), columns);
    }
}

/// The README sends its readers to the project's own `docs/`, never to a file that is not in
/// the project.
#[test]
fn the_readme_links_the_docs_and_nothing_outside_the_project() {
    let readme = std::fs::read_to_string(Path::new(REPO).join("README.md")).expect("README");
    assert!(
        !readme.contains("DESIGN.md"),
        "the README points to DESIGN.md"
    );
    for page in [
        "configuration.md",
        "recipients.md",
        "templates.md",
        "journal.md",
    ] {
        assert!(
            readme.contains(&format!("docs/{page}")),
            "the README does not link docs/{page}"
        );
    }
}

//! `herald check`: the shipped configuration, directory and templates pass with the seed; a
//! broken directory, a template using a variable nobody provides, and an unresolved statement
//! are each reported with where the problem is, and exit 2.

use crate::common::{assert_no_panic, assert_refused, SEED};
use crate::faults::{Fixture, Org};
use crate::support::smtp::{Script, SmtpServer};
use crate::support::workspace::Workspace;

#[test]
fn the_shipped_setup_passes_with_and_without_the_seed() {
    let ws = Workspace::new();
    for args in [vec!["check"], vec!["check", SEED]] {
        let output = ws.run(args.clone());
        assert_no_panic(&output);
        output.assert_success();
        assert!(
            !output.stderr.contains("problem"),
            "{args:?}: {}",
            output.stderr
        );
    }
    // Checking writes no journal.
    assert!(!ws.data_dir().join("herald.db").exists());
}

#[test]
fn a_statement_that_does_not_resolve_fails_the_check() {
    let ws = Workspace::new();
    let path = ws.statement(
        "unknown.txt",
        "Statement\n\nText.\n\nThis Statement is addressed to the Northern Federation of Peace \
         Councils.\n\nSabina Aliyeva\n\n27 May 2021\n",
    );
    let output = ws.run(["check", SEED, path.to_str().expect("utf-8 path")]);
    assert_refused(
        &output,
        &["unknown.txt", "Northern Federation of Peace Councils"],
    );
}

#[test]
fn a_broken_config_is_reported_with_its_file() {
    let ws = Workspace::new();
    ws.set("sender", "email", "statements.ombudsman.example");
    let output = ws.run(["check"]);
    assert_refused(
        &output,
        &["config/herald.toml", "`statements.ombudsman.example`"],
    );
}

/// A refused dry run leaves no preview behind.
fn assert_no_previews(ws: &Workspace) {
    let previews = ws.data_dir().join("previews");
    assert!(
        !previews.exists()
            || std::fs::read_dir(&previews)
                .expect("previews")
                .next()
                .is_none(),
        "a refused dry run left previews"
    );
}

/// Appends `line` to a shipped English template.
fn break_template(ws: &Workspace, file: &str, line: &str) {
    let relative = format!("templates/en/{file}");
    let text = ws.read(&relative);
    ws.write(&relative, format!("{text}\n{line}\n"));
}

#[test]
fn a_template_variable_nobody_provides_is_named_with_template_and_organisation() {
    for file in ["letter.txt.hbs", "letter.html.hbs", "subject.hbs"] {
        let ws = Workspace::new();
        break_template(&ws, file, "{{organization.nonexistent}}");
        let output = ws.run(["check"]);
        // Every English letter fails; UNESCO writes in English.
        assert_refused(
            &output,
            &[
                &format!("templates/en/{file}"),
                "`unesco`",
                "organization.nonexistent",
            ],
        );
        assert!(
            !output.stderr.contains("Some("),
            "a debug representation leaked into the message:\n{}",
            output.stderr
        );
    }
}

#[test]
fn dispatch_refuses_a_template_that_check_rejects_and_sends_nothing() {
    let server = SmtpServer::start(Script::new());
    let ws = Workspace::new();
    ws.smtp(server.port());
    break_template(&ws, "letter.txt.hbs", "{{statement.nonexistent}}");
    let output = ws.run(["dispatch", SEED, "--yes"]);
    assert_refused(&output, &["letter.txt.hbs", "statement.nonexistent"]);
    assert_eq!(server.messages().len(), 0);
    assert!(
        !ws.data_dir().join("herald.db").exists()
            || crate::common::letter_states(&ws)
                .iter()
                .all(|(_, _, state)| state == "pending"),
        "{:?}",
        crate::common::letter_states(&ws)
    );
}

#[test]
fn a_dry_run_refuses_a_template_that_fails_for_some_organisations_and_leaves_no_preview() {
    let ws = Workspace::new();
    // Only the English letters fail; the French ones render, and must not be left behind.
    break_template(&ws, "letter.html.hbs", "{{organization.nonexistent}}");
    let output = ws.run(["dispatch", SEED, "--dry-run"]);
    assert_refused(
        &output,
        &[
            "letters cannot be rendered, so none was sent",
            "templates/en/letter.html.hbs",
            "`unesco`",
            "organization.nonexistent",
        ],
    );
    assert_no_previews(&ws);
}

#[test]
fn run_where_there_is_no_configuration_herald_says_how_to_name_one() {
    // Regression: run outside the repository, herald only said "No such file or directory".
    let ws = Workspace::empty();
    for command in ["check", "status", "history"] {
        let output = ws.run([command]);
        assert_refused(
            &output,
            &["config/herald.toml", "--config PATH", "HERALD_CONFIG"],
        );
    }
}

/// Letters are rendered on every core, a few dozen at a time: failures far apart in a large
/// directory are all reported, in the order of the letters, and nothing is sent or left behind.
#[test]
fn render_failures_across_a_large_directory_are_all_listed_in_order() {
    let orgs: Vec<Org> = (0..300).map(Org::numbered).collect();
    let fixture = Fixture::new(orgs);
    let server = SmtpServer::start(Script::new());
    fixture.ws.smtp(server.port());
    // Three letters in different shares of 64 fail; the other 297 render.
    let failing = ["org-250", "org-140", "org-70"];
    for id in failing {
        break_template(
            &fixture.ws,
            "letter.txt.hbs",
            &format!("{{{{#if (eq organization.id \"{id}\")}}}}{{{{organization.nonexistent}}}}{{{{/if}}}}"),
        );
    }
    let statement = fixture.statement.to_str().expect("utf-8 path");
    for args in [
        vec!["dispatch", statement, "--dry-run"],
        vec!["dispatch", statement, "--yes"],
    ] {
        let output = fixture.ws.run(args.clone());
        assert_refused(
            &output,
            &["3 of 300 letters cannot be rendered, so none was sent"],
        );
        let at = |id: &str| {
            output
                .stderr
                .find(&format!("`{id}`"))
                .unwrap_or_else(|| panic!("{args:?}: `{id}` is not listed:\n{}", output.stderr))
        };
        assert!(
            at("org-70") < at("org-140") && at("org-140") < at("org-250"),
            "{args:?}: not in letter order:\n{}",
            output.stderr
        );
    }
    assert_eq!(server.messages().len(), 0);
    assert_no_previews(&fixture.ws);
}

/// A dry run of a large directory, rendered on every core a few dozen letters at a time, writes
/// every letter once and lists them in the index in the order of the letters.
#[test]
fn a_large_dry_run_writes_every_letter_and_indexes_them_in_order() {
    let orgs: Vec<Org> = (0..300).map(Org::numbered).collect();
    let fixture = Fixture::new(orgs.clone());
    let out = fixture.ws.path().join("preview");
    let output = fixture.ws.run([
        "dispatch",
        fixture.statement.to_str().expect("utf-8 path"),
        "--dry-run",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_no_panic(&output);
    output.assert_success();
    let emls = std::fs::read_dir(&out)
        .expect("preview folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
        })
        .count();
    assert_eq!(emls, orgs.len());
    let index = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    let positions: Vec<usize> = orgs
        .iter()
        .map(|org| {
            index
                .find(&format!("href=\"{}.eml\"", org.id))
                .unwrap_or_else(|| panic!("index.html lacks {}", org.id))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "the index is not in the order of the letters"
    );
}

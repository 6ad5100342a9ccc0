//! Finding the addressee passage on the real binary: a sentence about an earlier document never
//! competes with the real passage, two passages that disagree are refused with both lines named
//! (front matter settles it), an undated statement is not dispatched without `--allow-undated`,
//! and a slashed date that reads two ways follows `[statement] date_order`.

use serde_json::Value;

use crate::common::{assert_no_panic, assert_refused, letter_states};
use crate::support::workspace::Workspace;

/// The organisations `resolve --format json` would write to.
fn letters(json: &Value) -> Vec<String> {
    json["letters"]
        .as_array()
        .expect("letters")
        .iter()
        .map(|l| l["organization"].as_str().expect("organization").to_owned())
        .collect()
}

fn resolve(ws: &Workspace, path: &std::path::Path) -> (crate::support::workspace::Output, Value) {
    let output = ws.run([
        "resolve",
        path.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ]);
    assert_no_panic(&output);
    let json = if output.stdout.trim().is_empty() {
        Value::Null
    } else {
        output.json()
    };
    (output, json)
}

/// Regression: the sentence about an earlier appeal was taken as the addressee sentence, the
/// letters went to the Council of Europe and the OSCE, and the real addressees were missed.
#[test]
fn a_sentence_about_an_earlier_appeal_does_not_compete_with_the_real_passage() {
    let ws = Workspace::new();
    let path = ws.statement(
        "appeal.txt",
        "Appeal on the children of missing persons\n\
         \n\
         Our previous appeal was addressed to the Council of Europe and the OSCE. Applications\n\
         addressed to the Commissioner by families have doubled since.\n\
         \n\
         This appeal is sent to UNICEF and the International\n\
         Ombudsman Institute.\n\
         \n\
         The letter we sent last year to the OSCE remained unanswered.\n\
         \n\
         Sabina Aliyeva\n\
         \n\
         3 June 2022\n",
    );
    let (output, json) = resolve(&ws, &path);
    output.assert_success();
    assert_eq!(
        letters(&json),
        ["unicef", "international-ombudsman-institute"]
    );
    assert_eq!(json["statement"]["date"], "2022-06-03");
    assert_eq!(json["statement"]["signatory"], "Sabina Aliyeva");
    let passages = json["passages"].as_array().expect("passages");
    assert_eq!(passages.len(), 1, "{passages:#?}");
    assert_eq!(passages[0]["lines"], serde_json::json!([6, 7]));
    assert_eq!(
        passages[0]["text"],
        "This appeal is sent to UNICEF and the International Ombudsman Institute."
    );
    let lines: Vec<&Value> = json["addressees"]
        .as_array()
        .expect("addressees")
        .iter()
        .map(|a| &a["line"])
        .collect();
    assert_eq!(lines, [6, 6]);

    let text = ws.run(["resolve", path.to_str().expect("utf-8 path")]);
    text.assert_success();
    assert!(
        text.stdout
            .contains("Passage    lines 6–7 (document): This appeal is sent to UNICEF"),
        "{}",
        text.stdout
    );
}

const TWO_PASSAGES: &str = "Appeal on the mine victims of Aghdam\n\
\n\
This appeal is addressed to the UN Secretary-General and the UN Security Council.\n\
\n\
Mines planted during the occupation have killed and injured hundreds of civilians.\n\
\n\
Addressees:\n\
- European Union\n\
- Council of Europe\n\
\n\
Sabina Aliyeva\n\
\n\
10 October 2022\n";

#[test]
fn two_passages_naming_different_institutions_are_refused_with_both_lines() {
    let ws = Workspace::new();
    let path = ws.statement("two.txt", TWO_PASSAGES);
    let (output, _) = resolve(&ws, &path);
    assert_refused(
        &output,
        &[
            "two.txt",
            "two passages name different addressees",
            "line 3: This appeal is addressed to the UN Secretary-General",
            "line 7: Addressees:",
            "front matter `addressees = [...]`",
        ],
    );
    let output = ws.run(["dispatch", path.to_str().expect("utf-8 path"), "--yes"]);
    assert_refused(&output, &["line 3", "line 7"]);
    assert!(letter_states(&ws).is_empty(), "nothing may be registered");

    // Two passages naming the same institutions in other words agree.
    let agreeing = TWO_PASSAGES.replace(
        "- European Union\n- Council of Europe",
        "- Secretary-General of the United Nations\n- United Nations Security Council",
    );
    let path = ws.statement("agreeing.txt", &agreeing);
    let (output, json) = resolve(&ws, &path);
    output.assert_success();
    assert_eq!(
        letters(&json),
        ["un-secretary-general", "un-security-council"]
    );
}

#[test]
fn front_matter_settles_two_passages_that_disagree() {
    let ws = Workspace::new();
    let text = format!(
        "+++\naddressees = [\"European Union\", \"Council of Europe\"]\n+++\n{TWO_PASSAGES}"
    );
    let path = ws.statement("settled.txt", &text);
    let (output, json) = resolve(&ws, &path);
    output.assert_success();
    assert_eq!(letters(&json), ["european-union", "council-of-europe"]);
    let passages = json["passages"].as_array().expect("passages");
    assert_eq!(passages.len(), 1, "{passages:#?}");
    assert_eq!(passages[0]["kind"], "front matter");
    assert_eq!(passages[0]["lines"], serde_json::json!([2, 2]));
}

#[test]
fn copies_add_to_the_addressees_rather_than_compete_with_them() {
    let ws = Workspace::new();
    let path = ws.statement(
        "copies.txt",
        "Statement on heritage\n\
         \n\
         La présente déclaration est adressée à l'UNESCO et à l'OSCE.\n\
         \n\
         Copies of this statement are being sent to UNICEF.\n\
         \n\
         Copy to: Council of Europe\n\
         \n\
         Sabina Aliyeva\n\
         \n\
         le 20 novembre 2021\n",
    );
    let (output, json) = resolve(&ws, &path);
    output.assert_success();
    assert_eq!(
        letters(&json),
        ["unesco", "osce", "unicef", "council-of-europe"]
    );
    assert_eq!(json["statement"]["date"], "2021-11-20");
    let kinds: Vec<(&Value, &Value)> = json["passages"]
        .as_array()
        .expect("passages")
        .iter()
        .map(|p| (&p["kind"], &p["copies"]))
        .collect();
    assert_eq!(
        kinds,
        [
            (&Value::from("document"), &Value::from(false)),
            (&Value::from("document"), &Value::from(true)),
            (&Value::from("heading"), &Value::from(true)),
        ]
    );
}

const UNDATED: &str = "Statement on peace\n\
\n\
We call for peace.\n\
\n\
This Statement is addressed to UNESCO and the Council of Europe.\n\
\n\
Sabina Aliyeva\n";

#[test]
fn an_undated_statement_is_dispatched_only_with_allow_undated() {
    let ws = Workspace::new();
    let path = ws.statement("undated.txt", UNDATED);
    let shown = path.to_str().expect("utf-8 path");

    // resolve shows it, undated.
    let (output, json) = resolve(&ws, &path);
    output.assert_success();
    assert_eq!(json["statement"]["date"], Value::Null);
    assert!(json["statement"]["id"]
        .as_str()
        .expect("id")
        .starts_with("undated-"));

    for args in [
        vec!["dispatch", shown, "--yes"],
        vec!["dispatch", shown, "--dry-run"],
    ] {
        let output = ws.run(args.clone());
        assert_refused(
            &output,
            &[
                "undated.txt",
                "the statement has no date",
                "--allow-undated",
            ],
        );
        assert!(
            letter_states(&ws).is_empty(),
            "{args:?}: nothing may be registered"
        );
    }
    let output = ws.run(["check", shown]);
    assert_refused(&output, &["the statement has no date"]);

    let output = ws.run(["dispatch", shown, "--yes", "--allow-undated"]);
    assert_no_panic(&output);
    output.assert_success();
    let states = letter_states(&ws);
    assert_eq!(states.len(), 2, "{states:?}");
    assert!(states
        .iter()
        .all(|(id, _, state)| id.starts_with("undated-") && state == "sent"));

    // A date in front matter is a date.
    let dated = format!("+++\ndate = 2022-03-01\n+++\n{UNDATED}");
    let path = ws.statement("dated.txt", &dated);
    let output = ws.run(["dispatch", path.to_str().expect("utf-8 path"), "--yes"]);
    output.assert_success();
}

#[test]
fn a_slashed_date_that_reads_two_ways_follows_date_order_and_check_says_so() {
    let ws = Workspace::new();
    let path = ws.statement(
        "slashed.txt",
        "Statement on peace\n\nWe call for peace.\n\nSabina Aliyeva\n06/05/2022\n\n\
         This Statement is addressed to UNESCO.\n",
    );
    let shown = path.to_str().expect("utf-8 path");
    let (output, json) = resolve(&ws, &path);
    output.assert_success();
    assert_eq!(json["statement"]["date"], "2022-05-06");
    assert_eq!(
        json["statement"]["date_reading"],
        "`06/05/2022` read as day/month/year ([statement] date_order = \"dmy\")"
    );
    let check = ws.run(["check", shown]);
    check.assert_success();
    assert!(
        check.stdout.contains("`06/05/2022` read as day/month/year"),
        "{}",
        check.stdout
    );

    ws.set("statement", "date_order", "mdy");
    let (output, json) = resolve(&ws, &path);
    output.assert_success();
    assert_eq!(json["statement"]["date"], "2022-06-05");
    assert!(json["statement"]["id"]
        .as_str()
        .expect("id")
        .starts_with("2022-06-05-"));
    let check = ws.run(["check", shown]);
    assert!(
        check
            .stdout
            .contains("`06/05/2022` read as month/day/year ([statement] date_order = \"mdy\")"),
        "{}",
        check.stdout
    );

    // A date that reads one way only is read that way, whatever the order.
    let path = ws.statement(
        "one-way.txt",
        "Statement\n\nText.\n\nSabina Aliyeva\n30/07/2022\n\nThis Statement is addressed to UNESCO.\n",
    );
    let (output, json) = resolve(&ws, &path);
    output.assert_success();
    assert_eq!(json["statement"]["date"], "2022-07-30");
    assert_eq!(json["statement"].get("date_reading"), None);

    ws.set("statement", "date_order", "ydm");
    let output = ws.run(["resolve", shown]);
    assert_refused(
        &output,
        &["herald.toml", "date_order `ydm`", "`dmy`, `mdy`, `ymd`"],
    );
}

#[test]
fn the_daemon_rejects_an_undated_statement_with_the_same_message() {
    let ws = Workspace::new();
    ws.set("daemon", "poll_secs", 1)
        .set("daemon", "settle_millis", 200);
    let inbox = ws.data_dir().join("inbox");
    std::fs::create_dir_all(&inbox).expect("create the inbox");
    let staged = ws.write("staging/undated.txt", UNDATED);
    let mut daemon = ws.herald(["daemon"]).spawn();
    std::fs::rename(&staged, inbox.join("undated.txt")).expect("rename into the inbox");

    let error_file = ws.data_dir().join("rejected/undated.txt.error.txt");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(45);
    while !error_file.is_file() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {}",
            error_file.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    daemon.terminate();
    let output = daemon.wait();
    assert_no_panic(&output);
    let error = std::fs::read_to_string(&error_file).expect("error file");
    assert!(error.contains("the statement has no date"), "{error}");
    assert!(error.contains("date = 2021-05-27"), "{error}");
    assert!(letter_states(&ws).is_empty(), "nothing may be registered");
}

/// Regression: a dateline with a day that does not exist ("31/02/2024") was taken as the
/// signatory, the statement as undated, and with `--allow-undated` the letter was signed
/// "31/02/2024". It is refused, naming the line and the value.
#[test]
fn an_impossible_date_is_refused_with_its_line() {
    let ws = Workspace::new();
    let path = ws.statement(
        "impossible.txt",
        "Statement on the displaced\n\nA paragraph.\n\nThis statement is addressed to UNICEF.\n\n\
         Sabina Aliyeva\nBaku, 31/02/2024\n",
    );
    let path = path.to_str().expect("utf-8 path");
    for args in [
        vec!["resolve", path],
        vec!["dispatch", path, "--dry-run", "--allow-undated"],
    ] {
        let output = ws.run(args);
        output.assert_code(2);
        assert!(
            output
                .stderr
                .contains("impossible.txt:8: `31/02/2024` is not a date"),
            "{}",
            output.stderr
        );
    }
}

//! `herald resolve` on the seed and on statements written here: its documented JSON contract,
//! the text table, unresolved phrases with suggestions, the list form, front matter, and the
//! statement id's independence from line endings.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::common::{assert_no_panic, directory, resolve_json, statement_id, strings, SEED};
use crate::support::workspace::Workspace;

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Each phrase with the organisations it resolved to.
fn phrases(json: &Value) -> BTreeMap<String, Vec<String>> {
    json["addressees"]
        .as_array()
        .expect("addressees")
        .iter()
        .map(|a| {
            (
                a["phrase"].as_str().expect("phrase").to_owned(),
                strings(&a["organizations"]),
            )
        })
        .collect()
}

fn letter_orgs(json: &Value) -> Vec<String> {
    json["letters"]
        .as_array()
        .expect("letters")
        .iter()
        .map(|l| l["organization"].as_str().expect("organization").to_owned())
        .collect()
}

#[test]
fn the_seed_resolves_to_the_json_of_the_design() {
    let ws = Workspace::new();
    let (output, json) = resolve_json(&ws, SEED);
    output.assert_success();

    // The documented fields, and those added since (never removed).
    assert_eq!(
        keys(&json),
        set(&["statement", "passages", "addressees", "letters"])
    );
    let statement = &json["statement"];
    assert_eq!(keys(statement), set(&["id", "title", "date", "signatory"]));
    let passages = json["passages"].as_array().expect("passages");
    assert_eq!(passages.len(), 1, "{passages:#?}");
    let last_line = ws.read(SEED).trim_end().lines().count();
    assert_eq!(
        passages[0]["lines"],
        serde_json::json!([last_line, last_line])
    );
    assert_eq!(passages[0]["kind"], "document");
    assert!(passages[0]["text"]
        .as_str()
        .expect("text")
        .starts_with("This Statement is addressed to the UN Secretary-General,"));
    let text = ws.read(SEED);
    assert_eq!(statement["id"], statement_id("2021-05-27", &text).as_str());
    let first_line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .expect("a title");
    assert_eq!(statement["title"], first_line.trim());
    assert_eq!(statement["date"], "2021-05-27");
    assert_eq!(statement["signatory"], "Sabina Aliyeva");

    let addressees = json["addressees"].as_array().expect("addressees");
    assert_eq!(addressees.len(), 22, "{addressees:#?}");
    for a in addressees {
        let k = keys(a);
        assert!(k.contains("phrase") && k.contains("organizations"), "{a}");
        assert!(
            set(&["phrase", "organizations", "line", "passage"]).is_subset(&k),
            "{a}"
        );
        assert_eq!(a["line"], last_line, "{a}");
        assert_eq!(a["passage"], 0, "{a}");
        assert!(!strings(&a["organizations"]).is_empty(), "unresolved: {a}");
        assert!(strings(a.get("suggestions").unwrap_or(&Value::Array(vec![]))).is_empty());
    }
}

#[test]
fn seed_phrases_split_on_separators_but_not_inside_known_names() {
    let ws = Workspace::new();
    let (_, json) = resolve_json(&ws, SEED);
    let phrases = phrases(&json);
    let one = |phrase: &str, org: &str| {
        assert_eq!(
            phrases.get(phrase),
            Some(&vec![org.to_owned()]),
            "phrase `{phrase}` in {phrases:#?}"
        );
    };
    // A comma and an "and" inside one name.
    one(
        "United Nations Educational, Scientific and Cultural Organization",
        "unesco",
    );
    // "… Cooperation and the Ombudsman Association …": two addressees.
    one("Organization of Islamic Cooperation", "oic");
    one(
        "Ombudsman Association of its member states",
        "oic-ombudsman-association",
    );
    one(
        "Organization for Security and Co-operation in Europe",
        "osce",
    );
    one("UN Secretary-General", "un-secretary-general");
    // The last one, after "as well as to the", is a group.
    let diaspora = phrases
        .get("Azerbaijani Diasporas")
        .unwrap_or_else(|| panic!("{phrases:#?}"));
    assert!(diaspora.len() >= 3, "{diaspora:?}");
    // No phrase keeps a separator word or a leading article.
    for phrase in phrases.keys() {
        let lower = phrase.to_lowercase();
        assert!(
            !lower.starts_with("the ") && !lower.starts_with("to ") && !lower.starts_with("and "),
            "`{phrase}`"
        );
        assert!(!lower.contains("as well as"), "`{phrase}`");
        assert_eq!(phrase.trim(), phrase, "`{phrase}` has stray whitespace");
    }
}

#[test]
fn seed_letters_go_once_to_every_resolved_organisation_with_its_addresses() {
    let ws = Workspace::new();
    let (_, json) = resolve_json(&ws, SEED);
    let named: BTreeSet<String> = phrases(&json).into_values().flatten().collect();
    let letters = letter_orgs(&json);
    let unique: BTreeSet<String> = letters.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        letters.len(),
        "an organisation twice: {letters:?}"
    );
    assert_eq!(unique, named, "letters and addressees disagree");
    // Several phrases name the same organisation (groups overlap), so there are fewer letters
    // than organisations counted with repetition.
    let counted: usize = phrases(&json).values().map(Vec::len).sum();
    assert!(
        letters.len() < counted,
        "{} letters, {counted} named",
        letters.len()
    );

    let shipped = directory(&ws);
    for letter in json["letters"].as_array().expect("letters") {
        assert_eq!(keys(letter), set(&["organization", "to", "cc"]));
        let org = letter["organization"].as_str().expect("organization");
        let entry = shipped
            .get(org)
            .unwrap_or_else(|| panic!("`{org}` is not in recipients/"));
        assert_eq!(strings(&letter["to"]), entry.emails, "{org}");
        assert_eq!(strings(&letter["cc"]), entry.cc, "{org}");
        for address in strings(&letter["to"]).iter().chain(&strings(&letter["cc"])) {
            assert!(address.ends_with(".example"), "{org}: `{address}`");
        }
    }
}

#[test]
fn the_text_format_is_a_table_of_phrases_organisations_and_addresses() {
    let ws = Workspace::new();
    let (_, json) = resolve_json(&ws, SEED);
    let output = ws.run(["resolve", SEED]);
    output.assert_success();
    let out = &output.stdout;
    assert!(
        out.contains(json["statement"]["id"].as_str().expect("id")),
        "{out}"
    );
    assert!(out.contains("Sabina Aliyeva"), "{out}");
    for (phrase, orgs) in phrases(&json) {
        assert!(out.contains(&phrase), "`{phrase}` missing:\n{out}");
        for org in orgs {
            assert!(out.contains(&org), "`{org}` missing:\n{out}");
        }
    }
    for letter in json["letters"].as_array().expect("letters") {
        for address in strings(&letter["to"]) {
            assert!(out.contains(&address), "`{address}` missing:\n{out}");
        }
    }
    // Not JSON: a table for people.
    assert!(serde_json::from_str::<Value>(out).is_err());
}

const UNRESOLVED: &str = "\
Statement on the protection of civilians

The Commissioner calls for restraint.

This Statement is addressed to the Council of Europe, the Northern Federation of Peace Councils, \
the UN Secrtary-General and the OSCE Office for Democratic Institutions and Human Rights.

Sabina Aliyeva
The Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan

3 June 2021
";

#[test]
fn unknown_and_misspelt_addressees_exit_2_with_suggestions_and_the_report() {
    let ws = Workspace::new();
    let path = ws.statement("unresolved.txt", UNRESOLVED);
    let (output, json) = resolve_json(&ws, path.to_str().expect("utf-8 path"));
    output.assert_code(2);
    let phrases = phrases(&json);
    assert_eq!(phrases.len(), 4, "{phrases:#?}");
    assert_eq!(phrases["Council of Europe"], ["council-of-europe"]);

    let find = |needle: &str| -> &Value {
        json["addressees"]
            .as_array()
            .expect("addressees")
            .iter()
            .find(|a| a["phrase"].as_str().expect("phrase").contains(needle))
            .unwrap_or_else(|| panic!("no phrase with `{needle}`: {json:#}"))
    };
    for needle in [
        "Northern Federation of Peace Councils",
        "UN Secrtary-General",
        "OSCE Office for Democratic Institutions and Human Rights",
    ] {
        let entry = find(needle);
        assert_eq!(
            strings(&entry["organizations"]),
            Vec::<String>::new(),
            "{entry}"
        );
        assert!(
            output.stderr.contains(needle),
            "stderr misses `{needle}`:\n{}",
            output.stderr
        );
    }
    // The near miss is offered the organisation it almost names, on stdout and stderr, by the
    // name or alias it came closest to.
    let suggestions = strings(&find("UN Secrtary-General")["suggestions"]);
    assert!(suggestions.len() <= 3, "{suggestions:?}");
    let entry = &directory(&ws)["un-secretary-general"];
    let secretary_general = suggestions
        .iter()
        .find(|s| **s == entry.name || entry.aliases.contains(s))
        .unwrap_or_else(|| panic!("{suggestions:?}"));
    assert!(
        output.stderr.contains(secretary_general.as_str()),
        "{}",
        output.stderr
    );

    // A sub-office never falls back to the organisation whose name it contains.
    let orgs = letter_orgs(&json);
    assert!(!orgs.contains(&"osce".to_owned()), "{orgs:?}");
    assert_eq!(orgs, ["council-of-europe"]);

    // The text report comes out too, with the same status.
    let text = ws.run(["resolve", path.to_str().expect("utf-8 path")]);
    assert_no_panic(&text);
    text.assert_code(2);
    assert!(text.stdout.contains("Council of Europe"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains("Northern Federation of Peace Councils"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_sub_office_named_alone_is_unresolved_and_never_its_parent() {
    let ws = Workspace::new();
    let path = ws.statement(
        "odihr.txt",
        "Statement\n\nText.\n\nThis Statement is addressed to the OSCE Office for Democratic \
         Institutions and Human Rights.\n\nSabina Aliyeva\n\n3 June 2021\n",
    );
    let (output, json) = resolve_json(&ws, path.to_str().expect("utf-8 path"));
    output.assert_code(2);
    assert_eq!(json["letters"], Value::Array(vec![]), "{json:#}");
    let all: Vec<String> = phrases(&json).into_values().flatten().collect();
    assert!(all.is_empty(), "{all:?}");
}

#[test]
fn an_addressees_list_resolves_like_the_sentence() {
    let ws = Workspace::new();
    let path = ws.statement(
        "list.txt",
        "Statement on the Kalbajar district\n\nThe Commissioner protests.\n\nSabina Aliyeva\n\n\
         27.05.2021\n\nAddressees:\n- UNESCO\n* the Council of Europe\n• UN Security Council\n\
         4. Organisation of Islamic Cooperation\n",
    );
    let (output, json) = resolve_json(&ws, path.to_str().expect("utf-8 path"));
    output.assert_success();
    assert_eq!(json["statement"]["date"], "2021-05-27");
    let mut orgs = letter_orgs(&json);
    orgs.sort();
    assert_eq!(
        orgs,
        ["council-of-europe", "oic", "un-security-council", "unesco"]
    );
    assert_eq!(phrases(&json).len(), 4, "{json:#}");
}

#[test]
fn other_wordings_of_the_addressee_sentence_are_found() {
    let ws = Workspace::new();
    for (n, sentence) in [
        "This appeal is addressed to UNICEF and UNHCR.",
        "The statement is also addressed to UNICEF, as well as to UNHCR.",
        "THIS STATEMENT IS ADDRESSED TO the United Nations Children's Fund; the UNHCR.",
    ]
    .iter()
    .enumerate()
    {
        let path = ws.statement(
            &format!("wording-{n}.txt"),
            &format!("Appeal\n\nBody.\n\n{sentence}\n\nSabina Aliyeva\n\nMay 27, 2021\n"),
        );
        let (output, json) = resolve_json(&ws, path.to_str().expect("utf-8 path"));
        output.assert_success();
        let mut orgs = letter_orgs(&json);
        orgs.sort();
        assert_eq!(orgs, ["unhcr", "unicef"], "{sentence}");
    }
}

#[test]
fn front_matter_wins_over_detection() {
    let ws = Workspace::new();
    let path = ws.statement(
        "front.txt",
        "+++\ntitle = \"On the Kalbajar provocation\"\ndate = \"2021-06-01\"\n\
         addressees = [\"UNESCO\", \"European Union\"]\n+++\nA first line that is not the title\n\n\
         Body.\n\nThis Statement is addressed to the Council of Europe.\n\nSabina Aliyeva\n\n\
         27 May 2021\n",
    );
    let (output, json) = resolve_json(&ws, path.to_str().expect("utf-8 path"));
    output.assert_success();
    assert_eq!(json["statement"]["title"], "On the Kalbajar provocation");
    assert_eq!(json["statement"]["date"], "2021-06-01");
    assert!(
        json["statement"]["id"]
            .as_str()
            .expect("id")
            .starts_with("2021-06-01-"),
        "{json:#}"
    );
    let mut orgs = letter_orgs(&json);
    orgs.sort();
    assert_eq!(orgs, ["european-union", "unesco"]);
}

#[test]
fn a_crlf_copy_of_the_seed_is_the_same_statement() {
    let ws = Workspace::new();
    let (_, lf) = resolve_json(&ws, SEED);
    let text = ws.read(SEED);
    assert!(!text.contains('\r'), "the seed is stored with LF");
    let crlf = ws.statement("seed-crlf.txt", &text.replace('\n', "\r\n"));
    let padded = ws.statement(
        "seed-padded.txt",
        &format!("{}  \n\n", text.replace('\n', " \n")),
    );
    for copy in [crlf, padded] {
        let (output, json) = resolve_json(&ws, copy.to_str().expect("utf-8 path"));
        output.assert_success();
        assert_eq!(json["statement"], lf["statement"], "{}", copy.display());
        assert_eq!(json["letters"], lf["letters"], "{}", copy.display());
    }
    // A change of wording is a new statement.
    let edited = ws.statement("seed-edited.txt", &text.replacen("protest", "condemn", 1));
    let (_, json) = resolve_json(&ws, edited.to_str().expect("utf-8 path"));
    assert_ne!(json["statement"]["id"], lf["statement"]["id"]);
}

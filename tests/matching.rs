//! Matching addressee phrases as a clerk reads them, on the shipped directory: "Name (ACRONYM)"
//! pairs, heads, sub-bodies refused with the parent suggested, diacritics, French articles,
//! Russian and Azerbaijani inflected aliases, the rule shown for each phrase; letters in
//! Azerbaijani and Russian; `check` naming who falls back to English; refusals on a directory
//! of 100,000 organisations.

use serde_json::Value;

use crate::common::{assert_no_panic, resolve_json, strings, SEED};
use crate::support::workspace::Workspace;

/// A statement whose front matter names `addressees` (so that the phrases are exactly these).
fn statement(ws: &Workspace, name: &str, addressees: &[&str]) -> String {
    let list: Vec<String> = addressees
        .iter()
        .map(|a| format!("\"{}\"", a.replace('"', "\\\"")))
        .collect();
    let text = format!(
        "+++\naddressees = [{}]\n+++\nStatement on the protection of civilians\n\n\
         The Commissioner calls for restraint.\n\nSabina Aliyeva\n\n3 June 2021\n",
        list.join(", ")
    );
    ws.statement(name, &text)
        .to_str()
        .expect("utf-8 path")
        .to_owned()
}

/// The JSON entry of the phrase `phrase`.
fn entry<'a>(json: &'a Value, phrase: &str) -> &'a Value {
    json["addressees"]
        .as_array()
        .expect("addressees")
        .iter()
        .find(|a| a["phrase"] == phrase)
        .unwrap_or_else(|| panic!("no phrase `{phrase}`: {json:#}"))
}

/// Each phrase resolves to these organisations by this rule.
#[track_caller]
fn assert_resolved(json: &Value, cases: &[(&str, &str, &str)]) {
    for (phrase, org, rule) in cases {
        let e = entry(json, phrase);
        assert_eq!(strings(&e["organizations"]), [*org], "{e}");
        assert_eq!(e["rule"], *rule, "{e}");
        assert!(e.get("reason").is_none(), "{e}");
    }
}

#[test]
fn acronym_pairs_resolve_when_they_agree_and_are_refused_when_they_do_not() {
    let ws = Workspace::new();
    let path = statement(
        &ws,
        "pairs.txt",
        &[
            "United Nations Children’s Fund (UNICEF)",
            "OSCE (Organization for Security and Co-operation in Europe)",
            "Public Defender of Georgia (PDO)",
            "Council of Europe (OSCE)",
            "Human Rights Committee (OHCHR)",
        ],
    );
    let (output, json) = resolve_json(&ws, &path);
    output.assert_code(2);
    assert_resolved(
        &json,
        &[
            (
                "United Nations Children’s Fund (UNICEF)",
                "unicef",
                "name (acronym)",
            ),
            (
                "OSCE (Organization for Security and Co-operation in Europe)",
                "osce",
                "name (acronym)",
            ),
            (
                "Public Defender of Georgia (PDO)",
                "georgia-public-defender",
                "name (acronym)",
            ),
        ],
    );
    // Two parts naming two organisations: refused, saying which, both suggested.
    let disagree = entry(&json, "Council of Europe (OSCE)");
    assert_eq!(strings(&disagree["organizations"]), Vec::<String>::new());
    let reason = disagree["reason"].as_str().expect("a reason");
    assert!(reason.contains("two different"), "{reason}");
    let suggested = strings(&disagree["suggestions"]);
    assert!(
        suggested.contains(&"Conseil de l'Europe".to_owned()),
        "{suggested:?}"
    );
    assert!(
        suggested.contains(&"Organization for Security and Co-operation in Europe".to_owned()),
        "{suggested:?}"
    );
    // An unknown committee with a known acronym in brackets: not that organisation, but offered.
    let committee = entry(&json, "Human Rights Committee (OHCHR)");
    assert_eq!(strings(&committee["organizations"]), Vec::<String>::new());
    assert_eq!(
        strings(&committee["suggestions"])
            .first()
            .map(String::as_str),
        Some("Office of the United Nations High Commissioner for Human Rights")
    );
    let letters: Vec<&str> = json["letters"]
        .as_array()
        .expect("letters")
        .iter()
        .map(|l| l["organization"].as_str().expect("id"))
        .collect();
    assert_eq!(letters, ["unicef", "osce", "georgia-public-defender"]);
    assert!(
        output.stderr.contains("Council of Europe (OSCE)")
            && output.stderr.contains("two different"),
        "{}",
        output.stderr
    );
}

#[test]
fn heads_resolve_to_their_organisation_and_sub_bodies_only_suggest_it() {
    let ws = Workspace::new();
    let path = statement(
        &ws,
        "heads.txt",
        &[
            "Secretary-General of the OIC",
            "the Director-General of UNESCO",
            "Генеральный директор ЮНЕСКО",
            "BMT-nin Baş Katibinə",
            "UNESCO Regional Office for Europe",
            "Committee of Ministers of the Council of Europe",
        ],
    );
    let (output, json) = resolve_json(&ws, &path);
    output.assert_code(2);
    assert_resolved(
        &json,
        &[
            ("Secretary-General of the OIC", "oic", "head"),
            ("Director-General of UNESCO", "unesco", "head"),
            ("Генеральный директор ЮНЕСКО", "unesco", "head"),
            ("BMT-nin Baş Katibinə", "un-secretary-general", "alias"),
        ],
    );
    for (phrase, parent) in [
        (
            "UNESCO Regional Office for Europe",
            "United Nations Educational, Scientific and Cultural Organization",
        ),
        (
            "Committee of Ministers of the Council of Europe",
            "Conseil de l'Europe",
        ),
    ] {
        let e = entry(&json, phrase);
        assert_eq!(strings(&e["organizations"]), Vec::<String>::new(), "{e}");
        assert_eq!(
            strings(&e["suggestions"]).first().map(String::as_str),
            Some(parent),
            "{e}"
        );
        assert!(
            e["reason"].as_str().expect("a reason").contains(parent),
            "{e}"
        );
    }
    let letters = json["letters"].as_array().expect("letters");
    assert_eq!(letters.len(), 3, "{json:#}");
    assert!(!letters
        .iter()
        .any(|l| l["organization"] == "council-of-europe"));
}

#[test]
fn diacritics_articles_and_inflected_aliases_resolve() {
    let ws = Workspace::new();
    let path = statement(
        &ws,
        "languages.txt",
        &[
            "Ombudsman Institution of the Republic of Turkiye",
            "au Conseil de l’Europe",
            "à l'UNESCO",
            "aux institutions nationales des droits de l'homme",
            "Совету Безопасности ООН",
            "Генеральному секретарю ООН",
            "Avropa Şurasına",
            "ATƏT-ə",
        ],
    );
    let (output, json) = resolve_json(&ws, &path);
    output.assert_success();
    assert_resolved(
        &json,
        &[
            (
                "Ombudsman Institution of the Republic of Turkiye",
                "turkiye-ombudsman-institution",
                "name",
            ),
            ("au Conseil de l’Europe", "council-of-europe", "name"),
            ("à l'UNESCO", "unesco", "acronym"),
            ("Совету Безопасности ООН", "un-security-council", "alias"),
            (
                "Генеральному секретарю ООН",
                "un-secretary-general",
                "alias",
            ),
            ("Avropa Şurasına", "council-of-europe", "alias"),
            ("ATƏT-ə", "osce", "acronym"),
        ],
    );
    let group = entry(&json, "aux institutions nationales des droits de l'homme");
    assert_eq!(group["rule"], "group", "{group}");
    assert!(strings(&group["organizations"]).len() >= 3, "{group}");

    // The text report shows the same evidence.
    let text = ws.run(["resolve", &path]);
    text.assert_success();
    assert!(
        text.stdout
            .contains("Совету Безопасности ООН  [alias `Совету Безопасности ООН`]"),
        "{}",
        text.stdout
    );
}

#[test]
fn the_seed_shows_a_rule_for_every_phrase_in_resolve_and_the_dry_run_index() {
    let ws = Workspace::new();
    let (output, json) = resolve_json(&ws, SEED);
    output.assert_success();
    for a in json["addressees"].as_array().expect("addressees") {
        let rule = a["rule"].as_str().unwrap_or_else(|| panic!("no rule: {a}"));
        assert!(
            [
                "name",
                "alias",
                "acronym",
                "head",
                "group",
                "name (acronym)"
            ]
            .contains(&rule),
            "{a}"
        );
        assert!(a["matched"].as_str().is_some_and(|m| !m.is_empty()), "{a}");
    }
    assert_eq!(json["letters"].as_array().map(Vec::len), Some(42));
    let out = ws.path().join("previews");
    let run = ws.run([
        "dispatch",
        SEED,
        "--dry-run",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    run.assert_success();
    let index = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    assert!(index.contains("<th>Rule</th>"), "{index}");
    assert!(
        index
            .contains("<td>different ombudsmen</td><td>group &#x60;different ombudsmen&#x60;</td>"),
        "{index}"
    );
}

#[test]
fn organisations_tagged_az_and_ru_get_letters_in_their_language() {
    let ws = Workspace::new();
    let out = ws.path().join("previews");
    let run = ws.run([
        "dispatch",
        SEED,
        "--dry-run",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_no_panic(&run);
    run.assert_success();
    let read = |id: &str| {
        std::fs::read_to_string(out.join(format!("{id}.html")))
            .unwrap_or_else(|e| panic!("{id}: {e}"))
    };
    let az = read("azerbaijan-embassy-france");
    assert!(az.contains("<html lang=\"az\">"), "{az}");
    for words in [
        "Zati-aliləri,",
        "27 may 2021-ci il tarixli",
        "şərəf duyuram",
    ] {
        assert!(az.contains(words), "`{words}` missing:\n{az}");
    }
    let ru = read("russia-embassy-azerbaijan");
    assert!(ru.contains("<html lang=\"ru\">"), "{ru}");
    for words in [
        "Ваше Превосходительство,",
        "от 27 мая 2021 г.",
        "Имею честь препроводить",
    ] {
        assert!(ru.contains(words), "`{words}` missing:\n{ru}");
    }
    // English letters stay English.
    let en = read("unicef");
    assert!(en.contains("I have the honour to transmit"), "{en}");
}

#[test]
fn check_lists_who_falls_back_to_another_language() {
    let ws = Workspace::new();
    let output = ws.run(["check"]);
    output.assert_success();
    let line = |language: &str| {
        output
            .stdout
            .lines()
            .find(|l| l.contains(&format!("no `{language}` templates")))
            .map(str::to_owned)
    };
    let de = line("de").unwrap_or_else(|| panic!("{}", output.stdout));
    assert!(
        de.contains("in `en`") && de.contains("german-institute-for-human-rights"),
        "{de}"
    );
    assert!(
        line("az").is_none() && line("ru").is_none() && line("fr").is_none(),
        "{}",
        output.stdout
    );

    // Without Azerbaijani templates, the embassies that read it are named.
    std::fs::remove_dir_all(ws.path().join("templates/az")).expect("remove templates/az");
    let output = ws.run(["check"]);
    output.assert_success();
    let az = output
        .stdout
        .lines()
        .find(|l| l.contains("no `az` templates"))
        .unwrap_or_else(|| panic!("{}", output.stdout));
    assert!(
        az.contains("in `en`") && az.contains("azerbaijan-embassy-france"),
        "{az}"
    );
}

/// Issue: suggestions searched the whole directory for each refused phrase (100,000
/// organisations × 1,000 unknown phrases = 32 s). Refusals on such a directory complete, each
/// with the suggestion it should have.
#[test]
fn refusals_on_a_directory_of_100000_organisations_complete_with_suggestions() {
    let ws = Workspace::new();
    let n = 100_000;
    let mut toml = String::with_capacity(n * 160);
    for i in 1..=n {
        toml.push_str(&format!(
            "[[organization]]\nid = \"region-{i}\"\nname = \"Commission on Human Rights of Region {i}\"\nemails = [\"office@region-{i}.example\"]\n\n"
        ));
    }
    ws.recipients("large.toml", &toml);
    let typos: Vec<String> = (1..=n)
        .step_by(n / 200)
        .map(|i| format!("Comission on Human Rigths of Region {i}"))
        .collect();
    let phrases: Vec<&str> = typos.iter().map(String::as_str).collect();
    let path = statement(&ws, "typos.txt", &phrases);
    let (output, json) = resolve_json(&ws, &path);
    output.assert_code(2);
    let all = json["addressees"].as_array().expect("addressees");
    assert_eq!(all.len(), typos.len());
    for (a, typo) in all.iter().zip(&typos) {
        let meant = typo
            .replace("Comission", "Commission")
            .replace("Rigths", "Rights");
        assert_eq!(strings(&a["suggestions"]).first(), Some(&meant), "{a}");
    }
}

/// Regression: "UNHCR and the Organization for Security and Co-operation in Europe (OSCE)" was
/// read as one "Name (ACRONYM)" whose name part was close enough to the OSCE's, so UNHCR got no
/// letter and the dispatch went ahead. A list before a bracketed acronym is split, in English
/// and French; a name part that joins more than the entry's own name is never that entry.
#[test]
fn a_list_ending_in_name_and_acronym_names_every_institution() {
    let ws = Workspace::new();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "en-osce.txt",
            "We address this appeal to the UN Secretary-General, UNHCR and the Organization for \
             Security and Co-operation in Europe (OSCE).",
            &["un-secretary-general", "unhcr", "osce"],
        ),
        (
            "en-eu.txt",
            "We address this appeal to UNICEF and the European Union (EU).",
            &["unicef", "european-union"],
        ),
        (
            "fr-osce.txt",
            "Nous adressons le présent appel à l'UNICEF et à l'Organisation pour la sécurité et \
             la coopération en Europe (OSCE).",
            &["unicef", "osce"],
        ),
    ];
    for (name, passage, expected) in cases {
        let text = format!(
            "Appeal on the displaced\n\nA paragraph of the body.\n\n{passage}\n\nSabina Aliyeva\n\n\
             27 May 2021\n"
        );
        let path = ws.statement(name, &text);
        let (output, json) = resolve_json(&ws, path.to_str().expect("utf-8 path"));
        output.assert_success();
        let letters: Vec<String> = json["letters"]
            .as_array()
            .expect("letters")
            .iter()
            .map(|l| l["organization"].as_str().expect("id").to_owned())
            .collect();
        assert_eq!(letters, *expected, "{passage}\n{json:#}");
    }
}

/// A refusal names each refused phrase with its line, why, what is near, and what to do.
#[test]
fn a_refusal_names_the_line_of_each_refused_phrase_and_what_to_do() {
    let ws = Workspace::new();
    let path = ws.statement(
        "refused.txt",
        "Title\n\nBody.\n\nThis Statement is addressed to the UN Secretary-General,\nthe UNESCO \
         Regional Office for Europe and the Northern Council of Peace.\n\nSabina Aliyeva\n\n\
         27 May 2021\n",
    );
    let output = ws.run(["dispatch", path.to_str().expect("utf-8 path"), "--dry-run"]);
    assert_no_panic(&output);
    output.assert_code(2);
    for expected in [
        "line 6: `UNESCO Regional Office for Europe`: names a part",
        "line 6: `Northern Council of Peace`",
        "add the institution",
    ] {
        assert!(
            output.stderr.contains(expected),
            "{expected}\n{}",
            output.stderr
        );
    }
}

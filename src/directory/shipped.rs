//! Checks of the shipped `recipients/` folder, which `herald init` copies into every new
//! workspace: it loads, uses only reserved `*.example` domains, and its names and salutations
//! fit each addressee and language.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::path::Path;

use super::*;

#[test]
fn the_shipped_recipients_load_and_use_only_example_domains() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipients");
    let d = match load(&dir) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    assert!(d.len() >= 20);
    for o in &d.organizations {
        for a in o.emails.iter().chain(&o.cc) {
            assert!(a.domain().ends_with(".example"), "{}: {a}", o.origin);
        }
    }
    // Every addressee phrase of the seed statement, and the entry it must name.
    let seed_phrases = [
        ("UN Secretary-General", "un-secretary-general"),
        ("UN Security Council", "un-security-council"),
        ("UN Office of High Commissioner for Human Rights", "ohchr"),
        ("UN Office of High Commissioner for Refugees", "unhcr"),
        ("UN Human Rights Council", "un-human-rights-council"),
        ("United Nations Children’s Fund", "unicef"),
        ("United Nations Educational, Scientific and Cultural Organization", "unesco"),
        ("European Union", "european-union"),
        ("Council of Europe", "council-of-europe"),
        ("Organization for Security and Co-operation in Europe", "osce"),
        ("International and European Ombudsman Institutions", "international-european-ombudsman-institutions"),
        ("Asian Ombudsman Association", "asian-ombudsman-association"),
        ("Organization of Islamic Cooperation", "oic"),
        ("Ombudsman Association of its member states", "oic-ombudsman-association"),
        ("Independent Permanent Human Rights Commission of the Organization of Islamic Cooperation", "oic-iphrc"),
        ("European Network of Ombudspersons for Children", "enoc"),
        ("International Peace Bureau", "international-peace-bureau"),
        ("different ombudsmen", "ombudsman-institutions"),
        ("national human rights institutions", "national-human-rights-institutions"),
        ("embassies of the Republic of Azerbaijan in foreign countries", "azerbaijan-embassies-abroad"),
        ("foreign embassies in Azerbaijan", "foreign-embassies-in-azerbaijan"),
        ("Azerbaijani Diasporas", "azerbaijani-diaspora"),
    ];
    for (phrase, id) in seed_phrases {
        let found = match d.lookup(phrase) {
            Some(Entry::Organization(i)) => Some(d.organizations[i].id.as_str()),
            Some(Entry::Group(i)) => Some(d.groups[i].id.as_str()),
            None => None,
        };
        assert_eq!(found, Some(id), "{phrase}");
    }
    for g in &d.groups {
        // The seed's collective addressees come with at least three sample members each.
        let collective = [
            "ombudsman-institutions",
            "national-human-rights-institutions",
            "azerbaijan-embassies-abroad",
            "foreign-embassies-in-azerbaijan",
            "azerbaijani-diaspora",
        ];
        let needed = if collective.contains(&g.id.as_str()) {
            3
        } else {
            2
        };
        assert!(
            g.members.len() >= needed,
            "group `{}`: {:?}",
            g.id,
            g.members
        );
    }
}

/// Statements in French, Russian and Azerbaijani name the same institutions: every shipped
/// entry carries names in each, with the inflected Russian and Azerbaijani forms a statement
/// uses (at least two of each, nominative and dative), and its heads resolve.
#[test]
fn the_shipped_entries_have_french_russian_and_azerbaijani_names() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipients");
    let d = match load(&dir) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let french = |n: &String| {
        [
            " de ",
            " des ",
            " du ",
            " pour ",
            " la ",
            "l'",
            "é",
            "è",
            "ï",
            "médiateurs",
        ]
        .iter()
        .any(|w| n.contains(w))
    };
    let russian = |n: &String| n.chars().any(|c| ('а'..='я').contains(&c));
    let azerbaijani = |n: &String| n.chars().any(|c| "əƏıİşŞğĞçÇ".contains(c));
    let entries = d
        .organizations
        .iter()
        .map(|o| (o.id.as_str(), &o.name, &o.aliases))
        .chain(
            d.groups
                .iter()
                .map(|g| (g.id.as_str(), &g.name, &g.aliases)),
        );
    for (id, name, aliases) in entries {
        let names: Vec<&String> = std::iter::once(name).chain(aliases).collect();
        let count = |test: &dyn Fn(&String) -> bool| names.iter().filter(|n| test(n)).count();
        assert!(count(&french) >= 1, "{id}: no French name");
        assert!(count(&russian) >= 2, "{id}: Russian");
        assert!(count(&azerbaijani) >= 2, "{id}: Azerbaijani");
    }
    let heads = [
        ("Secretary-General of the OIC", "oic"),
        ("Генеральному секретарю Совета Европы", "council-of-europe"),
        ("Directrice générale de l'UNESCO", "unesco"),
        ("ATƏT-in Baş Katibinə", "osce"),
    ];
    for (phrase, id) in heads {
        let found = resolve::lookup_phrase(&d, phrase);
        let Some(Entry::Organization(i)) = found else {
            panic!("{phrase}: {found:?}");
        };
        assert_eq!(d.organizations[i].id.as_str(), id, "{phrase}");
    }
}

/// Regression: the OIC's Secretary General got "Dear Sir or Madam" while the UN's got
/// "Excellency", and French entries carried English names and salutations.
#[test]
fn the_shipped_salutations_fit_the_addressee_and_the_language() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipients");
    let d = match load(&dir) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let english = ["Excellency", "Dear Sir or Madam"];
    for (i, o) in d.organizations.iter().enumerate() {
        let salutation = o.salutation.as_deref().unwrap_or_default();
        if o.language == "fr" {
            assert!(!english.contains(&salutation), "{}: {salutation}", o.id);
        }
        // Ambassadors and heads of intergovernmental organisations are Excellencies.
        let contact = o.contact.as_deref().unwrap_or_default();
        let excellency = contact.starts_with("Ambassad")
            || contact.starts_with("His Majesty's Ambassador")
            || d.groups
                .iter()
                .any(|g| g.id.ends_with("embassies-abroad") && g.members.contains(&i));
        if excellency {
            let expected = if o.language == "fr" {
                "Excellence"
            } else {
                "Excellency"
            };
            assert_eq!(salutation, expected, "{}", o.id);
        }
    }
    let cases = [
        ("oic", "Excellency"),
        ("un-secretary-general", "Excellency"),
        ("osce", "Excellency"),
        ("oic-ombudsman-association", "Dear Sir or Madam"),
        ("france-embassy-azerbaijan", "Excellence"),
        ("council-of-europe", "Madame la Secrétaire Générale"),
        ("france-cncdh", "Monsieur le Président"),
    ];
    for (id, expected) in cases {
        let o = d.organizations.iter().find(|o| o.id.as_str() == id);
        assert_eq!(
            o.and_then(|o| o.salutation.as_deref()),
            Some(expected),
            "{id}"
        );
    }
    for (id, name) in [
        (
            "france-embassy-azerbaijan",
            "Ambassade de France en Azerbaïdjan",
        ),
        ("council-of-europe", "Conseil de l'Europe"),
    ] {
        let o = d.organizations.iter().find(|o| o.id.as_str() == id);
        assert_eq!(o.map(|o| o.name.as_str()), Some(name), "{id}");
    }
}

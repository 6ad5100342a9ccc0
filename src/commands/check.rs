//! `herald check [STATEMENT…]`: validates the configuration, the recipients directory and the
//! templates (each rendered once for every organisation), and resolves the statements given.
//! Every problem found is reported, not only the first; exit 2 if there was any.

use std::path::Path;

use std::collections::BTreeMap;

use crate::cli::CheckArgs;
use crate::directory::{self, Directory};
use crate::error::{Error, Result};
use crate::letters::Templates;
use crate::plan;

pub(crate) fn run(config_path: &Path, args: CheckArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    println!("config      {}: ok", config.path.display());

    let mut problems = 0usize;
    let directory = match directory::load(&config.recipients_dir) {
        Ok(d) => {
            println!(
                "directory   {}: {} organisations, {} groups",
                config.recipients_dir.display(),
                d.organizations.len(),
                d.groups.len()
            );
            Some(d)
        }
        Err(e) => {
            problems += e.0.len();
            eprintln!("herald: {e}");
            None
        }
    };

    let templates = match Templates::load(&config.templates_dir) {
        Ok(t) => Some(t),
        Err(e) => {
            problems += 1;
            eprintln!("herald: {e}");
            None
        }
    };
    if let (Some(templates), Some(directory)) = (&templates, &directory) {
        for line in fallbacks(templates, directory) {
            println!("fallback    {line}");
        }
        match templates.check(directory, &config.sender, None) {
            Ok(()) => println!(
                "templates   {}: every template renders for all {} organisations",
                config.templates_dir.display(),
                directory.organizations.len()
            ),
            Err(e) => {
                problems += 1;
                eprintln!("herald: {e}");
            }
        }
    }

    for path in &args.statements {
        let Some(directory) = &directory else { break };
        match plan::plan(directory, path) {
            Ok(plan) => {
                let letters = plan.resolution.letters.len();
                println!(
                    "statement   {}: {}, {} addressee phrases, {letters} letters",
                    path.display(),
                    plan.statement.id,
                    plan.resolution.phrases.len()
                );
                // Not a problem (a correction is legitimate), but nobody should be surprised.
                let orgs = plan.organization_ids(directory);
                for earlier in super::already_received(&config, &plan.statement, &orgs)? {
                    println!("note        {}", earlier.warning());
                }
                if let Some(templates) = &templates {
                    if let Err(e) =
                        templates.check(directory, &config.sender, Some(&plan.statement))
                    {
                        problems += 1;
                        eprintln!("herald: {e}");
                    }
                }
            }
            Err(e) => {
                problems += 1;
                eprintln!("herald: {e}");
            }
        }
    }

    if problems == 0 {
        println!("all checks passed");
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "check found {problems} problem{}",
            if problems == 1 { "" } else { "s" }
        )))
    }
}

/// Organisations listed in the report of a language without templates, before "and N more".
const FALLBACK_SHOWN: usize = 8;

/// One line per language that has no templates of its own: the language its organisations'
/// letters are written in instead, and which organisations they are. Not a problem — English is
/// the documented fallback — but an office should know who gets a letter in another language.
fn fallbacks(templates: &Templates, directory: &Directory) -> Vec<String> {
    let mut missing: BTreeMap<&str, (&str, Vec<&str>)> = BTreeMap::new();
    for org in &directory.organizations {
        let used = templates.language_for(&org.language);
        if used != org.language {
            missing
                .entry(org.language.as_str())
                .or_insert((used, Vec::new()))
                .1
                .push(org.id.as_str());
        }
    }
    missing
        .into_iter()
        .map(|(language, (used, ids))| {
            let n = ids.len();
            let mut shown = ids[..n.min(FALLBACK_SHOWN)].join(", ");
            if n > FALLBACK_SHOWN {
                shown.push_str(&format!(" and {} more", n - FALLBACK_SHOWN));
            }
            format!(
                "no `{language}` templates: {n} organisation{} get{} letters in `{used}`: {shown}",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
            )
        })
        .collect()
}

//! `herald check [STATEMENT…]`: validates the configuration, the recipients directory and the
//! templates (each rendered once for every organisation), and resolves the statements given.
//! Every problem found is reported, not only the first; exit 2 if there was any.

use std::path::Path;

use crate::cli::CheckArgs;
use crate::directory;
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
        match plan::plan(
            directory,
            path,
            plan::Reading {
                date_order: config.statement.date_order,
                allow_undated: false,
            },
        ) {
            Ok(plan) => {
                let letters = plan.resolution.letters.len();
                println!(
                    "statement   {}: {}, {} addressee phrases, {letters} letters",
                    path.display(),
                    plan.statement.id,
                    plan.resolution.phrases.len()
                );
                if let Some(reading) = &plan.statement.date_reading {
                    println!("date        {}: {reading}", path.display());
                }
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

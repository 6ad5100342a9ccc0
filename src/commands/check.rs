//! `herald check [STATEMENT…]`: validates the configuration, the recipients directory and the
//! templates (each rendered once for every organisation), and resolves the statements given.
//! Every problem found is reported, not only the first; exit 2 if there was any.

use std::path::Path;

use super::output::{errln, outln};
use crate::cli::CheckArgs;
use crate::directory;
use crate::error::{Error, Result};
use crate::letters::{LetterError, Templates};
use crate::plan;

pub(crate) fn run(config_path: &Path, args: CheckArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    outln!("config      {}: ok", config.path.display());

    let mut problems = 0usize;
    let missing = |folder| super::missing_folders(&config, &[folder]).pop();
    let recipients_missing = missing(super::Folder::Recipients);
    let templates_missing = missing(super::Folder::Templates);
    let loaded = match recipients_missing {
        Some(why) => Err((1, why)),
        None => directory::load(&config.recipients_dir).map_err(|e| (e.0.len(), e.to_string())),
    };
    let directory = match loaded {
        Ok(d) => {
            outln!(
                "directory   {}: {} organisations, {} groups",
                config.recipients_dir.display(),
                d.organizations.len(),
                d.groups.len()
            );
            Some(d)
        }
        Err((n, e)) => {
            problems += n;
            errln!("herald: {e}");
            None
        }
    };

    let templates = match templates_missing.map_or_else(
        || Templates::load(&config.templates_dir).map_err(|e| e.to_string()),
        Err,
    ) {
        Ok(t) => Some(t),
        Err(e) => {
            problems += 1;
            errln!("herald: {e}");
            None
        }
    };
    if let (Some(templates), Some(directory)) = (&templates, &directory) {
        match templates.check(directory, &config.sender, None) {
            Ok(()) => outln!(
                "templates   {}: every template renders for all {} organisations",
                config.templates_dir.display(),
                directory.organizations.len()
            ),
            Err(e) => problems += report(e),
        }
    }

    for path in &args.statements {
        let Some(directory) = &directory else { break };
        match plan::plan(directory, path) {
            Ok(plan) => {
                let letters = plan.resolution.letters.len();
                outln!(
                    "statement   {}: {}, {} addressee phrases, {letters} letters",
                    path.display(),
                    plan.statement.id,
                    plan.resolution.phrases.len()
                );
                // Not a problem (a correction is legitimate), but nobody should be surprised.
                let orgs = plan.organization_ids(directory);
                for earlier in super::already_received(&config, &plan.statement, &orgs)? {
                    outln!("note        {}", earlier.warning());
                }
                if let Some(templates) = &templates {
                    if let Err(e) =
                        templates.check(directory, &config.sender, Some(&plan.statement))
                    {
                        problems += report(e);
                    }
                }
            }
            Err(e) => {
                problems += 1;
                errln!("herald: {e}");
            }
        }
    }

    if problems == 0 {
        outln!("all checks passed");
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "check found {problems} problem{}",
            if problems == 1 { "" } else { "s" }
        )))
    }
}

/// Prints template problems, each distinct one once (the same mistake in every letter is one
/// line saying how many letters); returns how many lines that made, the count `check` reports.
fn report(e: LetterError) -> usize {
    let lines = crate::error::grouped(vec![e]);
    for line in &lines {
        errln!("herald: {line}");
    }
    lines.len()
}

//! `herald resolve STATEMENT [--format text|json]`: what a statement's addressees resolve to and
//! which letters would go out. Prints the whole picture even when some phrases are not found, then
//! exits 2 naming them, so the user sees every problem at once.

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use super::output::{out, outln, shown};
use crate::cli::{OutputFormat, ResolveArgs};
use crate::directory::resolve::ResolvedPhrase;
use crate::directory::{self, Directory};
use crate::error::{Error, Result};
use crate::journal::AlreadyReceived;
use crate::plan::{self, Plan};

#[derive(Serialize)]
struct Report<'a> {
    statement: StatementJson<'a>,
    addressees: &'a [ResolvedPhrase],
    letters: Vec<LetterJson<'a>>,
    /// Earlier versions of this statement (same title, or same date and file name) that some of
    /// these organisations already received: they would receive this one again. Absent when
    /// there is none, so the usual output keeps the shape DESIGN.md gives.
    #[serde(skip_serializing_if = "<[AlreadyReceived]>::is_empty")]
    already_received: &'a [AlreadyReceived],
}

#[derive(Serialize)]
struct StatementJson<'a> {
    id: &'a str,
    title: &'a str,
    date: Option<String>,
    signatory: Option<&'a str>,
}

#[derive(Serialize)]
struct LetterJson<'a> {
    organization: &'a str,
    to: Vec<String>,
    cc: Vec<String>,
}

pub(crate) fn run(config_path: &Path, args: ResolveArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    super::require_folders(&config, &[super::Folder::Recipients])?;
    let directory = directory::load(&config.recipients_dir)?;
    let shown = args.statement.display().to_string();
    let statement = plan::read_statement(&args.statement, config.statement.max_bytes)?;
    let plan = plan::resolve(&directory, statement, &shown)?;
    let orgs = plan.organization_ids(&directory);
    let earlier = super::already_received(&config, &plan.statement, &orgs)?;

    match args.format {
        OutputFormat::Json => {
            let json = serde_json::to_string_pretty(&report(&plan, &directory, &earlier))
                .map_err(|e| Error::Usage(format!("cannot encode the report: {e}")))?;
            outln!("{json}");
        }
        OutputFormat::Text => {
            let mut text = String::new();
            // Writing into a String cannot fail.
            let _ = write_text(&mut text, &plan, &directory);
            for e in &earlier {
                let _ = writeln!(text, "\nnote: {}", e.warning());
            }
            out!("{text}");
        }
    }
    plan.resolution.require_complete(&shown)?;
    Ok(())
}

fn report<'a>(
    plan: &'a Plan,
    directory: &'a Directory,
    already_received: &'a [AlreadyReceived],
) -> Report<'a> {
    let s = &plan.statement;
    Report {
        statement: StatementJson {
            id: s.id.as_str(),
            title: &s.title,
            date: s.date.map(|d| d.format("%Y-%m-%d").to_string()),
            signatory: s.signatory.as_deref(),
        },
        addressees: &plan.resolution.phrases,
        letters: plan
            .resolution
            .letters
            .iter()
            .map(|&i| {
                let org = &directory.organizations[i];
                LetterJson {
                    organization: org.id.as_str(),
                    to: org.emails.iter().map(ToString::to_string).collect(),
                    cc: org.cc.iter().map(ToString::to_string).collect(),
                }
            })
            .collect(),
        already_received,
    }
}

fn write_text(out: &mut impl Write, plan: &Plan, directory: &Directory) -> std::fmt::Result {
    let s = &plan.statement;
    let r = &plan.resolution;
    writeln!(out, "Statement  {}", s.id)?;
    writeln!(out, "Title      {}", shown(&s.title))?;
    writeln!(
        out,
        "Date       {}",
        s.date.map_or_else(
            || "(none found)".to_string(),
            |d| d.format("%-d %B %Y").to_string()
        )
    )?;
    match (&s.signatory, &s.signatory_title) {
        (Some(name), Some(title)) => writeln!(out, "Signatory  {}, {}", shown(name), shown(title))?,
        (Some(name), None) => writeln!(out, "Signatory  {}", shown(name))?,
        _ => writeln!(out, "Signatory  (none found)")?,
    }
    let unresolved = r.unresolved().count();
    writeln!(out)?;
    writeln!(
        out,
        "Addressees: {} phrase{}, {} resolved, {} not found",
        r.phrases.len(),
        plural(r.phrases.len()),
        r.phrases.len() - unresolved,
        unresolved
    )?;
    for p in &r.phrases {
        match p.evidence() {
            Some(evidence) => writeln!(out, "  {}  [{}]", shown(&p.phrase), shown(&evidence))?,
            None => writeln!(out, "  {}", shown(&p.phrase))?,
        }
        if p.organizations.is_empty() {
            let hint = if p.suggestions.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = p
                    .suggestions
                    .iter()
                    .map(|s| format!("`{}`", shown(s)))
                    .collect();
                format!(" — did you mean {}?", names.join(", "))
            };
            let reason = p
                .reason
                .as_deref()
                .unwrap_or("not found in the recipients directory");
            writeln!(out, "      ✗ {reason}{hint}")?;
        }
        for id in &p.organizations {
            let name = directory.organization(id).map_or("", |o| o.name.as_str());
            writeln!(out, "      → {}  {}", shown(id.as_str()), shown(name))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "Letters: {} (one per organisation)", r.letters.len())?;
    let width = r
        .letters
        .iter()
        .map(|&i| directory.organizations[i].id.as_str().len())
        .max()
        .unwrap_or(0);
    for &i in &r.letters {
        let org = &directory.organizations[i];
        let to: Vec<String> = org.emails.iter().map(ToString::to_string).collect();
        let mut line = format!("  {:width$}  to {}", org.id.as_str(), to.join(", "));
        if !org.cc.is_empty() {
            let cc: Vec<String> = org.cc.iter().map(ToString::to_string).collect();
            line.push_str(&format!("; cc {}", cc.join(", ")));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

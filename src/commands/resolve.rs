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
    /// The passages the addressees were taken from: where they stand and what they say.
    passages: Vec<PassageJson<'a>>,
    addressees: Vec<PhraseJson<'a>>,
    letters: Vec<LetterJson<'a>>,
    /// Earlier versions of this statement (same title, or same date and file name) that some of
    /// these organisations already received: they would receive this one again. Absent when
    /// there is none, so the usual output is unchanged by it.
    #[serde(skip_serializing_if = "<[AlreadyReceived]>::is_empty")]
    already_received: &'a [AlreadyReceived],
}

#[derive(Serialize)]
struct StatementJson<'a> {
    id: &'a str,
    title: &'a str,
    date: Option<String>,
    signatory: Option<&'a str>,
    /// How a date that reads two ways (`06/05/2022`) was read; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    date_reading: Option<String>,
}

#[derive(Serialize)]
struct PassageJson<'a> {
    /// First and last line in the file.
    lines: [usize; 2],
    /// `document` ("This statement is addressed to …"), `author` ("We address this statement
    /// to …"), `heading` ("Addressees:"), `title` ("Open letter to …") or `front matter`.
    kind: &'static str,
    /// Copies and additions ("Copy to:", "… is also sent to …").
    copies: bool,
    text: &'a str,
}

/// A resolved addressee phrase in the JSON output, with where it stands in the file.
#[derive(Serialize)]
struct PhraseJson<'a> {
    #[serde(flatten)]
    phrase: &'a ResolvedPhrase,
    /// Its line in the file.
    line: usize,
    /// Index into `passages`.
    passage: usize,
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
    let statement = plan::read_statement(
        &args.statement,
        config.statement.max_bytes,
        config.statement.date_order,
    )?;
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
    plan.resolution.require_complete_at(
        &shown,
        &plan.origins.iter().map(|o| o.line).collect::<Vec<_>>(),
    )?;
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
            date_reading: s.date_reading.as_ref().map(ToString::to_string),
        },
        passages: plan
            .passages
            .iter()
            .map(|&i| {
                let p = &s.passages[i];
                PassageJson {
                    lines: [p.first_line, p.last_line],
                    kind: p.recognised.as_str(),
                    copies: p.copies,
                    text: &p.text,
                }
            })
            .collect(),
        addressees: plan
            .resolution
            .phrases
            .iter()
            .zip(&plan.origins)
            .map(|(phrase, origin)| PhraseJson {
                phrase,
                line: origin.line,
                passage: plan
                    .passages
                    .iter()
                    .position(|&p| p == origin.passage)
                    .unwrap_or(0),
            })
            .collect(),
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
    if let Some(reading) = &s.date_reading {
        writeln!(out, "           {reading}")?;
    }
    if s.date.is_none() {
        writeln!(
            out,
            "           (dispatch refuses an undated statement unless --allow-undated)"
        )?;
    }
    let unresolved = r.unresolved().count();
    writeln!(out)?;
    for &i in &plan.passages {
        let p = &s.passages[i];
        let lines = if p.first_line == p.last_line {
            format!("line {}", p.first_line)
        } else {
            format!("lines {}–{}", p.first_line, p.last_line)
        };
        let copies = if p.copies { ", copies" } else { "" };
        writeln!(
            out,
            "Passage    {lines} ({}{copies}): {}",
            p.recognised.as_str(),
            p.text
        )?;
    }
    writeln!(
        out,
        "Addressees: {} phrase{}, {} resolved, {} not found",
        r.phrases.len(),
        plural(r.phrases.len()),
        r.phrases.len() - unresolved,
        unresolved
    )?;
    for (p, origin) in r.phrases.iter().zip(&plan.origins) {
        match p.evidence() {
            Some(evidence) => writeln!(
                out,
                "  {}  [{}]  (line {})",
                shown(&p.phrase),
                shown(&evidence),
                origin.line
            )?,
            None => writeln!(out, "  {}  (line {})", shown(&p.phrase), origin.line)?,
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

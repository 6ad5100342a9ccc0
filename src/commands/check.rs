//! `herald check [STATEMENT…]`: validates the configuration, the recipients directory and the
//! templates (each rendered once for every organisation), and resolves the statements given.
//! Every problem found is reported, not only the first; exit 2 if there was any.

use std::collections::BTreeMap;
use std::path::Path;

use super::output::{count, errln, outln, shown};
use crate::cli::CheckArgs;
use crate::config::{Security, SmtpSettings, TransportKind};
use crate::delivery::classify::Outcome;
use crate::delivery::smtp::SmtpTransport;
use crate::directory::{self, Directory};
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
        for line in fallbacks(templates, directory) {
            outln!("fallback    {line}");
        }
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
        match plan::plan(
            directory,
            path,
            config.statement.max_bytes,
            plan::Reading {
                date_order: config.statement.date_order,
                allow_undated: false,
            },
        ) {
            Ok(plan) => {
                let letters = plan.resolution.letters.len();
                outln!(
                    "statement   {}: {}, {}, {}",
                    path.display(),
                    plan.statement.id,
                    count(
                        plan.resolution.phrases.len(),
                        "addressee phrase",
                        "addressee phrases"
                    ),
                    count(letters, "letter", "letters")
                );
                if let Some(reading) = &plan.statement.date_reading {
                    println!("date        {}: {reading}", path.display());
                }
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

    problems += transport(&config, args.smtp);

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

/// The transport: an SMTP password the configuration names but the environment lacks is found
/// here, not at the first dispatch; with `smtp`, the relay is tried step by step (no mail is
/// sent). Returns the number of problems.
fn transport(config: &crate::config::Config, smtp: bool) -> usize {
    let settings = match &config.transport {
        TransportKind::Smtp(settings) => settings,
        TransportKind::File => {
            outln!(
                "transport   file: letters are written to {}",
                config.data_dir.join("outbox").display()
            );
            if smtp {
                errln!(
                    "herald: --smtp: the configuration sends to files (`[transport] kind = \
                     \"file\"`), so no SMTP server is tried"
                );
            }
            return 0;
        }
    };
    let target = format!("{}:{}", settings.host, settings.port);
    // A missing password is a problem of its own; the relay can still be tried up to AUTH, so
    // that whoever checks it need not hold the secret.
    let no_password = settings.username.is_some() && !transport_has_password(settings);
    let mut problems = 0;
    let mut reachable = settings.clone();
    if no_password {
        errln!(
            "herald: the SMTP password variable `{}` is not set (`[smtp] password_env` in {}): \
             set it in the environment herald runs in",
            settings.password_env,
            config.path.display()
        );
        problems += 1;
        reachable.username = None;
    }
    let transport = match SmtpTransport::new(reachable.clone()) {
        Ok(transport) => transport,
        Err(e) => {
            errln!(
                "herald: {e} (`[smtp] password_env` in {})",
                config.path.display()
            );
            return problems + 1;
        }
    };
    let auth = match (&settings.username, no_password) {
        (Some(user), false) => format!(
            ", as `{user}` with the password from `{}`",
            settings.password_env
        ),
        _ => String::new(),
    };
    outln!(
        "transport   smtp {target} ({}){auth}",
        security(settings.security)
    );
    if !smtp {
        return problems;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            errln!("herald: --smtp: cannot start: {e}");
            return problems + 1;
        }
    };
    let steps = steps(&reachable);
    let outcome = runtime.block_on(async {
        match transport.connect().await {
            Ok(session) => {
                session.quit(settings.timeout).await;
                Ok(())
            }
            Err(outcome) => Err(outcome),
        }
    });
    // The step that failed is the one the transport's words name (or, for a server's refusal,
    // its reply code); the ones before it passed.
    let (failure, failed_at) = match outcome {
        Ok(()) => (None, None),
        Err(outcome) => {
            let at = failed_step(&steps, &outcome);
            (Some(failure_text(outcome)), Some(at))
        }
    };
    for (i, step) in steps.iter().enumerate() {
        let status = match failed_at {
            None => "ok",
            Some(at) if i < at => "ok",
            Some(at) if i == at => "FAILED",
            Some(_) => "not tried",
        };
        if no_password && *step == Step::Quit {
            outln!(
                "smtp        {:<40} not tried (no password)",
                Step::Auth.label(settings)
            );
        }
        outln!("smtp        {:<40} {status}", step.label(settings));
    }
    match failure {
        None if no_password => {
            outln!(
                "smtp        {target}: the relay answers up to AUTH, not tried without the \
                 password (no mail was sent)"
            );
            problems
        }
        None => {
            outln!(
                "smtp        {target}: the relay takes herald's configuration (no mail was sent)"
            );
            problems
        }
        Some(text) => {
            errln!("herald: --smtp: {target}: {}", shown(&text));
            problems + 1
        }
    }
}

/// Whether the configured password variable is set (its value is never shown).
fn transport_has_password(settings: &SmtpSettings) -> bool {
    std::env::var_os(&settings.password_env).is_some()
}

fn security(security: Security) -> &'static str {
    match security {
        Security::StartTls => "STARTTLS required",
        Security::Tls => "TLS from the first byte",
        Security::None => "no encryption",
    }
}

/// One step of a connection to the relay, as `check --smtp` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Connect,
    TlsHandshake,
    Ehlo,
    StartTls,
    Auth,
    Quit,
}

impl Step {
    fn label(self, settings: &SmtpSettings) -> String {
        match self {
            Step::Connect => format!("connect to {}:{}", settings.host, settings.port),
            Step::TlsHandshake => format!("TLS, certificate for {}", settings.host),
            Step::Ehlo => "greeting and EHLO".to_string(),
            Step::StartTls => format!("STARTTLS, certificate for {}", settings.host),
            Step::Auth => format!(
                "AUTH as `{}`",
                settings.username.as_deref().unwrap_or_default()
            ),
            Step::Quit => "QUIT".to_string(),
        }
    }

    /// Words of the transport's failure messages that name this step.
    fn named_by(self, text: &str) -> bool {
        match self {
            Step::Connect => text.starts_with("connecting to "),
            Step::TlsHandshake => {
                text.starts_with("TLS handshake") || text.contains("TLS server name")
            }
            Step::Ehlo => text.contains("greeting and EHLO"),
            Step::StartTls => text.contains("STARTTLS"),
            Step::Auth => text.contains("AUTH") || text.contains("the password"),
            Step::Quit => false,
        }
    }
}

/// The steps a connection takes with these settings, in order.
fn steps(settings: &SmtpSettings) -> Vec<Step> {
    let mut steps = vec![Step::Connect];
    if settings.security == Security::Tls {
        steps.push(Step::TlsHandshake);
    }
    steps.push(Step::Ehlo);
    if settings.security == Security::StartTls {
        steps.push(Step::StartTls);
    }
    if settings.username.is_some() {
        steps.push(Step::Auth);
    }
    steps.push(Step::Quit);
    steps
}

/// The index of the step a failed connection stopped at: the one its message names, or for a
/// server's refusal the one its code belongs to (530–538: AUTH; 454: STARTTLS; else the
/// greeting or EHLO).
fn failed_step(steps: &[Step], outcome: &Outcome) -> usize {
    let step = match outcome {
        Outcome::Refused { reply, .. } => match reply.code {
            530..=538 => Step::Auth,
            454 => Step::StartTls,
            _ => Step::Ehlo,
        },
        other => {
            let text = failure_text(other.clone());
            steps
                .iter()
                .copied()
                .find(|s| s.named_by(&text))
                .unwrap_or(Step::Ehlo)
        }
    };
    steps.iter().position(|s| *s == step).unwrap_or(0)
}

/// The transport's words for a failed connection.
fn failure_text(outcome: Outcome) -> String {
    match outcome {
        Outcome::NotHandedOver { reason }
        | Outcome::NoReply { reason }
        | Outcome::Unsendable { reason } => reason,
        Outcome::Refused { reply, .. } => format!("{} {}", reply.code, reply.text),
        other => format!("{other:?}"),
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

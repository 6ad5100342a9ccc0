//! One language folder of the templates: its two Handlebars registries and the files behind them.
//!
//! Handlebars escapes per registry, not per file, so each folder has a text registry (no
//! escaping) for the subject and the text part and an HTML registry (escaping) for the HTML
//! part, and partials go to one or both by their file name. Each registry remembers which file
//! every registered name came from, so that a load or render error names the file and line.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use handlebars::{Handlebars, RenderError, RenderErrorReason, TemplateError};

use super::context::LetterData;
use super::dates::LongDate;
use super::{escape_html, LetterError, Part, PartWriter};

/// The registered names of the three letter templates. They end in `.hbs` so that no partial
/// (whose name never has a dot) can replace them: Handlebars keeps partials and templates in one
/// map.
pub(super) const SUBJECT: &str = "subject.hbs";
pub(super) const LETTER_TXT: &str = "letter.txt.hbs";
pub(super) const LETTER_HTML: &str = "letter.html.hbs";

/// One language folder: a text registry (no escaping) for the subject and the text part, an HTML
/// registry (escaping) for the HTML part.
pub(super) struct Language {
    pub(super) code: String,
    pub(super) dir: PathBuf,
    text: Handlebars<'static>,
    html: Handlebars<'static>,
    /// Registered name → file, per registry, so that render errors name the file.
    text_files: HashMap<String, PathBuf>,
    html_files: HashMap<String, PathBuf>,
}

#[derive(Clone, Copy)]
enum Target {
    Text,
    Html,
    Both,
}

impl Language {
    pub(super) fn load(code: &str, dir: &Path) -> Result<Language, Vec<LetterError>> {
        let mut language = Language {
            code: code.to_string(),
            dir: dir.to_path_buf(),
            text: Handlebars::new(),
            html: Handlebars::new(),
            text_files: HashMap::new(),
            html_files: HashMap::new(),
        };
        let primary = code.split(['-', '_']).next().unwrap_or(code).to_string();
        for registry in [&mut language.text, &mut language.html] {
            registry.set_strict_mode(true);
            let primary = primary.clone();
            registry.register_helper("long_date", Box::new(LongDate { primary }));
        }
        language.text.register_escape_fn(handlebars::no_escape);
        language.html.register_escape_fn(escape_html);

        let mut errors = Vec::new();
        let partials = dir.join("partials");
        if partials.is_dir() {
            match sorted_files(&partials) {
                Ok(files) => {
                    for path in files {
                        if let Err(e) = language.load_partial(&path) {
                            errors.push(e);
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        for (name, target) in [
            (SUBJECT, Target::Text),
            (LETTER_TXT, Target::Text),
            (LETTER_HTML, Target::Html),
        ] {
            let path = dir.join(name);
            let result = read_template(&path)
                .and_then(|source| language.register(name, &source, &path, target));
            if let Err(e) = result {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(language)
        } else {
            Err(errors)
        }
    }

    fn load_partial(&mut self, path: &Path) -> Result<(), LetterError> {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            return Ok(());
        };
        let Some(stem) = file_name.strip_suffix(".hbs") else {
            return Ok(());
        };
        let (name, target) = if let Some(name) = stem.strip_suffix(".txt") {
            (name, Target::Text)
        } else if let Some(name) = stem.strip_suffix(".html") {
            (name, Target::Html)
        } else {
            (stem, Target::Both)
        };
        if name.is_empty() || name.contains('.') {
            return Err(LetterError::Template {
                path: path.to_path_buf(),
                message: format!("`{file_name}` is not a partial name: expected NAME.hbs, NAME.txt.hbs or NAME.html.hbs, NAME without dots"),
            });
        }
        let source = read_template(path)?;
        self.register(name, &source, path, target)
    }

    fn register(
        &mut self,
        name: &str,
        source: &str,
        path: &Path,
        target: Target,
    ) -> Result<(), LetterError> {
        let template_error = |e: TemplateError| LetterError::Template {
            path: path.to_path_buf(),
            message: match e.pos() {
                Some((line, column)) => format!("line {line}, column {column}: {}", e.reason()),
                None => e.reason().to_string(),
            },
        };
        if matches!(target, Target::Text | Target::Both) {
            self.text
                .register_template_string(name, source)
                .map_err(template_error)?;
            self.text_files.insert(name.to_string(), path.to_path_buf());
        }
        if matches!(target, Target::Html | Target::Both) {
            self.html
                .register_template_string(name, source)
                .map_err(template_error)?;
            self.html_files.insert(name.to_string(), path.to_path_buf());
        }
        Ok(())
    }

    pub(super) fn render(
        &self,
        template: &str,
        html: bool,
        data: &LetterData,
    ) -> Result<Part, LetterError> {
        let registry = if html { &self.html } else { &self.text };
        let mut part = PartWriter::new(&data.bodies[usize::from(html)]);
        registry
            .render_with_context_to_write(template, &data.data, &mut part)
            .map_err(|e| self.render_error(template, html, &data.organization, e))?;
        Ok(part.finish())
    }

    /// The rendered subject, refused when it holds a control character: it becomes a header,
    /// where a line break from a template or a title could forge another one.
    pub(super) fn checked_subject(
        &self,
        subject: String,
        data: &LetterData,
    ) -> Result<String, LetterError> {
        match crate::header::control_problem("the subject", &subject) {
            None => Ok(subject),
            Some(message) => Err(LetterError::Render {
                path: self.dir.join(SUBJECT),
                organization: data.organization.clone(),
                message,
            }),
        }
    }

    fn render_error(
        &self,
        template: &str,
        html: bool,
        organization: &str,
        e: RenderError,
    ) -> LetterError {
        let files = if html {
            &self.html_files
        } else {
            &self.text_files
        };
        // The error may come from a partial: name that file when Handlebars says which.
        let path = e
            .template_name
            .as_ref()
            .and_then(|name| files.get(name))
            .or_else(|| files.get(template))
            .cloned()
            .unwrap_or_else(|| self.dir.join(template));
        // Handlebars words this one with `Some("…")` around the name; say it plainly.
        let reason = match e.reason() {
            RenderErrorReason::MissingVariable(Some(name)) => {
                format!("`{name}` has no value (templates run in strict mode)")
            }
            reason => reason.to_string(),
        };
        LetterError::Render {
            path,
            organization: organization.to_string(),
            message: match e.line_no {
                Some(line) => format!("line {line}: {reason}"),
                None => reason,
            },
        }
    }
}

fn read_template(path: &Path) -> Result<String, LetterError> {
    fs::read_to_string(path).map_err(|e| LetterError::Template {
        path: path.to_path_buf(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            "missing: every language folder needs subject.hbs, letter.txt.hbs and letter.html.hbs"
                .to_string()
        } else {
            format!("cannot read the template: {e}")
        },
    })
}

fn sorted_files(dir: &Path) -> Result<Vec<PathBuf>, LetterError> {
    let read_error = |e: std::io::Error| LetterError::Template {
        path: dir.to_path_buf(),
        message: format!("cannot read the partials folder: {e}"),
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use crate::letters::fixtures::{
        folder, organization, render, seed_statement, shipped_templates, MINIMAL,
    };
    use crate::letters::Templates;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let templates = shipped_templates();
        let org = organization("acme", "Peace & <Justice> \"Council\"", "en", None);
        let letter = render(&templates, &org, &seed_statement());
        let text = letter.text.to_string();
        let html = letter.html.to_string();
        assert!(text.contains("Peace & <Justice> \"Council\""));
        assert!(html.contains("Peace &amp; &lt;Justice&gt; &quot;Council&quot;"));
        assert!(!html.contains("<Justice>"));
    }

    #[test]
    fn partials_are_per_registry() {
        let mut files = MINIMAL.to_vec();
        files[1] = (
            "en/letter.txt.hbs",
            "{{> sig}} {{> both}} {{organization.name}} {{statement.signatory}}",
        );
        files[2] = (
            "en/letter.html.hbs",
            "{{> sig}} {{> both}} {{organization.name}} {{statement.signatory}}",
        );
        files.push(("en/partials/sig.txt.hbs", "TEXT & SIG\n"));
        files.push(("en/partials/sig.html.hbs", "<b>HTML</b>\n"));
        files.push(("en/partials/both.hbs", "{{organization.name}}\n"));
        let dir = folder(&files);
        let templates = Templates::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let org = organization("org", "A & B", "en", None);
        let letter = render(&templates, &org, &seed_statement());
        let text = letter.text.to_string();
        let html = letter.html.to_string();
        assert_eq!(text, "TEXT & SIG\n A & B\n A & B Sabina Aliyeva");
        assert_eq!(html, "<b>HTML</b>\n A &amp; B\n A &amp; B Sabina Aliyeva");
    }
}

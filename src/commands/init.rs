//! `herald init DIR`: the one documented way to set herald up outside its source folder (e.g.
//! `/etc/herald` for the systemd unit in `contrib/`): writes `DIR/herald.toml` with paths relative
//! to it, and the shipped `recipients/` and `templates/`, embedded in the binary so that an
//! installed herald needs no source tree.
//!
//! It never overwrites: if any file it would write exists, it writes nothing and says which.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use crate::cli::InitArgs;
use crate::config::Config;
use crate::error::{Error, Result};

static SHIPPED_CONFIG: &str = include_str!("../../config/herald.toml");
static RECIPIENTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/recipients");
static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The shipped configuration's `[paths]`, and what they become beside the written files.
const PATHS: [(&str, &str); 3] = [
    (
        "recipients = \"../recipients\"",
        "recipients = \"recipients\"",
    ),
    ("templates = \"../templates\"", "templates = \"templates\""),
    ("data = \"../var\"", "data = "),
];

/// The configuration text for DIR: the shipped one, its paths relative to DIR, `data` as given.
fn config_text(data: &str) -> std::result::Result<String, String> {
    let mut text = SHIPPED_CONFIG.to_string();
    for (from, to) in PATHS {
        if !text.contains(from) {
            return Err(format!("the shipped configuration has no `{from}` line"));
        }
        let to = if to == "data = " {
            format!("data = {}", toml::Value::String(data.to_string()))
        } else {
            to.to_string()
        };
        text = text.replacen(from, &to, 1);
    }
    Ok(text)
}

/// Every file to write: (path under DIR, contents).
fn files(data: &str) -> std::result::Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let mut out = vec![(
        PathBuf::from("herald.toml"),
        config_text(data)?.into_bytes(),
    )];
    for (root, dir) in [("recipients", &RECIPIENTS), ("templates", &TEMPLATES)] {
        let mut folders = vec![dir];
        while let Some(folder) = folders.pop() {
            for file in folder.files() {
                out.push((Path::new(root).join(file.path()), file.contents().to_vec()));
            }
            folders.extend(folder.dirs());
        }
    }
    out.sort();
    Ok(out)
}

pub(crate) fn run(args: InitArgs) -> Result<()> {
    let InitArgs { dir, data } = args;
    let files = files(&data).map_err(Error::Usage)?;
    let existing: Vec<String> = files
        .iter()
        .map(|(p, _)| dir.join(p))
        .filter(|p| p.symlink_metadata().is_ok())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(Error::Usage(format!(
            "{}: already holds {} (and {} more of the files herald init writes); nothing was \
             written: herald init never overwrites. Use an empty folder, or edit the files there",
            dir.display(),
            existing[0],
            existing.len() - 1
        )));
    }
    for (path, contents) in &files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .and_then(|mut f| std::io::Write::write_all(&mut f, contents))
            .map_err(|e| Error::io(&target, e))?;
    }
    let config = dir.join("herald.toml");
    // What was written must load: a broken result is a bug to report, not a setup to use.
    let loaded = Config::load(&config)?;
    let count = |root: &str| files.iter().filter(|(p, _)| p.starts_with(root)).count();
    println!(
        "wrote {}, {} recipients files and {} template files under {}",
        config.display(),
        count("recipients"),
        count("templates"),
        dir.display()
    );
    println!("data folder: {}", loaded.data_dir.display());
    println!(
        "next: set [sender] in {} and the real addresses in {}, then run\n  herald --config {} check",
        config.display(),
        loaded.recipients_dir.display(),
        config.display()
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;

    #[test]
    fn the_written_configuration_names_the_folders_beside_it() {
        // (data as given, the line written)
        let rows = [
            ("var", "data = \"var\""),
            ("/var/lib/herald", "data = \"/var/lib/herald\""),
            ("a \"quoted\" folder", "data = 'a \"quoted\" folder'"),
        ];
        for (data, line) in rows {
            let text = config_text(data).unwrap();
            assert!(text.contains(line), "{data}: {text}");
            assert!(text.contains("recipients = \"recipients\""));
            assert!(text.contains("templates = \"templates\""));
            assert!(!text.contains("\"../"), "{text}");
        }
    }

    #[test]
    fn every_shipped_recipients_and_template_file_is_written() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let written: Vec<PathBuf> = files("var").unwrap().into_iter().map(|(p, _)| p).collect();
        for root in ["recipients", "templates"] {
            let mut folders = vec![repo.join(root)];
            while let Some(folder) = folders.pop() {
                for entry in std::fs::read_dir(folder).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        folders.push(path);
                    } else {
                        let relative = path.strip_prefix(repo).unwrap();
                        assert!(written.iter().any(|w| w == relative), "{relative:?}");
                    }
                }
            }
        }
    }
}

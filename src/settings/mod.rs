//! Per-repository configuration: `gasguard.toml`, or `[tool.gasguard]` in
//! `pyproject.toml`, found upward from the checked path as ruff finds its
//! own. It names the repository's submission folders (with a modality each),
//! the policy file, the output format, `strict`, `sandbox`, and hardening
//! rules to ignore, each with a reason. Command-line options win over it.
//! The keys are documented in `docs/configuration.md`.

use std::path::{Path, PathBuf};

use crate::check::SandboxMode;
use crate::config::Modality;
use crate::report::Format;

pub mod ignore;
mod parse;

pub use ignore::{Ignore, Suppressed};

/// File names searched in each directory, in this order.
pub const CONFIG_FILE: &str = "gasguard.toml";
pub const PYPROJECT_FILE: &str = "pyproject.toml";

/// One repository's settings. Relative paths in the file are resolved
/// against the directory holding it.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The file the settings came from.
    pub origin: PathBuf,
    pub submissions: Vec<SubmissionSetting>,
    pub policy: Option<PathBuf>,
    pub format: Option<Format>,
    pub strict: Option<bool>,
    pub sandbox: Option<SandboxMode>,
    pub ignores: Vec<Ignore>,
}

/// A submission folder (or ZIP) of the repository.
#[derive(Clone, Debug)]
pub struct SubmissionSetting {
    pub path: PathBuf,
    pub modality: Option<Modality>,
}

impl Settings {
    /// Reads one settings file (`gasguard.toml`, or a `pyproject.toml`'s
    /// `[tool.gasguard]`). `Ok(None)`: a pyproject.toml without that table.
    /// Errors name the file, line and column.
    pub fn load(path: &Path) -> anyhow::Result<Option<Settings>> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read settings file {}: {e}", path.display()))?;
        let is_pyproject = path.file_name().is_some_and(|n| n == PYPROJECT_FILE);
        parse::parse(&text, path, is_pyproject)
    }

    /// Finds the settings that apply to `start` (a file or directory): the
    /// nearest `gasguard.toml`, or `pyproject.toml` with `[tool.gasguard]`,
    /// in `start`'s directory or above.
    pub fn discover(start: &Path) -> anyhow::Result<Option<Settings>> {
        let absolute = std::path::absolute(start)
            .map_err(|e| anyhow::anyhow!("cannot resolve {}: {e}", start.display()))?;
        let first = if absolute.is_dir() {
            Some(absolute.as_path())
        } else {
            absolute.parent()
        };
        for dir in first.into_iter().flat_map(Path::ancestors) {
            for name in [CONFIG_FILE, PYPROJECT_FILE] {
                let candidate = dir.join(name);
                if candidate.is_file()
                    && let Some(settings) = Settings::load(&candidate)?
                {
                    return Ok(Some(settings));
                }
            }
        }
        Ok(None)
    }

    /// The modality the file sets for `path`, if `path` is one of its
    /// submissions.
    pub fn modality_for(&self, path: &Path) -> Option<Modality> {
        let wanted = std::fs::canonicalize(path).ok()?;
        self.submissions
            .iter()
            .find(|s| std::fs::canonicalize(&s.path).is_ok_and(|p| p == wanted))
            .and_then(|s| s.modality)
    }
}

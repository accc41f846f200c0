//! Per-repository configuration: `gasguard.toml`, or `[tool.gasguard]` in
//! `pyproject.toml`, found upward from the checked path as ruff finds its
//! own. It names the repository's submission folders (with a modality each),
//! the policy file, the output format, `strict`, `sandbox`, hardening
//! rules to ignore, each with a reason, and pinned policy plugins. Command-line options win over it.
//! The keys are documented in `docs/configuration.md`.

use std::path::{Path, PathBuf};

use crate::check::SandboxMode;
use crate::config::Modality;
use crate::report::Format;

mod parse;

use crate::suppression::Ignore;

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
    /// Policy plugins, each pinned by its sha256.
    pub plugins: Vec<crate::plugins::PluginSpec>,
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

    /// The settings for one command: `config` (`--config`), else the file
    /// found above the checked paths (the current directory when none is
    /// given); none with `no_config`. Paths under different settings files
    /// are refused: check them in separate runs.
    pub fn resolve(
        config: Option<&Path>,
        no_config: bool,
        paths: &[PathBuf],
    ) -> anyhow::Result<Option<Settings>> {
        if no_config {
            return Ok(None);
        }
        if let Some(file) = config {
            return match Settings::load(file)? {
                Some(settings) => Ok(Some(settings)),
                None => anyhow::bail!("{} has no [tool.gasguard] table", file.display()),
            };
        }
        let cwd = [PathBuf::from(".")];
        let starts = if paths.is_empty() { &cwd[..] } else { paths };
        let mut found: Option<Settings> = None;
        for (i, start) in starts.iter().enumerate() {
            let here = Settings::discover(start)?;
            if i == 0 {
                found = here;
                continue;
            }
            let origin = |s: &Option<Settings>| s.as_ref().map(|s| s.origin.clone());
            if origin(&here) != origin(&found) {
                let name = |s: &Option<Settings>| {
                    origin(s).map_or("no settings file".to_string(), |o| o.display().to_string())
                };
                anyhow::bail!(
                    "{} falls under {} but {} under {}: check them in separate runs, or pass --config",
                    starts[0].display(),
                    name(&found),
                    start.display(),
                    name(&here)
                );
            }
        }
        Ok(found)
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

/// The paths to check: those given, else the settings' submissions (shown
/// relative to the current directory when under it).
pub fn paths_to_check(
    paths: Vec<PathBuf>,
    settings: Option<&Settings>,
) -> anyhow::Result<Vec<PathBuf>> {
    if !paths.is_empty() {
        return Ok(paths);
    }
    match settings {
        Some(s) if !s.submissions.is_empty() => Ok(s
            .submissions
            .iter()
            .map(|s| PathBuf::from(crate::report::relative_to_cwd(&s.path.to_string_lossy())))
            .collect()),
        Some(s) => anyhow::bail!(
            "no paths given and {} lists no [[submission]]; pass the submission folders or list them there",
            s.origin.display()
        ),
        None => anyhow::bail!(
            "no paths given and no gasguard.toml (or [tool.gasguard] in pyproject.toml) lists submissions; pass the submission folders or ZIPs to check"
        ),
    }
}

//! Policy plugins: WebAssembly components implementing
//! `wit/gasguard-plugin.wit`, loaded with `--plugin` or the settings'
//! `plugins`, run after the static checks with the facts gasguard computed,
//! under hard limits and with no capabilities (docs/plugins.md).
//!
//! [`interface`], [`facts`] and [`limits`] are plain Rust, built always;
//! the wasmtime side ([`engine`], [`cache`]) is the `plugins` feature. A
//! build without it refuses to load a plugin (exit 2) and says why.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::check::SubmissionReport;
use crate::config::Modality;
use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::rules::Rule;

#[cfg(feature = "plugins")]
mod cache;
#[cfg(feature = "plugins")]
mod engine;
pub mod facts;
pub mod interface;
pub mod limits;

pub use interface::PluginInfo;

/// A plugin to load: a path, and the sha256 it must have when pinned (the
/// settings file pins every plugin it names).
#[derive(Clone, Debug)]
pub struct PluginSpec {
    pub path: PathBuf,
    pub sha256: Option<String>,
}

/// One loaded plugin.
pub struct Plugin {
    pub path: PathBuf,
    pub sha256: String,
    pub info: PluginInfo,
    /// Whether the compiled code came from the cache (timing, `-v` notes).
    pub cached: bool,
    #[cfg(feature = "plugins")]
    runner: engine::Runner,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("path", &self.path)
            .field("sha256", &self.sha256)
            .field("name", &self.info.name)
            .finish()
    }
}

/// The plugins of one invocation, shared by every checked path.
#[derive(Clone, Debug, Default)]
pub struct Plugins(Arc<Vec<Plugin>>);

/// What a report says about a plugin that ran.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PluginSummary {
    pub name: String,
    pub version: String,
    pub sha256: String,
    #[serde(skip)]
    pub rules: Vec<&'static Rule>,
}

/// The refusal of a build without the `plugins` feature.
pub fn unavailable(path: &Path) -> String {
    format!(
        "cannot load plugin {}: this gasguard was built without the `plugins` feature; rebuild it with default features (`cargo install gasguard` includes it)",
        path.display()
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Plugins {
    /// Loads every plugin (none: no engine is started). Any failure names
    /// the plugin and stops the command: a gate that was asked to apply a
    /// rule must not silently skip it.
    pub fn load(specs: &[PluginSpec]) -> anyhow::Result<Plugins> {
        let mut loaded: Vec<Plugin> = Vec::new();
        for spec in specs {
            let plugin = load_one(spec)?;
            if let Some(other) = loaded.iter().find(|p| p.info.name == plugin.info.name) {
                if other.sha256 == plugin.sha256 {
                    continue;
                }
                anyhow::bail!(
                    "plugins {} and {} are both named `{}`: their rule codes would collide; load one",
                    other.path.display(),
                    plugin.path.display(),
                    plugin.info.name
                );
            }
            loaded.push(plugin);
        }
        Ok(Plugins(Arc::new(loaded)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Plugin> {
        self.0.iter()
    }

    pub fn summaries(&self) -> Vec<PluginSummary> {
        self.0
            .iter()
            .map(|p| PluginSummary {
                name: p.info.name.clone(),
                version: p.info.version.clone(),
                sha256: p.sha256.clone(),
                rules: p.info.rules.clone(),
            })
            .collect()
    }

    /// Runs every plugin on one submission's facts; their diagnostics, in
    /// plugin order. `findings` are gasguard's own so far (read-only to the
    /// plugin: it can add findings, never remove or soften one).
    pub fn run(
        &self,
        report: &SubmissionReport,
        findings: &[Diagnostic],
        policy: &Policy,
        modality: Option<Modality>,
    ) -> anyhow::Result<Vec<Diagnostic>> {
        if self.is_empty() {
            return Ok(Vec::new());
        }
        let facts = facts::document(report, findings, policy, modality);
        let entries: Vec<String> = report.entries.iter().map(|e| e.name.clone()).collect();
        let targets = interface::Targets {
            entries: &entries,
            sources: &report.sources,
        };
        let mut out = Vec::new();
        for plugin in self.0.iter() {
            let json = plugin.call_check(&facts)?;
            let mut found = interface::parse_output(&json, &plugin.info, &targets)
                .map_err(|e| plugin.error(&e))?;
            out.append(&mut found);
        }
        Ok(out)
    }
}

impl Plugin {
    fn error(&self, what: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "plugin `{}` ({}): {what}",
            self.info.name,
            self.path.display()
        )
    }

    #[cfg(feature = "plugins")]
    fn call_check(&self, facts: &str) -> anyhow::Result<String> {
        self.runner.check(facts).map_err(|e| self.error(&e))
    }

    #[cfg(not(feature = "plugins"))]
    fn call_check(&self, _facts: &str) -> anyhow::Result<String> {
        Err(anyhow::anyhow!(unavailable(&self.path)))
    }
}

/// Reads, verifies, compiles (or finds compiled) and describes one plugin.
fn load_one(spec: &PluginSpec) -> anyhow::Result<Plugin> {
    let path = &spec.path;
    let fail = |what: String| anyhow::anyhow!("plugin {}: {what}", path.display());
    let bytes = read_limited(path).map_err(fail)?;
    let sha256 = sha256_hex(&bytes);
    if let Some(want) = &spec.sha256
        && !want.eq_ignore_ascii_case(&sha256)
    {
        return Err(fail(format!(
            "its sha256 is {sha256} but the settings pin {want}: refusing a plugin that changed; if the change is yours, pin the new hash"
        )));
    }
    compile(path, bytes, sha256)
}

#[cfg(feature = "plugins")]
fn compile(path: &Path, bytes: Vec<u8>, sha256: String) -> anyhow::Result<Plugin> {
    let fail = |what: String| anyhow::anyhow!("plugin {}: {what}", path.display());
    let engine = engine::engine().map_err(fail)?;
    let (component, source) = cache::load(engine, &bytes, &sha256).map_err(fail)?;
    let runner = engine::Runner::new(component).map_err(fail)?;
    let info = runner
        .describe()
        .and_then(|json| interface::parse_info(&json))
        .map_err(fail)?;
    Ok(Plugin {
        path: path.to_path_buf(),
        sha256,
        info,
        cached: source == cache::Source::Cache,
        runner,
    })
}

#[cfg(not(feature = "plugins"))]
fn compile(path: &Path, _bytes: Vec<u8>, _sha256: String) -> anyhow::Result<Plugin> {
    Err(anyhow::anyhow!(unavailable(path)))
}

fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let mut bytes = Vec::new();
    file.take(limits::MAX_PLUGIN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > limits::MAX_PLUGIN_BYTES {
        return Err(format!(
            "it is larger than {} bytes, the limit for a plugin",
            limits::MAX_PLUGIN_BYTES
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message a build without the feature gives (that build is not
    /// made in CI; its only difference is calling this function).
    #[test]
    fn a_build_without_the_feature_says_how_to_get_it() {
        let msg = unavailable(Path::new("p.wasm"));
        assert!(
            msg.contains("p.wasm") && msg.contains("`plugins` feature"),
            "{msg}"
        );
    }

    #[test]
    fn a_pinned_hash_that_does_not_match_is_refused_before_compiling() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.wasm");
        std::fs::write(&path, b"\0asm not really").expect("write");
        let spec = PluginSpec {
            path: path.clone(),
            sha256: Some("00".repeat(32)),
        };
        let err = Plugins::load(&[spec]).expect_err("mismatch").to_string();
        assert!(
            err.contains("pin the new hash") && err.contains("p.wasm"),
            "{err}"
        );
    }
}

//! The push journal: one JSON file per (chain genesis, netuid, hotkey,
//! file hash), rewritten atomically after every completed step, so that a
//! push killed at any point can be resumed from the last completed step
//! without asking for a second upload slot.
//!
//! It holds no secret: public addresses, hashes, the server's ids and the
//! presigned URL (a short-lived capability for this one file).

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::upload::Slot;

/// Steps in order; a journal records the last one completed.
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Presigned,
    Uploaded,
    Confirmed,
    ExtrinsicSent,
    CommitmentVerified,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Presigned => "presigned",
            Step::Uploaded => "uploaded",
            Step::Confirmed => "confirmed",
            Step::ExtrinsicSent => "extrinsic_sent",
            Step::CommitmentVerified => "commitment_verified",
        }
    }

    pub fn parse(text: &str) -> Option<Step> {
        [
            Step::Presigned,
            Step::Uploaded,
            Step::Confirmed,
            Step::ExtrinsicSent,
            Step::CommitmentVerified,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Genesis label for a push made with `--skip-chain`, adopted by the first
/// later push that reaches the chain.
pub const NO_CHAIN: &str = "no-chain";

#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct Journal {
    pub genesis: String,
    pub netuid: u16,
    pub hotkey: String,
    pub file_hash: String,
    pub file_size: u64,
    pub file_name: String,
    /// The canonical ZIP that was checked, kept for resuming.
    pub packed: PathBuf,
    pub modality: String,
    pub vertical: String,
    pub upload_endpoint: String,
    pub step: Option<Step>,
    pub slot: Option<Slot>,
    /// The commitment bytes (compact JSON) once computed.
    pub commitment: Option<String>,
    pub extrinsic_hash: Option<String>,
    pub block_hash: Option<String>,
    pub block_number: Option<u64>,
    /// Unix seconds of the last write.
    pub updated: u64,
}

/// The folder for gasguard's data: `$GASGUARD_DATA_DIR`, else
/// `$XDG_DATA_HOME/gasguard`, else `~/.local/share/gasguard`.
pub fn data_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GASGUARD_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("gasguard"));
    }
    let home = std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .context("neither GASGUARD_DATA_DIR, XDG_DATA_HOME nor HOME is set: gasguard has nowhere to keep its push journal")?;
    Ok(PathBuf::from(home).join(".local/share/gasguard"))
}

pub fn journal_dir(data: &Path) -> PathBuf {
    data.join("journal")
}

/// The journal's file name: every part is hex, digits or base58.
pub fn file_name(genesis: &str, netuid: u16, hotkey: &str, file_hash: &str) -> String {
    format!("{genesis}-{netuid}-{hotkey}-{file_hash}.json")
}

impl Journal {
    pub fn path(&self, data: &Path) -> PathBuf {
        journal_dir(data).join(file_name(
            &self.genesis,
            self.netuid,
            &self.hotkey,
            &self.file_hash,
        ))
    }

    /// Records `step` and writes the journal (temporary file, fsync, rename).
    pub fn record(&mut self, data: &Path, step: Step) -> anyhow::Result<()> {
        self.step = Some(step);
        self.save(data)?;
        abort_if_asked(step);
        Ok(())
    }

    pub fn save(&mut self, data: &Path) -> anyhow::Result<()> {
        self.updated = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let dir = journal_dir(data);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the journal folder {}", dir.display()))?;
        let path = self.path(data);
        let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
        let text = serde_json::to_vec_pretty(self).context("cannot serialise the journal")?;
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().with_context(|| format!("cannot write the journal {}", path.display()))
    }

    pub fn load(path: &Path) -> anyhow::Result<Journal> {
        let text = std::fs::read(path)
            .with_context(|| format!("cannot read the journal {}", path.display()))?;
        serde_json::from_slice(&text).with_context(|| {
            format!(
                "the journal {} is damaged; move it away to start this push afresh",
                path.display()
            )
        })
    }

    /// The journal for this push, if any: under `genesis`, else one written
    /// with `--skip-chain` (which this push then adopts).
    pub fn find(
        data: &Path,
        genesis: &str,
        netuid: u16,
        hotkey: &str,
        file_hash: &str,
    ) -> anyhow::Result<Option<Journal>> {
        for g in [genesis, NO_CHAIN] {
            let path = journal_dir(data).join(file_name(g, netuid, hotkey, file_hash));
            if path.exists() {
                let mut j = Journal::load(&path)?;
                if g != genesis {
                    j.genesis = genesis.to_string();
                    j.save(data)?;
                    let _ = std::fs::remove_file(&path);
                }
                return Ok(Some(j));
            }
        }
        Ok(None)
    }

    /// A confirmed upload of `file_hash` by `hotkey` to `endpoint`, recorded
    /// for another chain or subnet: when the server answers "already
    /// exists", its slot is this one.
    pub fn confirmed_upload(
        data: &Path,
        hotkey: &str,
        file_hash: &str,
        endpoint: &str,
    ) -> Option<Journal> {
        let entries = std::fs::read_dir(journal_dir(data)).ok()?;
        entries
            .flatten()
            .filter_map(|e| Journal::load(&e.path()).ok())
            .find(|j| {
                j.hotkey == hotkey
                    && j.file_hash == file_hash
                    && j.upload_endpoint == endpoint
                    && j.step >= Some(Step::Confirmed)
                    && j.slot.is_some()
            })
    }

    /// Every journal of `hotkey` on `netuid` (for `push --status`).
    pub fn all_for(data: &Path, netuid: u16, hotkey: &str) -> Vec<Journal> {
        let Ok(entries) = std::fs::read_dir(journal_dir(data)) else {
            return Vec::new();
        };
        let mut out: Vec<Journal> = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| Journal::load(&e.path()).ok())
            .filter(|j| j.netuid == netuid && j.hotkey == hotkey)
            .collect();
        out.sort_by_key(|j| std::cmp::Reverse(j.updated));
        out
    }
}

/// Test hook: `GASGUARD_PUSH_ABORT_AFTER=<step>` aborts the process right
/// after that step is journaled, as a `kill -9` would, so tests can resume
/// from every step.
fn abort_if_asked(step: Step) {
    if std::env::var("GASGUARD_PUSH_ABORT_AFTER").ok().as_deref() == Some(step.as_str()) {
        eprintln!(
            "gasguard: aborting after {} (GASGUARD_PUSH_ABORT_AFTER)",
            step.as_str()
        );
        std::process::abort();
    }
}

//! The run's folder on the host: the materialised submission (read-only
//! to the child, bind-mounted read-only inside the sandbox), the mount point
//! of the private scratch tmpfs, and a staging folder. The model never
//! writes here: its scratch is a tmpfs that lives in the sandbox's mount
//! namespace only. Removal is checked, and a failure is reported.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::submission::layout::Layout;
use crate::submission::{EntryKind, Submission, names};

/// The run's host folder, removed by [`Workspace::remove`] (or, if that
/// was never called, when dropped).
pub struct Workspace {
    root: PathBuf,
    name: String,
    removed: bool,
}

impl Workspace {
    /// `gasguard-run-<pid>-<n>`: also the name of the run's cgroup.
    pub fn name(&self) -> String {
        self.name.clone()
    }
    pub fn submission(&self) -> PathBuf {
        self.root.join("submission")
    }
    /// The scratch tmpfs's mount point (empty on the host).
    pub fn scratch(&self) -> PathBuf {
        self.root.join("scratch")
    }
    /// Where the trampoline stages bind mounts.
    pub fn stage(&self) -> Result<PathBuf, String> {
        let stage = self.root.join("stage");
        std::fs::create_dir(&stage)
            .map_err(|e| format!("cannot create {}: {e}", stage.display()))?;
        Ok(stage)
    }

    /// Removes the folder; a failure is returned for the report, never
    /// ignored (something of the run would be left on the host's disk).
    pub fn remove(mut self) -> Result<(), String> {
        self.removed = true;
        match std::fs::remove_dir_all(&self.root) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!(
                "cannot remove the run's folder {}: {e}; remove it by hand",
                self.root.display()
            )),
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !self.removed {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// Creates the host folder and materialises the submission in it.
pub fn create(sub: &Submission, layout: &Layout) -> Result<Workspace, String> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("gasguard-run-{}-{n}", std::process::id());
    let root = std::env::temp_dir().join(&name);
    std::fs::create_dir(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let ws = Workspace {
        root,
        name,
        removed: false,
    };
    let set_mode = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
            .map_err(|e| e.to_string())
    };
    set_mode(&ws.root, 0o711)?;
    let submission = ws.submission();
    let scratch = ws.scratch();
    for dir in [&submission, &scratch] {
        std::fs::create_dir(dir).map_err(|e| e.to_string())?;
    }
    set_mode(&submission, 0o755)?;
    // Only a mount point: the scratch tmpfs covers it inside the sandbox.
    set_mode(&scratch, 0o700)?;
    for entry in &sub.entries {
        let Some(rel) = entry.name.strip_prefix(layout.root.as_str()) else {
            continue;
        };
        if rel.is_empty()
            || names::unsafe_name_reason(rel).is_some()
            || rel.starts_with("__MACOSX/")
        {
            continue;
        }
        let dest = submission.join(rel);
        match entry.kind {
            EntryKind::Dir => {
                std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
                set_mode(&dest, 0o755)?;
            }
            EntryKind::File => {
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                    set_mode(parent, 0o755)?;
                }
                let mut reader = sub
                    .reader(entry)
                    .map_err(|e| format!("cannot read {}: {e}", entry.name))?;
                let mut out = std::fs::File::create(&dest).map_err(|e| e.to_string())?;
                std::io::copy(&mut reader, &mut out)
                    .map_err(|e| format!("cannot copy {}: {e}", entry.name))?;
                set_mode(&dest, 0o644)?;
            }
            _ => {}
        }
    }
    Ok(ws)
}

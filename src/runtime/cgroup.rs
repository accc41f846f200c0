//! cgroups: the run as a whole gets one memory limit (every process of the
//! tree, swap included), one task limit, and a final kill. cgroup v2 (the
//! common case on miners' machines: a child of gasguard's own cgroup, with
//! the memory and pids controllers enabled) or cgroup v1 (separate `memory`
//! and `pids` hierarchies, as on the machine this was built on). Where
//! neither can be written, [`RunCgroup::create`] says why, and the caller
//! refuses or reports the run's memory as unbounded.
//!
//! Every process of the run is also in the sandbox's PID namespace, so the
//! kernel kills the tree when its supervisor ends; the cgroup kill is the
//! second, independent way.

use std::path::{Path, PathBuf};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// One run's cgroup(s), removed by [`RunCgroup::finish`].
#[derive(Debug)]
pub struct RunCgroup {
    pub version: u8,
    /// The memory and pids cgroup folders (the same folder under v2).
    memory: PathBuf,
    pids: PathBuf,
}

/// What the kernel measured for the run, read before the cgroup goes.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CgroupUsage {
    pub cgroup: String,
    pub memory_limit: u64,
    pub memory_peak: Option<u64>,
    pub oom_kills: u64,
    pub tasks_peak: Option<u64>,
    /// A cleanup failure (a folder the kernel would not remove).
    pub cleanup_error: Option<String>,
}

impl RunCgroup {
    /// Creates the run's cgroup with `memory` bytes (swap included) and
    /// `tasks` processes/threads for the whole tree.
    pub fn create(name: &str, memory: u64, tasks: u64) -> Result<RunCgroup, String> {
        sweep_stale();
        let v2 = create_v2(name, memory, tasks);
        let v2_reason = match v2 {
            Ok(cg) => return Ok(cg),
            Err(e) => e,
        };
        match create_v1(name, memory, tasks) {
            Ok(cg) => Ok(cg),
            Err(v1_reason) => Err(format!("cgroup v2: {v2_reason}; cgroup v1: {v1_reason}")),
        }
    }

    /// The `cgroup.procs` files a process writes `0` to, to join.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        if self.memory == self.pids {
            vec![self.memory.join("cgroup.procs")]
        } else {
            vec![
                self.memory.join("cgroup.procs"),
                self.pids.join("cgroup.procs"),
            ]
        }
    }

    /// Kills every process still in the cgroup (v2: `cgroup.kill`; v1: a
    /// SIGKILL to each listed process until none is left).
    pub fn kill_all(&self) {
        if self.version == 2 && std::fs::write(self.memory.join("cgroup.kill"), "1").is_ok() {
            return;
        }
        for _ in 0..100 {
            let pids = read_pids(&self.memory.join("cgroup.procs"));
            if pids.is_empty() {
                return;
            }
            for pid in pids {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Kills what is left, reads what the kernel measured, removes the
    /// folders (waiting briefly for the last processes to be reaped).
    pub fn finish(self, memory_limit: u64) -> CgroupUsage {
        self.kill_all();
        let read_u64 = |p: &Path| {
            std::fs::read_to_string(p)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
        };
        let (peak, oom_kills, tasks_peak) = if self.version == 2 {
            (
                read_u64(&self.memory.join("memory.peak")),
                keyed(&self.memory.join("memory.events"), "oom_kill").unwrap_or(0),
                None,
            )
        } else {
            (
                read_u64(&self.memory.join("memory.max_usage_in_bytes")),
                keyed(&self.memory.join("memory.oom_control"), "oom_kill").unwrap_or(0),
                read_u64(&self.pids.join("pids.peak")),
            )
        };
        let mut cleanup_error = None;
        let mut dirs = vec![self.memory.clone()];
        if self.pids != self.memory {
            dirs.push(self.pids.clone());
        }
        for dir in dirs {
            let mut last = None;
            for _ in 0..200 {
                match std::fs::remove_dir(&dir) {
                    Ok(()) => {
                        last = None;
                        break;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        last = None;
                        break;
                    }
                    Err(e) => {
                        last = Some(e);
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                }
            }
            if let Some(e) = last {
                cleanup_error = Some(format!("cannot remove the cgroup {}: {e}", dir.display()));
            }
        }
        CgroupUsage {
            cgroup: format!("v{}", self.version),
            memory_limit,
            memory_peak: peak,
            oom_kills,
            tasks_peak,
            cleanup_error,
        }
    }
}

/// `key value` lines (memory.events, memory.oom_control).
fn keyed(path: &Path, key: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        (it.next() == Some(key)).then(|| it.next()?.parse().ok())?
    })
}

fn read_pids(path: &Path) -> Vec<i32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .filter(|&p: &i32| p > 0)
        .collect()
}

/// This process's cgroup path for a v1 controller (or `""` for v2).
fn own_cgroup(controller: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let matches = if controller.is_empty() {
            controllers.is_empty()
        } else {
            controllers.split(',').any(|c| c == controller)
        };
        matches.then(|| path.trim_start_matches('/').to_string())
    })
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn mkdir(path: &Path) -> Result<(), String> {
    std::fs::create_dir(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

fn create_v2(name: &str, memory: u64, tasks: u64) -> Result<RunCgroup, String> {
    // A pure v2 machine mounts it at /sys/fs/cgroup; a hybrid one at unified/.
    let mount = [CGROUP_ROOT, "/sys/fs/cgroup/unified"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.join("cgroup.controllers").exists())
        .ok_or("no cgroup v2 mount")?;
    let own = own_cgroup("").ok_or("this process is in no v2 cgroup")?;
    let parent = mount.join(own);
    let available = std::fs::read_to_string(parent.join("cgroup.subtree_control"))
        .map_err(|e| format!("cannot read {}: {e}", parent.display()))?;
    let has = |c: &str| available.split_whitespace().any(|x| x == c);
    if !(has("memory") && has("pids")) {
        // Enabling controllers for children needs a cgroup without
        // processes of its own (v2's "no internal processes" rule): when
        // gasguard owns its cgroup (root, or systemd's Delegate=yes), it
        // moves itself into a leaf first, then enables them; else says why.
        let enable = || write(&parent.join("cgroup.subtree_control"), "+memory +pids");
        if enable().is_err() {
            let leaf = parent.join(format!("gasguard-{}", std::process::id()));
            let _ = std::fs::create_dir(&leaf);
            write(&leaf.join("cgroup.procs"), &std::process::id().to_string())
                .and_then(|()| enable())
                .map_err(|e| {
                    let _ = std::fs::remove_dir(&leaf);
                    format!(
                        "the memory and pids controllers are not delegated to {} ({e})",
                        parent.display()
                    )
                })?;
        }
    }
    let dir = parent.join(name);
    mkdir(&dir)?;
    let cg = RunCgroup {
        version: 2,
        memory: dir.clone(),
        pids: dir.clone(),
    };
    let set = || -> Result<(), String> {
        write(&dir.join("memory.max"), &memory.to_string())?;
        // No swap: the limit is on all memory the run can hold.
        if dir.join("memory.swap.max").exists() {
            write(&dir.join("memory.swap.max"), "0")?;
        }
        write(&dir.join("pids.max"), &tasks.to_string())
    };
    match set() {
        Ok(()) => Ok(cg),
        Err(e) => {
            let _ = std::fs::remove_dir(&dir);
            Err(e)
        }
    }
}

fn create_v1(name: &str, memory: u64, tasks: u64) -> Result<RunCgroup, String> {
    let hierarchy = |controller: &str| -> Result<PathBuf, String> {
        let mount = Path::new(CGROUP_ROOT).join(controller);
        if !mount.join("cgroup.procs").exists() {
            return Err(format!(
                "no v1 {controller} hierarchy at {}",
                mount.display()
            ));
        }
        let own = own_cgroup(controller).unwrap_or_default();
        Ok(mount.join(own).join(name))
    };
    let memory_dir = hierarchy("memory")?;
    let pids_dir = hierarchy("pids")?;
    mkdir(&memory_dir)?;
    if let Err(e) = mkdir(&pids_dir) {
        let _ = std::fs::remove_dir(&memory_dir);
        return Err(e);
    }
    let cg = RunCgroup {
        version: 1,
        memory: memory_dir.clone(),
        pids: pids_dir.clone(),
    };
    let set = || -> Result<(), String> {
        write(
            &memory_dir.join("memory.limit_in_bytes"),
            &memory.to_string(),
        )?;
        // memory+swap: present only with swap accounting; the limit then
        // covers swap too (it must be set after the memory limit).
        let memsw = memory_dir.join("memory.memsw.limit_in_bytes");
        if memsw.exists() {
            write(&memsw, &memory.to_string())?;
        }
        write(&pids_dir.join("pids.max"), &tasks.to_string())
    };
    match set() {
        Ok(()) => Ok(cg),
        Err(e) => {
            let _ = std::fs::remove_dir(&memory_dir);
            let _ = std::fs::remove_dir(&pids_dir);
            Err(e)
        }
    }
}

/// Removes empty cgroups left by a gasguard that was killed before it
/// could (Ctrl-C ends the run through the death signals, not through
/// gasguard's cleanup).
fn sweep_stale() {
    let mut parents = Vec::new();
    for (mount, controller) in [
        ("/sys/fs/cgroup/memory", "memory"),
        ("/sys/fs/cgroup/pids", "pids"),
        ("/sys/fs/cgroup/unified", ""),
        (CGROUP_ROOT, ""),
    ] {
        if let Some(own) = own_cgroup(controller) {
            parents.push(Path::new(mount).join(own));
        }
    }
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix("gasguard-run-")
                .and_then(|r| r.split('-').next())
                .and_then(|p| p.parse::<i32>().ok())
            else {
                continue;
            };
            if pid as u32 != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir(entry.path());
            }
        }
    }
}

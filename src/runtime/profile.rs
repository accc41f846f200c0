//! The sandbox profile: what one run may touch, built as data from the
//! interpreter, the options and the device (`--device cpu|cuda`). Nothing
//! here touches the kernel except creating the run's cgroup; applying the
//! policy is the trampoline's and the supervisor's.

use std::path::{Path, PathBuf};

use crate::config::{ConfigFacts, Modality};
use crate::submission::Submission;
use crate::submission::layout::Layout;

use super::cgroup::RunCgroup;
use super::interpreter::Interpreter;
use super::sandbox_policy::{
    CUDA_DEVICE_PREFIX, CUDA_READ_ONLY, DEVICES, NVIDIA_PCI_VENDOR, ResourceLimits,
    SYSTEM_READ_EXEC, SYSTEM_READ_ONLY, SandboxPolicy, Scratch,
};
use super::workspace::{self, Workspace};
use super::{Device, RuntimeOptions, Unavailable};

/// The uid the child runs as when gasguard runs as root: one no other
/// process uses, so the process cap counts the sandbox alone.
pub const SANDBOX_UID: u32 = 64_434;
/// Tasks (processes and threads) the run may have beyond the sandbox
/// user's current ones (RLIMIT_NPROC) and in all (the pids cgroup).
const TASKS: u64 = 256;
/// With a cgroup bounding real memory, the address-space limit only stops
/// absurd reservations: torch maps far more than it touches (4.2 GiB of
/// address space, 0.55 GiB resident after `import torch`).
const ADDRESS_SPACE_HEADROOM: u64 = 16 << 30;
/// Files and folders the scratch may hold: one per 8 KiB of its size
/// (262,144 for the default 2 GiB), at least 1,024. Nesting folders costs
/// the model time (Landlock checks every ancestor of a path), and however
/// deep they go, the tmpfs goes with the namespace.
pub fn scratch_inodes(size: u64) -> u64 {
    (size / 8192).max(1024)
}

/// Everything one run needs, prepared before the sandbox starts.
pub struct Plan {
    pub workspace: Workspace,
    pub policy: SandboxPolicy,
    pub modality: Modality,
    pub cgroup: Option<RunCgroup>,
    /// Why the run's total memory is not bounded (no usable cgroup and
    /// `--allow-unlimited-memory`).
    pub unbounded_memory: Option<String>,
    /// What the device profile relaxed, for the report.
    pub relaxed: Vec<String>,
}

pub fn plan(
    sub: &Submission,
    layout: &Layout,
    facts: &ConfigFacts,
    interp: &Interpreter,
    options: &RuntimeOptions,
) -> Result<Plan, Unavailable> {
    let Some(modality) = facts.modality else {
        return Err(Unavailable(
            "the config does not name a valid modality".into(),
        ));
    };
    let Some(input_shape) = facts.input_shape.clone() else {
        return Err(Unavailable(
            "the config does not determine the input shape".into(),
        ));
    };
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    // As root, run as an unprivileged user so that file permissions and the
    // process cap apply (the kernel never caps uid 0's processes). An
    // interpreter under a folder closed to that user (/root) is exposed
    // alone through a private mount namespace (see `mounts::expose`).
    let drop_to = root.then_some((SANDBOX_UID, SANDBOX_UID));
    let ws = workspace::create(sub, layout).map_err(Unavailable)?;
    let submission = ws.submission();
    let scratch = ws.scratch();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let mut model_kwargs = facts.model_section.clone();
    model_kwargs
        .entry("num_classes")
        .or_insert(serde_json::json!(facts.num_classes.unwrap_or(2)));
    let config = serde_json::json!({
        "submission": submission,
        "weights": submission.join(&facts.weights_file),
        "model_kwargs": model_kwargs,
        "modality": modality.as_str(),
        "input_shape": input_shape,
        "dtype": facts.dtype,
        "num_classes": facts.num_classes.unwrap_or(2),
        "device": match options.device { Device::Cpu => "cpu", Device::Cuda => "cuda" },
        "scratch": scratch,
        "threads": threads,
    });

    let (cgroup, unbounded_memory) = match RunCgroup::create(&ws.name(), options.memory, TASKS + 16)
    {
        Ok(cg) => (Some(cg), None),
        Err(reason) if options.allow_unlimited_memory => (None, Some(reason)),
        Err(reason) => {
            return Err(Unavailable(format!(
                "the run's total memory cannot be bounded ({reason}); run as root or in a cgroup v2 with the memory and pids controllers delegated, or pass --allow-unlimited-memory to rely on per-process limits only"
            )));
        }
    };
    let mut policy = base_policy(interp, options.device, &submission, &scratch);
    let relaxed = if options.device == Device::Cuda {
        cuda_relaxations(
            &mut policy,
            &devices_named(Path::new("/dev"), CUDA_DEVICE_PREFIX),
            &nvidia_pci_devices(),
        )
    } else {
        Vec::new()
    };
    policy.limits = ResourceLimits {
        address_space: match (options.device, cgroup.is_some()) {
            (Device::Cuda, _) => u64::MAX,
            (Device::Cpu, true) => options.memory.saturating_add(ADDRESS_SPACE_HEADROOM),
            (Device::Cpu, false) => options.memory,
        },
        cpu_seconds: options
            .timeout
            .as_secs()
            .saturating_mul(threads as u64)
            .saturating_add(5),
        file_size: 1 << 30,
        open_files: 1024,
        processes: tasks_of(drop_to.map_or_else(|| unsafe { libc::getuid() }, |(u, _)| u)) + TASKS,
    };
    policy.drop_to = drop_to;
    policy.expose = if drop_to.is_some() {
        closed_ancestors(&policy.read_exec)
    } else {
        Vec::new()
    };
    policy.stage = ws.stage().map_err(Unavailable)?;
    policy.args = vec![
        "-I".into(),
        "-B".into(),
        "-c".into(),
        super::HARNESS.into(),
        config.to_string(),
    ];
    policy.env = environment(&scratch, threads, options.device);
    policy.scratch.size = options.scratch_size;
    policy.scratch.inodes = scratch_inodes(options.scratch_size);
    policy.cgroup_procs = cgroup
        .as_ref()
        .map(RunCgroup::procs_files)
        .unwrap_or_default();
    Ok(Plan {
        workspace: ws,
        policy,
        modality,
        cgroup,
        unbounded_memory,
        relaxed,
    })
}

/// The paths and program of a run on `device`, before limits and ids.
pub fn base_policy(
    interp: &Interpreter,
    device: Device,
    submission: &Path,
    scratch: &Path,
) -> SandboxPolicy {
    let mut read_exec: Vec<PathBuf> = SYSTEM_READ_EXEC.iter().map(PathBuf::from).collect();
    read_exec.extend([interp.prefix.clone(), interp.base_prefix.clone()]);
    if let Some(dir) = interp.real.parent() {
        read_exec.push(dir.to_path_buf());
    }
    read_exec.extend(interp.paths.iter().filter(|p| p.is_dir()).cloned());
    let mut read_only: Vec<PathBuf> = SYSTEM_READ_ONLY.iter().map(PathBuf::from).collect();
    read_only.push(submission.to_path_buf());
    SandboxPolicy {
        read_exec,
        read_only,
        read_write: vec![scratch.to_path_buf()],
        devices: DEVICES.iter().map(PathBuf::from).collect(),
        limits: ResourceLimits {
            address_space: 0,
            cpu_seconds: 0,
            file_size: 0,
            open_files: 0,
            processes: 0,
        },
        drop_to: None,
        expose: Vec::new(),
        stage: PathBuf::new(),
        program: interp.path.clone(),
        args: Vec::new(),
        env: Vec::new(),
        scratch: Scratch {
            path: scratch.to_path_buf(),
            size: super::DEFAULT_SCRATCH,
            inodes: scratch_inodes(super::DEFAULT_SCRATCH),
        },
        submission: submission.to_path_buf(),
        cgroup_procs: Vec::new(),
        cuda: device == Device::Cuda,
    }
}

/// Adds what CUDA needs to `policy` and names each relaxation: the
/// NVIDIA device nodes, the driver's /proc and /sys paths, NVIDIA's PCI
/// devices, sealed non-executable memfds, and no address-space limit
/// (memory stays bounded by the cgroup).
pub fn cuda_relaxations(
    policy: &mut SandboxPolicy,
    device_nodes: &[PathBuf],
    pci: &[PathBuf],
) -> Vec<String> {
    policy.devices.extend(device_nodes.iter().cloned());
    policy
        .read_only
        .extend(CUDA_READ_ONLY.iter().map(PathBuf::from));
    policy.read_only.extend(pci.iter().cloned());
    let mut relaxed = vec![format!(
        "read+write device nodes: {}",
        if device_nodes.is_empty() {
            "none found (/dev/nvidia*)".to_string()
        } else {
            device_nodes
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    )];
    relaxed.push(format!("read-only: {}", CUDA_READ_ONLY.join(", ")));
    if !pci.is_empty() {
        relaxed.push(format!(
            "read-only NVIDIA PCI devices: {}",
            pci.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    relaxed.push("memfd_create allowed only with MFD_NOEXEC_SEAL (never executable)".into());
    relaxed.push("no per-process address-space limit (the cgroup bounds the run's memory)".into());
    relaxed
}

/// `/dev/<prefix>*` device nodes.
pub fn devices_named(dev: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dev)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// The /sys/devices folders of NVIDIA's PCI functions (what NVML reads).
fn nvidia_pci_devices() -> Vec<PathBuf> {
    std::fs::read_dir("/sys/bus/pci/devices")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| {
            std::fs::read_to_string(e.path().join("vendor"))
                .is_ok_and(|v| v.trim() == NVIDIA_PCI_VENDOR)
        })
        .filter_map(|e| std::fs::canonicalize(e.path()).ok())
        .collect()
}

fn environment(scratch: &Path, threads: usize, device: Device) -> Vec<(String, String)> {
    let scratch_s = scratch.to_string_lossy().into_owned();
    let threads_s = threads.to_string();
    let cuda_visible = if device == Device::Cuda {
        std::env::var("CUDA_VISIBLE_DEVICES").unwrap_or_default()
    } else {
        String::new()
    };
    let mut env: Vec<(String, String)> = [
        ("PATH", "/usr/bin:/bin"),
        ("HOME", scratch_s.as_str()),
        ("TMPDIR", scratch_s.as_str()),
        ("XDG_CACHE_HOME", scratch_s.as_str()),
        ("TORCH_HOME", scratch_s.as_str()),
        ("HF_HOME", scratch_s.as_str()),
        ("LANG", "C.UTF-8"),
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("HF_DATASETS_OFFLINE", "1"),
        ("OMP_NUM_THREADS", threads_s.as_str()),
        ("MKL_NUM_THREADS", threads_s.as_str()),
        ("OPENBLAS_NUM_THREADS", threads_s.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.push(("CUDA_VISIBLE_DEVICES".into(), cuda_visible));
    env
}

/// Groups the folders an unprivileged user cannot reach under their
/// topmost closed ancestor: `[(/root, [/root/.pyenv/versions/3.11.7, ...])]`.
fn closed_ancestors(paths: &[PathBuf]) -> Vec<(PathBuf, Vec<PathBuf>)> {
    use std::os::unix::fs::MetadataExt;
    let mut out: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    let mut canonical: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    canonical.sort();
    canonical.dedup();
    // Keep outermost folders only: a nested one comes along with its parent.
    let outermost: Vec<PathBuf> = canonical
        .iter()
        .filter(|p| !canonical.iter().any(|q| q != *p && p.starts_with(q)))
        .cloned()
        .collect();
    for path in outermost {
        let closed = path
            .ancestors()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .find(|dir| std::fs::metadata(dir).is_ok_and(|m| m.mode() & 0o001 == 0))
            .map(Path::to_path_buf);
        if let Some(closed) = closed {
            match out.iter_mut().find(|(c, _)| *c == closed) {
                Some((_, list)) => list.push(path),
                None => out.push((closed, vec![path])),
            }
        }
    }
    out
}

/// Tasks (processes and threads) of `uid` now running: the process cap
/// counts them all.
fn tasks_of(uid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|u| u.parse::<u32>().ok())
                == Some(uid)
        })
        .map(|s| {
            s.lines()
                .find(|l| l.starts_with("Threads:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(1)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interpreter() -> Interpreter {
        Interpreter {
            path: "/opt/venv/bin/python".into(),
            real: "/usr/bin/python3.12".into(),
            prefix: "/opt/venv".into(),
            base_prefix: "/usr".into(),
            paths: vec![],
            version: "3.12.0".into(),
            torch: "2.8.0".into(),
        }
    }

    #[test]
    fn the_cuda_profile_opens_only_what_cuda_needs() {
        let (sub, scratch) = (Path::new("/w/submission"), Path::new("/w/scratch"));
        let cpu = base_policy(&interpreter(), Device::Cpu, sub, scratch);
        let mut cuda = base_policy(&interpreter(), Device::Cuda, sub, scratch);
        let nodes = vec![
            PathBuf::from("/dev/nvidia0"),
            PathBuf::from("/dev/nvidiactl"),
        ];
        let pci = vec![PathBuf::from("/sys/devices/pci0000:00/0000:00:1e.0")];
        let relaxed = cuda_relaxations(&mut cuda, &nodes, &pci);
        // Opened: the device nodes read+write, the driver's paths read-only.
        assert!(nodes.iter().all(|n| cuda.devices.contains(n)));
        for p in [
            "/proc/driver/nvidia",
            "/sys/bus/pci/devices",
            "/sys/module/nvidia",
        ] {
            assert!(cuda.read_only.contains(&PathBuf::from(p)), "{p}");
        }
        assert!(cuda.read_only.contains(&pci[0]));
        // Still closed: /sys as a whole, /dev as a whole, any new write or
        // execute right; nothing the CPU profile has is dropped.
        let sys = PathBuf::from("/sys");
        assert!(!cuda.read_only.contains(&sys) && !cuda.read_exec.contains(&sys));
        assert!(!cuda.devices.contains(&PathBuf::from("/dev")));
        assert_eq!(cuda.read_write, cpu.read_write);
        assert_eq!(cuda.read_exec, cpu.read_exec);
        assert!(cpu.read_only.iter().all(|p| cuda.read_only.contains(p)));
        assert!(!cpu.read_only.iter().any(|p| p.starts_with("/proc/driver")));
        assert!(
            !cpu.devices
                .iter()
                .any(|p| p.to_string_lossy().contains("nvidia"))
        );
        // Every relaxation is named for the report.
        let text = relaxed.join("\n");
        for needle in [
            "/dev/nvidia0",
            "MFD_NOEXEC_SEAL",
            "address-space",
            "/proc/driver/nvidia",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        assert!(cuda.cuda && !cpu.cuda);
    }
}

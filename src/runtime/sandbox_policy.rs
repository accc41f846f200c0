//! What the sandboxed child may touch, as data: built once in the parent,
//! passed to the trampoline, applied in one place (`trampoline.rs`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SandboxPolicy {
    /// Read + execute: the interpreter's prefixes and system libraries.
    pub read_exec: Vec<PathBuf>,
    /// Read only: the materialised submission, config files, /proc, /sys.
    pub read_only: Vec<PathBuf>,
    /// Read + write: the private scratch folder (HOME, TMPDIR).
    pub read_write: Vec<PathBuf>,
    /// Read + write device files (/dev/null ...).
    pub devices: Vec<PathBuf>,
    pub limits: ResourceLimits,
    /// Run the child as this uid/gid when gasguard runs as root.
    pub drop_to: Option<(u32, u32)>,
    /// Folders the unprivileged child must read although an ancestor is
    /// closed to it (an interpreter under /root): in a private mount
    /// namespace, the closed ancestor is covered by an empty tmpfs holding
    /// only these folders. Each entry: (closed ancestor, folders under it).
    pub expose: Vec<(PathBuf, Vec<PathBuf>)>,
    /// Where the trampoline stages bind mounts (inside the workspace).
    pub stage: PathBuf,
    /// The program and arguments to execute, and its whole environment.
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// The private scratch: a tmpfs mounted here inside the sandbox's mount
    /// namespace (HOME, TMPDIR and the working directory).
    pub scratch: Scratch,
    /// The materialised submission, bind-mounted read-only over itself.
    pub submission: PathBuf,
    /// `cgroup.procs` files the trampoline joins before dropping
    /// privileges (empty: no cgroup, the run was allowed without one).
    pub cgroup_procs: Vec<PathBuf>,
    /// Relax what CUDA needs (memfd_create with MFD_NOEXEC_SEAL).
    pub cuda: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scratch {
    pub path: PathBuf,
    /// tmpfs `size=` in bytes: the most the model can write, all files together.
    pub size: u64,
    /// tmpfs `nr_inodes=`: the most files and folders it can create.
    pub inodes: u64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct ResourceLimits {
    pub address_space: u64,
    pub cpu_seconds: u64,
    pub file_size: u64,
    pub open_files: u64,
    /// Processes and threads of the sandbox's user.
    pub processes: u64,
}

/// System locations an interpreter and its native libraries need to read.
pub const SYSTEM_READ_EXEC: &[&str] =
    &["/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib"];
pub const SYSTEM_READ_ONLY: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/usr/share/zoneinfo",
    "/proc",
    "/sys/devices/system/cpu",
    "/sys/fs/cgroup",
];
/// What `--device cuda` adds, and nothing more: the driver's device nodes
/// (`/dev/nvidia*`) and NVIDIA's PCI devices under /sys/devices (both
/// found at run time), and what the CUDA driver and NVML read: the driver's
/// /proc folder, the PCI bus listing, the kernel modules' parameters. Not
/// all of /sys (DMI serials, network interfaces' addresses, every other
/// device).
pub const CUDA_READ_ONLY: &[&str] = &[
    "/proc/driver/nvidia",
    "/sys/bus/pci/devices",
    "/sys/module/nvidia",
    "/sys/module/nvidia_uvm",
    "/usr/share/nvidia",
    "/etc/OpenCL",
];
pub const CUDA_DEVICE_PREFIX: &str = "nvidia";
/// NVIDIA's PCI vendor id, as /sys/bus/pci/devices/*/vendor spells it.
pub const NVIDIA_PCI_VENDOR: &str = "0x10de";
pub const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
    "/dev/full",
];

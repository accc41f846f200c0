//! What the supervisor records, and how it judges an observed call: the
//! facts that come from outside the model's process. Each is one JSON line
//! on the supervisor's pipe to gasguard (fd 4); the model has no access to
//! that pipe (it is closed in the model's process before exec, and Landlock
//! keeps the model from the supervisor's descriptors and memory).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::notify::{Call, Memory};
use super::sandbox_policy::SandboxPolicy;
use super::seccomp::{Observe, Observed};

/// The harness's result pipe to gasguard, from the trampoline to the
/// model's process.
pub const RESULT_FD: i32 = 3;
/// The supervisor's pipe to gasguard, in the trampoline and supervisor.
pub const FACTS_FD: i32 = 4;
/// The harness's stage marks to the supervisor, in the model's process.
pub const STAGE_FD: i32 = 4;

/// One fact the supervisor saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "kebab-case")]
pub enum Fact {
    /// A call the policy does not allow, made after the model's code
    /// started: `what` is `network`, `file-read`, `file-write`, `process`.
    Attempt {
        what: String,
        call: String,
        detail: String,
    },
    /// A process of the run killed by a signal (pid in the sandbox).
    Killed { pid: i32, signal: i32, main: bool },
    /// The harness's stage marks, as they arrived (the model's word: it
    /// shares the harness's process), with the time since the start.
    Stage { stage: String, ms: u64 },
}

/// How the supervisor answers an observed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Let it run: Landlock and the namespaces decide.
    Continue,
    /// Fail it with this errno without running it.
    Deny(i32),
    /// Kill the caller before the call runs (a forbidden call).
    Kill,
}

/// The policy's paths, canonical, for judging observed paths, and the
/// scratch tmpfs's device: anything on it is the model's to use.
pub struct Judge {
    readable: Vec<PathBuf>,
    writable: Vec<PathBuf>,
    scratch_dev: Option<u64>,
}

fn canonical(paths: &[PathBuf]) -> Vec<PathBuf> {
    paths
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect()
}

impl Judge {
    pub fn new(policy: &SandboxPolicy) -> Judge {
        let mut readable = canonical(&policy.read_exec);
        readable.extend(canonical(&policy.read_only));
        readable.extend(canonical(&policy.read_write));
        readable.extend(canonical(&policy.devices));
        readable.push(policy.scratch.path.clone());
        let mut writable = canonical(&policy.read_write);
        writable.extend(canonical(&policy.devices));
        writable.push(policy.scratch.path.clone());
        let scratch_dev = std::fs::metadata(&policy.scratch.path)
            .ok()
            .map(|m| std::os::unix::fs::MetadataExt::dev(&m));
        Judge {
            readable,
            writable,
            scratch_dev,
        }
    }

    fn readable(&self, p: &Path) -> bool {
        self.readable.iter().any(|a| p.starts_with(a))
    }

    fn writable(&self, p: &Path) -> bool {
        self.writable.iter().any(|a| p.starts_with(a))
    }

    /// What to record for `call`, and whether the supervisor refuses it
    /// (`Some(errno)`) or lets the kernel decide (`None`).
    pub fn judge(
        &self,
        call: &Call,
        row: &Observe,
        mem: Option<&Memory>,
    ) -> (Option<Fact>, Answer) {
        let attempt = |what: &str, detail: String| {
            Some(Fact::Attempt {
                what: what.into(),
                call: row.name.into(),
                detail: clip(&detail),
            })
        };
        let a = call.args;
        match row.what {
            Observed::Socket => (
                attempt(
                    "network",
                    format!("socket({}, {})", family(a[0]), socket_type(a[1])),
                ),
                Answer::Deny(libc::EACCES),
            ),
            Observed::Connect => {
                let addr = mem.map(|m| m.bytes(a[1], (a[2] as usize).min(128)));
                (
                    attempt(
                        "network",
                        format!("connect to {}", sockaddr(addr.as_deref())),
                    ),
                    Answer::Deny(libc::EACCES),
                )
            }
            Observed::SendTo => {
                let addr = mem.map(|m| m.bytes(a[4], (a[5] as usize).min(128)));
                (
                    attempt("network", format!("send to {}", sockaddr(addr.as_deref()))),
                    Answer::Deny(libc::EACCES),
                )
            }
            Observed::SendMsg => {
                // struct msghdr starts with msg_name, msg_namelen.
                let head = mem.map(|m| m.bytes(a[1], 16)).unwrap_or_default();
                let name = head
                    .get(..8)
                    .map(|b| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])))
                    .unwrap_or(0);
                if name == 0 || row.name == "sendmmsg" && head.len() < 16 {
                    (None, Answer::Continue)
                } else {
                    let len = head
                        .get(8..12)
                        .map(|b| u32::from_ne_bytes(b.try_into().unwrap_or([0; 4])))
                        .unwrap_or(0);
                    let addr = mem.map(|m| m.bytes(name, (len as usize).min(128)));
                    (
                        attempt("network", format!("send to {}", sockaddr(addr.as_deref()))),
                        Answer::Deny(libc::EACCES),
                    )
                }
            }
            Observed::Open(dirfd, path, flags) => {
                // openat2 and creat carry no flags word here: creat writes,
                // openat2's struct is judged as a write to be safe.
                let f = flags.map_or(libc::O_WRONLY as u64, |i| a[i as usize]);
                let writes =
                    f & (libc::O_WRONLY | libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC) as u64 != 0;
                match self.locate(call, mem, dirfd, path) {
                    Place::Outside { path, .. } if writes && !self.writable(&path) => (
                        attempt("file-write", format!("open {} for writing", path.display())),
                        Answer::Continue,
                    ),
                    Place::Outside { path, exists: true } if !writes && !self.readable(&path) => (
                        attempt("file-read", format!("read {}", path.display())),
                        Answer::Continue,
                    ),
                    _ => (None, Answer::Continue),
                }
            }
            Observed::Change(dirfd, path) => match self.locate(call, mem, dirfd, path) {
                Place::Outside { path, .. } if !self.writable(&path) => (
                    attempt("file-write", format!("{} {}", row.name, path.display())),
                    Answer::Continue,
                ),
                _ => (None, Answer::Continue),
            },
            Observed::Exec => {
                let target = match self.locate(call, mem, None, 0) {
                    Place::Outside { path, .. } => path.display().to_string(),
                    Place::Scratch => "a file in the scratch".into(),
                    Place::Unknown => "?".into(),
                };
                (
                    attempt("process", format!("execute {target}")),
                    Answer::Continue,
                )
            }
            Observed::Fork => (
                attempt("process", "start a process (fork)".into()),
                Answer::Continue,
            ),
            Observed::Forbidden(why) => (
                attempt(
                    "forbidden-call",
                    format!("{} ({why}); the process was killed", row.name),
                ),
                Answer::Kill,
            ),
        }
    }

    /// Where the path a call names lies, resolved by the kernel as the
    /// caller would resolve it (relative to its working directory or
    /// `dirfd`, through symlinks in the last component): on the scratch
    /// tmpfs (compared by device: cheap, however deep the folder), or
    /// elsewhere, with its canonical path.
    fn locate(&self, call: &Call, mem: Option<&Memory>, dirfd: Option<u8>, arg: u8) -> Place {
        let Some(mut raw) = mem.and_then(|m| m.c_string(call.args[arg as usize], 4096)) else {
            return Place::Unknown;
        };
        // /proc/self names the caller, not the supervisor resolving it.
        for link in [&b"/proc/self"[..], b"/proc/thread-self"] {
            if raw.starts_with(link) && matches!(raw.get(link.len()), None | Some(b'/')) {
                let mut own = format!("/proc/{}", call.pid).into_bytes();
                own.extend_from_slice(&raw[link.len()..]);
                raw = own;
                break;
            }
        }
        let base = if raw.first() == Some(&b'/') {
            "/".to_string()
        } else {
            match dirfd.map(|i| call.args[i as usize] as i32) {
                Some(fd) if fd != libc::AT_FDCWD => format!("/proc/{}/fd/{fd}", call.pid),
                _ => format!("/proc/{}/cwd", call.pid),
            }
        };
        let trimmed = {
            let mut end = raw.len();
            while end > 1 && raw[end - 1] == b'/' {
                end -= 1;
            }
            &raw[..end]
        };
        let (parent, name): (&[u8], Option<&[u8]>) = match trimmed.iter().rposition(|&c| c == b'/')
        {
            Some(i) => (
                if i == 0 { b"/" } else { &trimmed[..i] },
                Some(&trimmed[i + 1..]),
            ),
            None => (b".", Some(trimmed)),
        };
        let name = name.filter(|n| !n.is_empty() && *n != b"." && *n != b"..");
        let parent: &[u8] = if name.is_none() { trimmed } else { parent };
        let Some(base_fd) = open_path(None, base.as_bytes(), true) else {
            return Place::Unknown;
        };
        let Some(dir) = open_path(Some(&base_fd), parent, true) else {
            // A folder that does not exist or cannot be searched: judged
            // by its lexical path. One the supervisor may not search (a
            // closed home folder) may hold anything: a read there counts.
            let hidden = std::io::Error::last_os_error().raw_os_error() == Some(libc::EACCES);
            let lexical = std::fs::read_link(&base)
                .unwrap_or_else(|_| PathBuf::from("/"))
                .join(std::ffi::OsStr::from_bytes(trimmed));
            return Place::Outside {
                path: normalise(&lexical),
                exists: hidden,
            };
        };
        // The last component, followed if it is a symlink (as open does).
        let (target, missing) = match name {
            Some(n) => match open_path(Some(&dir), n, false) {
                Some(fd) => (fd, None),
                None => (dir, Some(n)),
            },
            None => (dir, None),
        };
        // SAFETY: fstat on a descriptor we own, into a zeroed struct.
        let dev = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            (libc::fstat(target.as_raw_fd(), &mut st) == 0).then_some(st.st_dev)
        };
        if dev.is_some() && dev == self.scratch_dev {
            return Place::Scratch;
        }
        let Ok(resolved) = std::fs::read_link(format!("/proc/self/fd/{}", target.as_raw_fd()))
        else {
            return Place::Unknown;
        };
        match missing {
            Some(n) => Place::Outside {
                path: resolved.join(std::ffi::OsStr::from_bytes(n)),
                exists: false,
            },
            None => Place::Outside {
                path: resolved,
                exists: true,
            },
        }
    }
}

/// Where an observed path lies.
enum Place {
    Scratch,
    Outside { path: PathBuf, exists: bool },
    Unknown,
}

/// openat(dirfd, path, O_PATH): a handle to what `path` names, following
/// a final symlink unless `dir_only` (then it must be a folder).
fn open_path(dir: Option<&OwnedFd>, path: &[u8], dir_only: bool) -> Option<OwnedFd> {
    let c = CString::new(path).ok()?;
    let flags = libc::O_PATH | libc::O_CLOEXEC | if dir_only { libc::O_DIRECTORY } else { 0 };
    let dirfd = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: openat with a valid C string; the descriptor is owned here.
    let fd = unsafe { libc::openat(dirfd, c.as_ptr(), flags) };
    // SAFETY: a fresh descriptor on success.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `.` and `..` removed without touching the filesystem.
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn clip(s: &str) -> String {
    let mut s = crate::sanitize::sanitize(s);
    if s.len() > 300 {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

fn family(f: u64) -> String {
    match f as i32 {
        libc::AF_UNIX => "AF_UNIX".into(),
        libc::AF_INET => "AF_INET".into(),
        libc::AF_INET6 => "AF_INET6".into(),
        libc::AF_NETLINK => "AF_NETLINK".into(),
        libc::AF_PACKET => "AF_PACKET".into(),
        n => format!("family {n}"),
    }
}

fn socket_type(t: u64) -> String {
    match (t as i32) & 0xf {
        libc::SOCK_STREAM => "SOCK_STREAM".into(),
        libc::SOCK_DGRAM => "SOCK_DGRAM".into(),
        libc::SOCK_RAW => "SOCK_RAW".into(),
        n => format!("type {n}"),
    }
}

/// A sockaddr as text: `1.2.3.4:80`, `[::1]:80`, `unix:/path`.
fn sockaddr(bytes: Option<&[u8]>) -> String {
    let Some(b) = bytes.filter(|b| b.len() >= 2) else {
        return "an unreadable address".into();
    };
    let family = i32::from(u16::from_ne_bytes([b[0], b[1]]));
    match family {
        libc::AF_INET if b.len() >= 8 => format!(
            "{}.{}.{}.{}:{}",
            b[4],
            b[5],
            b[6],
            b[7],
            u16::from_be_bytes([b[2], b[3]])
        ),
        libc::AF_INET6 if b.len() >= 24 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&b[8..24]);
            format!(
                "[{}]:{}",
                std::net::Ipv6Addr::from(octets),
                u16::from_be_bytes([b[2], b[3]])
            )
        }
        libc::AF_UNIX => {
            let path = &b[2..];
            if path.first() == Some(&0) {
                format!(
                    "unix:@{}",
                    String::from_utf8_lossy(&path[1..]).trim_end_matches('\0')
                )
            } else {
                let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                format!("unix:{}", String::from_utf8_lossy(&path[..end]))
            }
        }
        n => format!("an address of family {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_text() {
        let mut v4 = vec![0u8; 16];
        v4[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        v4[2..4].copy_from_slice(&8080u16.to_be_bytes());
        v4[4..8].copy_from_slice(&[127, 0, 0, 1]);
        assert_eq!(sockaddr(Some(&v4)), "127.0.0.1:8080");
        let mut unix = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        unix.extend_from_slice(b"/run/x.sock\0");
        assert_eq!(sockaddr(Some(&unix)), "unix:/run/x.sock");
        assert_eq!(sockaddr(None), "an unreadable address");
    }

    #[test]
    fn paths_normalise_lexically() {
        assert_eq!(
            normalise(Path::new("/nonexistent-gasguard/a/../b/./c")),
            PathBuf::from("/nonexistent-gasguard/b/c")
        );
    }
}

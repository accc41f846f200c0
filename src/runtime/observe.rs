//! What the supervisor records, and how it judges an observed call: the
//! facts that come from outside the model's process. Each is one JSON line
//! on the supervisor's pipe to gasguard (fd 4); the model has no access to
//! that pipe (it is closed in the model's process before exec, and Landlock
//! keeps the model from the supervisor's descriptors and memory).

use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::notify::{Call, Memory};
use super::sandbox_policy::SandboxPolicy;
use super::seccomp::{Observe, Observed};

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
    /// The observation itself failed (a listener error): the run is not
    /// vouched for.
    Lost { reason: String },
}

/// The policy's paths, canonical, for judging observed paths.
pub struct Judge {
    readable: Vec<PathBuf>,
    writable: Vec<PathBuf>,
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
        Judge { readable, writable }
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
    ) -> (Option<Fact>, Option<i32>) {
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
                Some(libc::EACCES),
            ),
            Observed::Connect => {
                let addr = mem.map(|m| m.bytes(a[1], (a[2] as usize).min(128)));
                (
                    attempt(
                        "network",
                        format!("connect to {}", sockaddr(addr.as_deref())),
                    ),
                    Some(libc::EACCES),
                )
            }
            Observed::SendTo => {
                let addr = mem.map(|m| m.bytes(a[4], (a[5] as usize).min(128)));
                (
                    attempt("network", format!("send to {}", sockaddr(addr.as_deref()))),
                    Some(libc::EACCES),
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
                    (None, None)
                } else {
                    let len = head
                        .get(8..12)
                        .map(|b| u32::from_ne_bytes(b.try_into().unwrap_or([0; 4])))
                        .unwrap_or(0);
                    let addr = mem.map(|m| m.bytes(name, (len as usize).min(128)));
                    (
                        attempt("network", format!("send to {}", sockaddr(addr.as_deref()))),
                        Some(libc::EACCES),
                    )
                }
            }
            Observed::Open(dirfd, path, flags) => {
                let Some(p) = self.path_of(call, mem, dirfd, path) else {
                    return (None, None);
                };
                // openat2 and creat carry no flags word here: creat writes,
                // openat2's struct is judged as a write to be safe.
                let f = flags.map_or(libc::O_WRONLY as u64, |i| a[i as usize]);
                let writes =
                    f & (libc::O_WRONLY | libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC) as u64 != 0;
                if writes && !self.writable(&p) {
                    (
                        attempt("file-write", format!("open {} for writing", p.display())),
                        None,
                    )
                } else if !writes && !self.readable(&p) && exists_or_hidden(&p) {
                    (attempt("file-read", format!("read {}", p.display())), None)
                } else {
                    (None, None)
                }
            }
            Observed::Change(dirfd, path) => match self.path_of(call, mem, dirfd, path) {
                Some(p) if !self.writable(&p) => (
                    attempt("file-write", format!("{} {}", row.name, p.display())),
                    None,
                ),
                _ => (None, None),
            },
            Observed::Exec => {
                let p = self.path_of(call, mem, None, 0);
                (
                    attempt(
                        "process",
                        format!(
                            "execute {}",
                            p.map_or("?".into(), |p| p.display().to_string())
                        ),
                    ),
                    None,
                )
            }
            Observed::Fork => (attempt("process", "start a process (fork)".into()), None),
        }
    }

    /// The absolute, canonical path a call names (relative paths resolved
    /// against the caller's working directory or `dirfd`).
    fn path_of(
        &self,
        call: &Call,
        mem: Option<&Memory>,
        dirfd: Option<u8>,
        arg: u8,
    ) -> Option<PathBuf> {
        let raw = mem?.c_string(call.args[arg as usize], 4096)?;
        let raw = PathBuf::from(std::ffi::OsStr::from_bytes(&raw));
        let full = if raw.is_absolute() {
            raw
        } else {
            let base = match dirfd.map(|i| call.args[i as usize] as i32) {
                Some(fd) if fd != libc::AT_FDCWD => format!("/proc/{}/fd/{fd}", call.pid),
                _ => format!("/proc/{}/cwd", call.pid),
            };
            std::fs::read_link(base).ok()?.join(raw)
        };
        Some(resolve(&full))
    }
}

/// Canonical where it exists (symlinks followed, as the kernel will);
/// otherwise the parent's canonical form plus the name, else lexical.
fn resolve(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    if let (Some(parent), Some(name)) = (p.parent(), p.file_name())
        && let Ok(c) = std::fs::canonicalize(parent)
    {
        return c.join(name);
    }
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

/// A read of a missing file is no attempt on anything; one the supervisor
/// cannot even look at (a closed folder) is.
fn exists_or_hidden(p: &Path) -> bool {
    match std::fs::symlink_metadata(p) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::PermissionDenied,
    }
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
    fn paths_resolve_lexically_when_missing() {
        assert_eq!(
            resolve(Path::new("/nonexistent-gasguard/a/../b/./c")),
            PathBuf::from("/nonexistent-gasguard/b/c")
        );
    }
}

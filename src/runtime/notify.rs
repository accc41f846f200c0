//! seccomp user notification: the kernel stops a sandboxed process at an
//! observed system call and asks the listener (the supervisor) what to do.
//! This module is the kernel interface only: installing the filter with a
//! listener, receiving, answering, and reading the caller's memory (the
//! path or address a call names). What is recorded is `observe.rs`'s.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileExt;

use seccompiler::BpfProgram;

/// A received notification: who called what, with which arguments.
pub struct Call {
    pub id: u64,
    pub pid: u32,
    pub nr: i64,
    pub args: [u64; 6],
}

/// The listener end, owned by the supervisor.
pub struct Listener {
    fd: OwnedFd,
}

/// Installs `program` on the calling thread with a listener, returning the
/// listener's descriptor (no_new_privs must be set).
pub fn install(program: &BpfProgram) -> Result<OwnedFd, String> {
    #[repr(C)]
    struct SockFprog {
        len: libc::c_ushort,
        filter: *const seccompiler::sock_filter,
    }
    let len = libc::c_ushort::try_from(program.len())
        .map_err(|_| "seccomp: the observer filter is too long".to_string())?;
    let prog = SockFprog {
        len,
        filter: program.as_ptr(),
    };
    // SAFETY: seccomp(2) reads `prog` and the instructions it points to,
    // which live until the call returns.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &prog as *const SockFprog,
        )
    };
    if fd < 0 {
        return Err(format!(
            "seccomp user notification is unavailable: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: a fresh descriptor the kernel just returned.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

impl Listener {
    /// Takes descriptor `fd` of process `pid` (the listener it installed)
    /// with pidfd_getfd(2): the supervisor is its parent and not confined.
    pub fn take(pid: i32, fd: i32) -> Result<Listener, String> {
        let err = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
        // SAFETY: plain system calls; the returned descriptors are owned here.
        unsafe {
            let pidfd = libc::syscall(libc::SYS_pidfd_open, pid, 0);
            if pidfd < 0 {
                return Err(err("pidfd_open"));
            }
            let pidfd = OwnedFd::from_raw_fd(pidfd as i32);
            let listener = libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0);
            if listener < 0 {
                return Err(err("pidfd_getfd"));
            }
            Ok(Listener {
                fd: OwnedFd::from_raw_fd(listener as i32),
            })
        }
    }

    /// Blocks until a call arrives. `None` when the listener is gone (every
    /// filtered process has exited).
    pub fn recv(&self) -> Option<Call> {
        loop {
            // SAFETY: the kernel requires a zeroed buffer of this layout.
            let mut n: libc::seccomp_notif = unsafe { std::mem::zeroed() };
            // SAFETY: ioctl on our listener with a buffer of the right size.
            let rc =
                unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut n) };
            if rc == 0 {
                return Some(Call {
                    id: n.id,
                    pid: n.pid,
                    nr: i64::from(n.data.nr),
                    args: n.data.args,
                });
            }
            match std::io::Error::last_os_error().raw_os_error() {
                // Interrupted, or the caller died before we received it.
                Some(libc::EINTR) | Some(libc::ENOENT) => continue,
                _ => return None,
            }
        }
    }

    /// Whether the call is still pending (its caller alive and waiting):
    /// memory read before this check belongs to that caller.
    pub fn still_valid(&self, id: u64) -> bool {
        // SAFETY: ioctl on our listener with a pointer to a u64.
        unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
                &id as *const u64,
            ) == 0
        }
    }

    /// Lets the call proceed: the kernel (Landlock, the namespaces) decides.
    pub fn allow(&self, id: u64) {
        self.send(id, 0, libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32);
    }

    /// Fails the call with `errno` without running it.
    pub fn deny(&self, id: u64, errno: i32) {
        self.send(id, -errno, 0);
    }

    fn send(&self, id: u64, error: i32, flags: u32) {
        let mut resp = libc::seccomp_notif_resp {
            id,
            val: 0,
            error,
            flags,
        };
        // SAFETY: ioctl on our listener with a response of the right layout.
        // A failure means the caller is gone: nothing to answer.
        unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SEND,
                &mut resp,
            );
        }
    }
}

/// Reads a process's memory through /proc/PID/mem.
pub struct Memory {
    file: File,
}

impl Memory {
    pub fn open(pid: u32) -> Option<Memory> {
        File::open(format!("/proc/{pid}/mem"))
            .ok()
            .map(|file| Memory { file })
    }

    /// `len` bytes at `addr` (fewer where the memory ends).
    pub fn bytes(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        let n = self.file.read_at(&mut buf, addr).unwrap_or(0);
        buf.truncate(n);
        buf
    }

    /// A NUL-terminated string at `addr`, at most `max` bytes.
    pub fn c_string(&self, addr: u64, max: usize) -> Option<Vec<u8>> {
        if addr == 0 {
            return None;
        }
        let mut out = Vec::new();
        let mut at = addr;
        while out.len() < max {
            // Read up to the page end: the next page may be unmapped.
            let room = (4096 - (at % 4096)) as usize;
            let chunk = self.bytes(at, room.min(max - out.len()));
            if chunk.is_empty() {
                return None;
            }
            if let Some(end) = chunk.iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..end]);
                return Some(out);
            }
            at += chunk.len() as u64;
            out.extend_from_slice(&chunk);
        }
        Some(out)
    }
}

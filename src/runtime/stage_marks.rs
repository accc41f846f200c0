//! The harness's stage marks, as the supervisor reads them. The mark
//! before model.py is imported (`import-model`) is written before any of
//! the model's calls, so whoever judges a call first catches up with the
//! marks already in the pipe: whether an attempt is recorded never depends
//! on which of the supervisor's threads the kernel happened to run first
//! (a reader thread of its own lagged behind the observer under load, and
//! the model's first attempts went unrecorded).

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use super::observe::Fact;

/// At most this many marks become facts; a line is cut at this length.
const MAX_MARKS: usize = 16;
const MAX_LINE: usize = 256;

pub struct StageMarks {
    fd: RawFd,
    start: Instant,
    read: Mutex<Reader>,
    recording: AtomicBool,
}

struct Reader {
    pipe: File,
    line: Vec<u8>,
    seen: usize,
}

impl StageMarks {
    /// `read` is the stage pipe's read end; `start` dates the marks.
    pub fn new(read: OwnedFd, start: Instant) -> StageMarks {
        let fd = read.as_raw_fd();
        // SAFETY: fcntl on a descriptor we own. Non-blocking: catching up
        // reads only what is already there.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        StageMarks {
            fd,
            start,
            read: Mutex::new(Reader {
                pipe: File::from(read),
                line: Vec::new(),
                seen: 0,
            }),
            recording: AtomicBool::new(false),
        }
    }

    /// Whether the model's code has started, counting every mark written
    /// before now. Everything from `import-model` on is the model's doing.
    pub fn recording(&self, send: &impl Fn(&Fact)) -> bool {
        if !self.recording.load(Ordering::SeqCst) {
            self.catch_up(send);
        }
        self.recording.load(Ordering::SeqCst)
    }

    /// Follows the marks until the harness's end of the pipe is closed.
    pub fn follow(&self, send: &impl Fn(&Fact)) {
        loop {
            let mut p = libc::pollfd {
                fd: self.fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: poll on one descriptor that lives as long as `self`.
            let n = unsafe { libc::poll(&mut p, 1, -1) };
            if n == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
            {
                continue;
            }
            if n == -1 || p.revents & (libc::POLLERR | libc::POLLNVAL) != 0 || !self.catch_up(send)
            {
                return;
            }
        }
    }

    /// Reads what is in the pipe now, without waiting; false at its end.
    fn catch_up(&self, send: &impl Fn(&Fact)) -> bool {
        let mut reader = self.read.lock().unwrap_or_else(PoisonError::into_inner);
        let mut buf = [0u8; 512];
        loop {
            match reader.pipe.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => {
                    for &byte in &buf[..n] {
                        if byte == b'\n' || reader.line.len() >= MAX_LINE {
                            let line = std::mem::take(&mut reader.line);
                            self.mark(&mut reader.seen, &line, send);
                        }
                        if byte != b'\n' {
                            reader.line.push(byte);
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return e.kind() == std::io::ErrorKind::WouldBlock,
            }
        }
    }

    fn mark(&self, seen: &mut usize, line: &[u8], send: &impl Fn(&Fact)) {
        let stage = String::from_utf8_lossy(line);
        if !matches!(stage.as_ref(), "start" | "import-libraries") {
            self.recording.store(true, Ordering::SeqCst);
        }
        *seen += 1;
        if *seen <= MAX_MARKS {
            send(&Fact::Stage {
                stage: crate::sanitize::sanitize(&stage.chars().take(40).collect::<String>()),
                ms: self.start.elapsed().as_millis() as u64,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::FromRawFd;
    use std::sync::Arc;

    fn pipe() -> (OwnedFd, File) {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fresh descriptors.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both are ours alone.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
    }

    fn stages(sent: &Mutex<Vec<Fact>>) -> Vec<String> {
        sent.lock()
            .expect("lock")
            .iter()
            .filter_map(|f| match f {
                Fact::Stage { stage, .. } => Some(stage.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_call_judged_after_the_import_model_mark_is_recorded_with_no_reader_thread() {
        // No thread follows the pipe here: the mark is only in the pipe,
        // as when the reader thread has not run yet.
        let (read, mut write) = pipe();
        let marks = StageMarks::new(read, Instant::now());
        let sent = Mutex::new(Vec::new());
        let send = |f: &Fact| sent.lock().expect("lock").push(f.clone());
        write
            .write_all(b"start\nimport-libraries\n")
            .expect("write");
        assert!(!marks.recording(&send), "libraries load before model code");
        write.write_all(b"import-model\n").expect("write");
        assert!(marks.recording(&send), "the model's code had started");
        assert_eq!(stages(&sent), ["start", "import-libraries", "import-model"]);
    }

    #[test]
    fn following_ends_at_the_pipes_end_with_every_mark_sent_once() {
        let (read, mut write) = pipe();
        let marks = Arc::new(StageMarks::new(read, Instant::now()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let follower = {
            let (marks, sent) = (Arc::clone(&marks), Arc::clone(&sent));
            std::thread::spawn(move || {
                marks.follow(&|f: &Fact| sent.lock().expect("lock").push(f.clone()))
            })
        };
        let send = |f: &Fact| sent.lock().expect("lock").push(f.clone());
        write.write_all(b"start\nimport-model\nlo").expect("write");
        let _ = marks.recording(&send);
        write.write_all(b"ad\ndone\n").expect("write");
        drop(write);
        follower.join().expect("follower");
        assert_eq!(stages(&sent), ["start", "import-model", "load", "done"]);
    }
}

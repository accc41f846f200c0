//! Starting the sandbox and collecting what comes back: the trampoline's
//! exit status (the model's main process's, as the kernel reported it to
//! the supervisor), the supervisor's facts, the harness's result, the
//! bounded output, and the cgroup's measurements. The wall-clock timeout
//! and the final kill are here.

use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use super::cgroup::CgroupUsage;
use super::observe::{FACTS_FD, Fact, RESULT_FD};
use super::profile::Plan;
use super::{HarnessResult, RuntimeOptions, Unavailable, trampoline};

const CAPTURE_LIMIT: usize = 64 * 1024;
const RESULT_LIMIT: usize = 1 << 20;

/// What a run left behind, for `verdict`.
pub struct Outcome {
    pub timed_out: bool,
    /// The signal that ended the model's main process.
    pub signal: Option<i32>,
    pub code: Option<i32>,
    pub wall_ms: f64,
    pub setup_ms: Option<f64>,
    /// The supervisor's facts, in arrival order.
    pub facts: Vec<Fact>,
    pub cgroup: Option<CgroupUsage>,
    /// The harness's result (the model's word).
    pub result: Option<HarnessResult>,
    pub stderr_tail: String,
    pub output_dropped: u64,
    /// Ctrl-C or SIGTERM arrived during the run: the run was ended and
    /// cleaned up, and the caller re-raises it.
    pub interrupted: Option<i32>,
}

impl Outcome {
    pub fn exit_text(&self) -> String {
        match (self.timed_out, self.signal, self.code) {
            (true, _, _) => "timeout".into(),
            (_, Some(s), _) => format!("signal {s}"),
            (_, _, Some(c)) => format!("exit {c}"),
            _ => "unknown".into(),
        }
    }
}

pub fn launch(plan: &mut Plan, options: &RuntimeOptions) -> Result<Outcome, Unavailable> {
    let exe = std::env::current_exe()
        .map_err(|e| Unavailable(format!("cannot find the gasguard binary: {e}")))?;
    let (result_read, result_write) = pipe().map_err(Unavailable)?;
    let (facts_read, facts_write) = pipe().map_err(Unavailable)?;
    let (result_fd, facts_fd) = (result_write.as_raw_fd(), facts_write.as_raw_fd());
    let mut command = Command::new(exe);
    command
        .arg("__sandbox-exec")
        .arg(trampoline::encode(&plan.policy))
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls (fcntl, dup2, close, prctl)
    // between fork and exec.
    unsafe {
        command.pre_exec(move || {
            hand_down(result_fd, facts_fd)?;
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| Unavailable(format!("cannot start the sandbox: {e}")))?;
    drop((result_write, facts_write));
    let stdout = child.stdout.take().map(|s| capture(s, CAPTURE_LIMIT));
    let stderr = child.stderr.take().map(|s| capture(s, CAPTURE_LIMIT));
    let result_rx = capture(std::fs::File::from(result_read), RESULT_LIMIT + 1);
    let facts_rx = read_facts(facts_read, start);

    let mut timed_out = false;
    let interrupts = Interrupts::catch();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= options.timeout || interrupts.caught().is_some() => {
                timed_out = interrupts.caught().is_none();
                // The cgroup kill and the trampoline's death (whose death
                // signal ends the supervisor and so the namespace) are two
                // independent ways to end every process of the run.
                if let Some(cg) = &plan.cgroup {
                    cg.kill_all();
                }
                let _ = child.kill();
                match child.wait() {
                    Ok(s) => break s,
                    Err(e) => return Err(Unavailable(format!("lost the sandbox process: {e}"))),
                }
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(Unavailable(format!("lost the sandbox process: {e}"))),
        }
    };
    let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
    let interrupted = interrupts.caught();
    drop(interrupts);
    let cgroup = plan.cgroup.take().map(|cg| cg.finish(options.memory));
    // Every writer is dead with the namespace; a short grace covers the drain.
    let grace = Duration::from_secs(5);
    let (_stdout_kept, out_dropped) = stdout
        .and_then(|r| r.recv_timeout(grace).ok())
        .unwrap_or_default();
    let (err, err_dropped) = stderr
        .and_then(|r| r.recv_timeout(grace).ok())
        .unwrap_or_default();
    let (result_bytes, _) = result_rx.recv_timeout(grace).unwrap_or_default();
    let (facts, setup_ms) = facts_rx.recv_timeout(grace).unwrap_or_default();
    let code = status.code();
    if code == Some(trampoline::EXIT_CANNOT_ENFORCE) || code == Some(trampoline::EXIT_EXEC_FAILED) {
        let text = String::from_utf8_lossy(&err);
        let line = text
            .lines()
            .find(|l| l.starts_with("gasguard-sandbox:"))
            .unwrap_or("the sandbox failed to start");
        return Err(Unavailable(
            line.trim_start_matches("gasguard-sandbox: ").to_string(),
        ));
    }
    let signal = code
        .filter(|c| *c > trampoline::EXIT_SIGNAL_BASE)
        .map(|c| c - trampoline::EXIT_SIGNAL_BASE);
    let result: Option<HarnessResult> = if result_bytes.len() <= RESULT_LIMIT {
        serde_json::from_slice(&result_bytes).ok()
    } else {
        None
    };
    Ok(Outcome {
        timed_out,
        signal,
        code,
        wall_ms,
        setup_ms,
        facts,
        cgroup,
        result,
        stderr_tail: tail(&err),
        output_dropped: out_dropped + err_dropped,
        interrupted,
    })
}

static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    CAUGHT.store(signal, Ordering::SeqCst);
}

/// SIGINT and SIGTERM caught for the length of a run, so that the run is
/// ended and removed (processes, cgroup, folder) before gasguard dies of
/// them; the previous handlers are restored when the last run in progress
/// drops its guard (paths are checked on threads of their own: a guard of
/// its own per run restored the default while another run went on, and
/// the last to finish left the handler installed for good). (Without this,
/// the death signals would still end every process of the run, but the
/// run's folder and cgroup would stay.)
struct Interrupts(());

/// How many runs are in progress, and the handlers the first one replaced.
static ACTIVE: Mutex<(usize, Vec<(libc::c_int, libc::sigaction)>)> = Mutex::new((0, Vec::new()));

impl Interrupts {
    fn catch() -> Interrupts {
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        if active.0 == 0 {
            // A signal caught during a run still in progress is kept.
            CAUGHT.store(0, Ordering::SeqCst);
            for signal in [libc::SIGINT, libc::SIGTERM] {
                // SAFETY: sigaction with a handler that only stores an atomic.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = on_signal as *const () as usize;
                    let mut old: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(signal, &action, &mut old) == 0 {
                        active.1.push((signal, old));
                    }
                }
            }
        }
        active.0 += 1;
        Interrupts(())
    }

    fn caught(&self) -> Option<i32> {
        Some(CAUGHT.load(Ordering::SeqCst)).filter(|&s| s != 0)
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
        active.0 -= 1;
        if active.0 == 0 {
            for (signal, old) in active.1.drain(..) {
                // SAFETY: restores the handler sigaction returned.
                unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
            }
        }
    }
}

/// Ends gasguard by `signal` with its default action, as if the handler
/// had never been there (after the run was cleaned up).
pub fn reraise(signal: i32) -> ! {
    // SAFETY: resetting a handler and raising a signal.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
    std::process::exit(128 + signal)
}

/// The last 1,500 characters of the model's stderr, made terminal-safe.
fn tail(bytes: &[u8]) -> String {
    let text = crate::sanitize::sanitize(&String::from_utf8_lossy(bytes));
    let start = text.len().saturating_sub(1500);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].trim().to_string()
}

/// Reads the supervisor's JSON lines (bounded), noting when the harness's
/// first stage mark arrived: the setup time, spawn to interpreter start.
fn read_facts(read: OwnedFd, start: Instant) -> mpsc::Receiver<(Vec<Fact>, Option<f64>)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut facts = Vec::new();
        let mut setup = None;
        let reader = BufReader::new(std::fs::File::from(read).take(4 << 20));
        for line in reader.split(b'\n') {
            let Ok(line) = line else { break };
            if let Ok(fact) = serde_json::from_slice::<Fact>(&line) {
                if setup.is_none() && matches!(&fact, Fact::Stage { .. }) {
                    setup = Some(start.elapsed().as_secs_f64() * 1000.0);
                }
                if facts.len() < 1000 {
                    facts.push(fact);
                }
            }
        }
        let _ = tx.send((facts, setup));
    });
    rx
}

/// Reads up to `limit` bytes, then drains the rest (so the writer never
/// blocks), reporting how much was dropped.
fn capture(mut reader: impl Read + Send + 'static, limit: usize) -> mpsc::Receiver<(Vec<u8>, u64)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut dropped = 0u64;
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = limit.saturating_sub(kept.len()).min(n);
                    kept.extend_from_slice(&buf[..room]);
                    dropped += (n - room) as u64;
                }
            }
        }
        let _ = tx.send((kept, dropped));
    });
    rx
}

/// Between fork and exec: puts `result` on [`RESULT_FD`] and `facts` on
/// [`FACTS_FD`], without close-on-exec. Each is first copied above both
/// targets: either may sit on 3 or 4 already, and a plain `dup` lands on
/// 3 or 4 whenever the parent had one free at fork (other checking threads
/// open and close files all the time), after which closing that copy
/// closed the descriptor just put in place and the run's result (or
/// facts) silently never came back.
fn hand_down(result: i32, facts: i32) -> std::io::Result<()> {
    let above = FACTS_FD.max(RESULT_FD) + 1;
    // SAFETY: fcntl, dup2 and close on descriptor numbers only.
    unsafe {
        let r = libc::fcntl(result, libc::F_DUPFD_CLOEXEC, above);
        let f = libc::fcntl(facts, libc::F_DUPFD_CLOEXEC, above);
        if r == -1 || f == -1 || libc::dup2(r, RESULT_FD) == -1 || libc::dup2(f, FACTS_FD) == -1 {
            return Err(std::io::Error::last_os_error());
        }
        libc::close(r);
        libc::close(f);
    }
    Ok(())
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills two valid descriptors on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both descriptors are fresh and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where a descriptor of the child sits at fork, before `hand_down`.
    #[derive(Clone, Copy, Debug)]
    enum Slot {
        Free,
        /// Taken by something else (/dev/null).
        Other,
        /// Already the result's pipe (close-on-exec, as gasguard's are).
        Result,
        Facts,
    }

    /// Runs `sh` after `hand_down` with the child's descriptors 3 and 4 as
    /// given at fork, and returns what it wrote to 3 and to 4 as they
    /// arrive on the result and facts pipes.
    fn handed(three: Slot, four: Slot) -> (String, String, bool) {
        let (result_read, result_write) = pipe().expect("pipe");
        let (facts_read, facts_write) = pipe().expect("pipe");
        let (result_fd, facts_fd) = (result_write.as_raw_fd(), facts_write.as_raw_fd());
        let mut command = Command::new("/bin/sh");
        command
            .args(["-c", "printf result >&3; printf facts >&4"])
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: dup3, close, fcntl, dup2 between fork and exec.
        unsafe {
            command.pre_exec(move || {
                // Out of the way of 3 and 4 first, close-on-exec as before.
                let r = libc::fcntl(result_fd, libc::F_DUPFD_CLOEXEC, 10);
                let f = libc::fcntl(facts_fd, libc::F_DUPFD_CLOEXEC, 10);
                let mut at = (r, f);
                for (fd, slot) in [(3, three), (4, four)] {
                    match slot {
                        Slot::Free => {
                            libc::close(fd);
                        }
                        Slot::Other => {
                            libc::dup3(0, fd, libc::O_CLOEXEC);
                        }
                        Slot::Result => {
                            libc::dup3(r, fd, libc::O_CLOEXEC);
                            at.0 = fd;
                        }
                        Slot::Facts => {
                            libc::dup3(f, fd, libc::O_CLOEXEC);
                            at.1 = fd;
                        }
                    }
                }
                hand_down(at.0, at.1)
            });
        }
        let status = command.status().expect("run sh");
        drop((result_write, facts_write));
        let read = |fd: OwnedFd| {
            let mut text = String::new();
            std::fs::File::from(fd)
                .read_to_string(&mut text)
                .expect("read");
            text
        };
        (read(result_read), read(facts_read), status.success())
    }

    /// The handler installed for SIGINT now.
    fn sigint_handler() -> usize {
        // SAFETY: sigaction only reads the current action.
        unsafe {
            let mut now: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGINT, std::ptr::null(), &mut now);
            now.sa_sigaction
        }
    }

    #[test]
    fn interrupts_stay_caught_until_the_last_concurrent_run_ends() {
        let before = sigint_handler();
        let first = Interrupts::catch();
        // SAFETY: raise(2) of a signal whose handler only stores an atomic.
        unsafe { libc::raise(libc::SIGINT) };
        let second = Interrupts::catch();
        assert_eq!(first.caught(), Some(libc::SIGINT), "forgotten by a new run");
        drop(first);
        assert_eq!(
            sigint_handler(),
            on_signal as *const () as usize,
            "restored while a run was in progress"
        );
        drop(second);
        assert_eq!(sigint_handler(), before, "not restored after the last run");
    }

    #[test]
    fn the_result_and_facts_pipes_arrive_on_3_and_4_whatever_was_free_at_fork() {
        use Slot::*;
        // (Free, Other) is the flaky R013 of a multi-path check: another
        // checking thread had just closed its file on 3.
        let wrong: Vec<String> = [
            (Other, Other),
            (Free, Other),
            (Other, Free),
            (Free, Free),
            (Result, Facts),
            (Facts, Result),
            (Result, Free),
            (Free, Facts),
        ]
        .into_iter()
        .filter_map(|(three, four)| {
            let got = handed(three, four);
            (got != ("result".into(), "facts".into(), true))
                .then(|| format!("3 {three:?}, 4 {four:?} at fork: got {got:?}"))
        })
        .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}

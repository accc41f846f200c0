//! The supervisor: PID 1 of the sandbox's PID namespace, and gasguard's
//! own code (not the model's interpreter). It mounts the sandbox's view
//! (private /proc, scratch tmpfs, read-only submission), starts the model's
//! process, reaps every process of the run, records every death by a
//! signal and every observed system call (seccomp user notification), and
//! reports them to gasguard on its own pipe. When the model's main process
//! ends, the supervisor exits and the kernel kills everything left in the
//! namespace; when gasguard or the trampoline dies, the supervisor's death
//! signal ends it, and with it the namespace. The model cannot change the
//! supervisor's signals, session or death signal: it is another process,
//! outside the model's Landlock domain (no signals, no ptrace, no access
//! to its descriptors or memory).

use std::ffi::CString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use seccompiler::BpfProgram;

use super::notify::{self, Listener, Memory};
use super::observe::{Answer, FACTS_FD, Fact, Judge, STAGE_FD};
use super::sandbox_policy::SandboxPolicy;
use super::seccomp::Observe;
use super::stage_marks::StageMarks;
use super::trampoline::{EXIT_CANNOT_ENFORCE, EXIT_EXEC_FAILED, EXIT_SIGNAL_BASE, die};
use super::{landlock, mounts, seccomp};

/// The model's program, prepared before fork (no allocation after it in
/// the model's process beyond what Landlock needs).
pub struct Exec {
    pub program: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub cwd: CString,
}

/// At most this many facts of one kind are sent: a model looping over
/// forbidden calls cannot flood gasguard.
const MAX_ATTEMPTS: usize = 200;
const MAX_DEATHS: usize = 100;

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        die(EXIT_CANNOT_ENFORCE, "pipe failed");
    }
    // SAFETY: fresh descriptors owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Entry point in PID 1 of the new namespaces. `alive` is the read end of
/// a pipe whose write end only the trampoline holds.
pub fn main(
    policy: &SandboxPolicy,
    programs: &[BpfProgram],
    observer: &BpfProgram,
    exec: &Exec,
    alive: RawFd,
) -> ! {
    // SAFETY: prctl/poll with valid arguments.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // The trampoline may have died before the death signal was set.
        let mut p = libc::pollfd {
            fd: alive,
            events: libc::POLLIN,
            revents: 0,
        };
        if libc::poll(&mut p, 1, 0) > 0 && p.revents & libc::POLLHUP != 0 {
            libc::_exit(EXIT_CANNOT_ENFORCE);
        }
    }
    if let Err(e) = mounts::private_proc()
        .and_then(|()| mounts::scratch_tmpfs(&policy.scratch))
        .and_then(|()| mounts::read_only_bind(&policy.submission))
    {
        die(EXIT_CANNOT_ENFORCE, &e);
    }
    let (stage_r, stage_w) = pipe();
    let (handoff_r, handoff_w) = pipe();
    let (ack_r, ack_w) = pipe();
    let start = Instant::now();
    // SAFETY: single-threaded until after this fork.
    let child = unsafe { libc::fork() };
    if child == -1 {
        die(EXIT_CANNOT_ENFORCE, "fork failed");
    }
    if child == 0 {
        model(
            policy, programs, observer, exec, &stage_w, &handoff_w, &ack_r,
        );
    }
    drop((stage_w, handoff_w, ack_r));
    // SAFETY: FACTS_FD was handed down by gasguard for this pipe alone.
    let facts = Arc::new(Mutex::new(unsafe { File::from_raw_fd(FACTS_FD) }));
    let send = {
        let facts = Arc::clone(&facts);
        move |fact: &Fact| {
            if let Ok(mut line) = serde_json::to_vec(fact) {
                line.push(b'\n');
                if let Ok(mut f) = facts.lock() {
                    let _ = f.write_all(&line);
                }
            }
        }
    };
    let mut fd_bytes = [0u8; 4];
    let mut handoff = File::from(handoff_r);
    if std::io::Read::read_exact(&mut handoff, &mut fd_bytes).is_ok() {
        let listener = match Listener::take(child, i32::from_ne_bytes(fd_bytes)) {
            Ok(l) => l,
            Err(e) => {
                // SAFETY: kill(2) of our own child.
                unsafe { libc::kill(child, libc::SIGKILL) };
                die(
                    EXIT_CANNOT_ENFORCE,
                    &format!("cannot observe the model: {e}"),
                );
            }
        };
        let marks = Arc::new(StageMarks::new(stage_r, start));
        let judge = Judge::new(policy);
        let rows = seccomp::observed(policy.cuda);
        {
            let marks = Arc::clone(&marks);
            let send = send.clone();
            std::thread::spawn(move || answer(&listener, &judge, &rows, &marks, &send));
        }
        {
            let send = send.clone();
            std::thread::spawn(move || marks.follow(&send));
        }
        let _ = File::from(ack_w).write_all(b"1");
    }
    reap(child, &send)
}

/// The model's process: limits, Landlock, seccomp (with the observer's
/// listener handed to the supervisor), then the interpreter.
fn model(
    policy: &SandboxPolicy,
    programs: &[BpfProgram],
    observer: &BpfProgram,
    exec: &Exec,
    stage_w: &OwnedFd,
    handoff_w: &OwnedFd,
    ack_r: &OwnedFd,
) -> ! {
    // SAFETY: plain system calls in the freshly forked, single-threaded child.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        let limits = policy.limits;
        let set = |resource, value: u64| {
            let lim = libc::rlimit {
                rlim_cur: value,
                rlim_max: value,
            };
            libc::setrlimit(resource, &lim) == 0
        };
        let ok = set(libc::RLIMIT_AS, limits.address_space)
            && set(libc::RLIMIT_CPU, limits.cpu_seconds)
            && set(libc::RLIMIT_FSIZE, limits.file_size)
            && set(libc::RLIMIT_NOFILE, limits.open_files)
            && set(libc::RLIMIT_CORE, 0)
            && set(libc::RLIMIT_NPROC, limits.processes);
        if !ok {
            die(EXIT_CANNOT_ENFORCE, "cannot set resource limits");
        }
        if libc::chdir(exec.cwd.as_ptr()) != 0 {
            die(EXIT_CANNOT_ENFORCE, "cannot enter the scratch folder");
        }
        // fd 4 becomes the harness's stage pipe (the supervisor's own
        // pipe to gasguard, fd 4 until now, is gone from this process).
        if libc::dup2(stage_w.as_raw_fd(), STAGE_FD) == -1 {
            die(EXIT_CANNOT_ENFORCE, "cannot pass the stage pipe");
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            die(EXIT_CANNOT_ENFORCE, "cannot set no_new_privs");
        }
    }
    if let Err(e) = landlock::apply(policy) {
        die(EXIT_CANNOT_ENFORCE, &e);
    }
    if let Err(e) = seccomp::apply(programs) {
        die(EXIT_CANNOT_ENFORCE, &e);
    }
    let listener = match notify::install(observer) {
        Ok(fd) => fd,
        Err(e) => die(EXIT_CANNOT_ENFORCE, &e),
    };
    // SAFETY: write/read on our pipes, close, close_range, execve with
    // NUL-terminated arrays that live until the call.
    unsafe {
        let n = listener.as_raw_fd().to_ne_bytes();
        let mut ack = [0u8; 1];
        if libc::write(handoff_w.as_raw_fd(), n.as_ptr().cast(), 4) != 4
            || libc::read(ack_r.as_raw_fd(), ack.as_mut_ptr().cast(), 1) != 1
        {
            die(
                EXIT_CANNOT_ENFORCE,
                "the supervisor did not take the listener",
            );
        }
        drop(listener);
        // Only stdin/stdout/stderr, the result pipe (3) and the stage pipe (4).
        libc::syscall(libc::SYS_close_range, 5u32, u32::MAX, 0u32);
        let mut argv: Vec<*const libc::c_char> = exec.argv.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<*const libc::c_char> = exec.envp.iter().map(|a| a.as_ptr()).collect();
        envp.push(std::ptr::null());
        libc::execve(exec.program.as_ptr(), argv.as_ptr(), envp.as_ptr());
    }
    die(
        EXIT_EXEC_FAILED,
        &format!(
            "cannot execute {}: {}",
            policy.program.display(),
            std::io::Error::last_os_error()
        ),
    )
}

/// Answers observed calls until the listener is gone. Records only once
/// the harness has marked the start of the model's code: libraries probe
/// sockets and files while they are imported, before any model code runs.
/// (`import-model` is written before the model's code runs, so the model
/// cannot delay it, and recording then never stops; later marks are the
/// model's word like everything in its process.)
fn answer(
    listener: &Listener,
    judge: &Judge,
    rows: &[Observe],
    marks: &StageMarks,
    send: &impl Fn(&Fact),
) {
    let mut sent = 0usize;
    while let Some(call) = listener.recv() {
        let Some(row) = rows.iter().find(|r| r.number == call.nr) else {
            listener.allow(call.id);
            continue;
        };
        let mem = Memory::open(call.pid);
        let (fact, answer) = judge.judge(&call, row, mem.as_ref());
        // Memory read before this check belongs to the caller still waiting.
        let valid = listener.still_valid(call.id);
        // Forbidden calls are recorded whenever they come; the rest from
        // the model's first line on.
        let record = answer == Answer::Kill || marks.recording(send);
        match answer {
            Answer::Continue => listener.allow(call.id),
            Answer::Deny(errno) => listener.deny(call.id, errno),
            // The caller waits in the kernel for our answer: SIGKILL ends
            // it before the call runs. No answer is ever sent.
            // SAFETY: kill(2) of a process in our PID namespace.
            Answer::Kill => unsafe {
                libc::kill(call.pid as i32, libc::SIGKILL);
            },
        }
        if let (Some(fact), true, true) = (fact, valid, record)
            && sent < MAX_ATTEMPTS
        {
            sent += 1;
            send(&fact);
        }
    }
}

/// Reaps every process of the run (orphans are reparented to PID 1) until
/// the model's main process ends, recording each death by a signal.
fn reap(main: i32, send: &impl Fn(&Fact)) -> ! {
    let mut deaths = 0;
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if pid == -1 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            die(EXIT_CANNOT_ENFORCE, "lost the sandboxed process");
        }
        let signal = libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status));
        if let Some(signal) = signal
            && deaths < MAX_DEATHS
        {
            deaths += 1;
            send(&Fact::Killed {
                pid,
                signal,
                main: pid == main,
            });
        }
        if pid == main {
            // Exiting ends the namespace: the kernel kills what is left.
            std::process::exit(match signal {
                Some(s) => EXIT_SIGNAL_BASE + s,
                None => libc::WEXITSTATUS(status),
            });
        }
    }
}

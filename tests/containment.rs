//! Escape tests for containment of the run as a whole (issue 10): each runs
//! one hostile model.py through `gasguard sandbox` and checks from outside
//! that the protection held, and that gasguard reports it from its own
//! process (the supervisor, the kernel), not from the model's.

mod common;
mod sandbox_support;
use common::*;
use sandbox_support::*;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn nothing_survives_a_timeout_whatever_the_model_does_to_its_signals() {
    // Every process of the model clears its death signal, leaves the
    // session, ignores every catchable signal and blocks. run_dir then
    // checks that no process of the run is left (by command line and by
    // cgroup), right after gasguard exits.
    let run = run_model(
        "libc = ctypes.CDLL(None)\ndef harden():\n    libc.prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG = 0\n    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):\n        signal.signal(s, signal.SIG_IGN)\nharden()\nfor _ in range(2):\n    if os.fork() == 0:\n        os.setsid()\n        harden()\n        while True:\n            time.sleep(1)\nos.setsid()\nwhile True:\n    time.sleep(1)",
        &["--timeout", "4"],
    );
    run.assert_reported(&["R010"]);
}

#[test]
fn scratch_is_a_bounded_private_tmpfs_and_nothing_is_left() {
    // Fill the scratch (at most 256 MiB are tried, so the test stays safe
    // without the protection), then nest folders 25,000 deep.
    let run = run_model(
        "home = os.environ['HOME']\nst = os.statvfs(home)\nsize = st.f_blocks * st.f_frsize\nwritten = 0\nchunk = b'x' * (1 << 20)\ntry:\n    for i in range(256):\n        with open(os.path.join(home, f'fill{i}'), 'wb') as f:\n            f.write(chunk)\n        written += len(chunk)\nexcept OSError:\n    pass\ndepth = 0\nos.chdir(home)\ntry:\n    for _ in range(25000):\n        os.mkdir('d')\n        os.chdir('d')\n        depth += 1\nexcept OSError:\n    pass\nraise RuntimeError(f'scratch size {size}; wrote {written} bytes; nested {depth} deep')",
        &["--scratch-size", "16M"],
    );
    run.assert_reported(&["R003"]);
    let text = run.messages();
    let number = |key: &str| -> u64 {
        text.split(key)
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no `{key}` in {text}"))
    };
    // The model's HOME is the 16 MiB tmpfs, and it could write no more.
    assert_eq!(number("scratch size "), 16 << 20, "{text}");
    assert!(number("wrote ") <= 16 << 20, "{text}");
    // The inode limit (one per 8 KiB: 2,048) stopped the nesting.
    assert!(number("nested ") <= 2048, "{text}");
    // run_dir asserted that no folder of the run is left in the temp dir;
    // nothing went to the host's disk (the scratch was never there).
    assert!(!run.codes().contains(&"R015".to_string()), "{text}");
}

/// The lowest MemAvailable seen while `f` runs, and the value before.
fn min_available_during(f: impl FnOnce() -> Run) -> (u64, u64, Run) {
    let available = || -> u64 {
        std::fs::read_to_string("/proc/meminfo")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    let before = available();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut low = u64::MAX;
            while !done.load(Ordering::SeqCst) {
                low = low.min(available());
                std::thread::sleep(Duration::from_millis(20));
            }
            low
        })
    };
    let run = f();
    done.store(true, Ordering::SeqCst);
    let low = sampler.join().expect("sampler");
    (before, low, run)
}

#[test]
fn forked_children_share_one_memory_limit() {
    // Four children each touch 1.5 GiB (well under the per-process
    // address-space limit) under --memory 1G: 6 GiB in all without a
    // run-wide limit.
    let (before, low, run) = min_available_during(|| {
        run_model(
            "kids = []\nfor _ in range(4):\n    pid = os.fork()\n    if pid == 0:\n        hog = b'\\x01' * (1536 << 20)\n        time.sleep(3)\n        os._exit(0)\n    kids.append(pid)\nfor pid in kids:\n    os.waitpid(pid, 0)",
            &["--memory", "1G"],
        )
    });
    run.assert_reported(&["R011"]);
    let text = run.messages();
    assert!(text.contains("memory limit"), "{text}");
    let cgroup = &run.report["submissions"][0]["runtime"]["cgroup"];
    let peak = cgroup["memory_peak"].as_u64().expect("the kernel's peak");
    assert!(peak <= 1 << 30, "peak {peak} over the limit: {cgroup}");
    assert!(cgroup["oom_kills"].as_u64().unwrap_or(0) > 0, "{cgroup}");
    // The host's memory in use rose by at most the limit and some slack
    // (other processes on the machine), never by the 6 GiB attempted.
    let rise = before.saturating_sub(low);
    assert!(
        rise < 3 << 30,
        "host memory in use rose by {} MiB",
        rise >> 20
    );
}

#[test]
fn attempts_are_reported_with_the_audit_hook_switched_off() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let wallet = dir.path().join("wallet.json");
    std::fs::write(&wallet, b"SECRET").expect("write");
    std::fs::set_permissions(&wallet, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    let w = wallet.to_str().expect("utf8");
    let out = dir.path().join("dropped.txt");
    let o = out.to_str().expect("utf8");
    // The model switches the harness's hook off (its recording flag), then
    // tries the network from Python and from native code, a write and a
    // read outside the sandbox, swallows every error and returns a model
    // that works.
    let run = run_model(
        &format!(
            "import __main__\n__main__.recording[0] = False\ndef quiet(f):\n    try:\n        f()\n    except Exception:\n        pass\nquiet(lambda: socket.create_connection(('127.0.0.1', {port}), timeout=2))\nlibc = ctypes.CDLL(None)\nlibc.socket(2, 2, 0)\nquiet(lambda: open({o:?}, 'w').write('x'))\nquiet(lambda: open({w:?}).read())"
        ),
        &[],
    );
    assert!(listener.accept().is_err(), "a connection arrived");
    assert!(!out.exists(), "a file was written");
    run.assert_reported(&["R012"]);
    let text = run.messages();
    // socket() itself is refused (by the supervisor), so no address is
    // ever connected to; Python's and native code's sockets both show.
    for needle in [
        "socket(AF_INET, SOCK_STREAM)".to_string(),
        "socket(AF_INET, SOCK_DGRAM)".to_string(),
        o.to_string(),
        w.to_string(),
    ] {
        assert!(text.contains(&needle), "`{needle}` not reported: {text}");
    }
    assert!(text.contains("seen by the supervisor"), "{text}");
    assert_eq!(
        run.report["submissions"][0]["runtime"]["result"]["events"]
            .as_array()
            .map_or(0, Vec::len),
        0,
        "the hook was meant to be off in this test"
    );
}

#[test]
fn a_child_killed_by_seccomp_is_reported() {
    // The child dies of SIGSYS; the model's main process carries on and
    // returns a working model.
    let run = run_model(
        "pid = os.fork()\nif pid == 0:\n    ctypes.CDLL(None).ptrace(16, 1, 0, 0)\n    os._exit(0)\nos.waitpid(pid, 0)",
        &[],
    );
    run.assert_reported(&["R012"]);
    let text = run.messages();
    assert!(
        text.contains("ptrace (debugging another process); the process was killed"),
        "{text}"
    );
}

#[test]
fn a_memfd_cannot_be_executed_under_the_cuda_profile() {
    // Without a GPU the harness fails later (moving to cuda); the model's
    // own attempt comes first, in load_model.
    let run = run_model(
        "try:\n    fd = os.memfd_create('payload')\nexcept OSError:\n    fd = os.memfd_create('payload', 8)  # MFD_NOEXEC_SEAL\nos.write(fd, open(sys.executable, 'rb').read())\ntry:\n    os.execv(f'/proc/self/fd/{fd}', ['payload', '-c', 'pass'])\nexcept OSError as e:\n    raise RuntimeError(f'exec refused: {e}')",
        &["--device", "cuda"],
    );
    run.assert_reported(&["R003"]);
    let text = run.messages();
    assert!(text.contains("exec refused"), "{text}");
    let relaxed = run.report["submissions"][0]["runtime"]["relaxed"].to_string();
    assert!(relaxed.contains("MFD_NOEXEC_SEAL"), "{relaxed}");
}

#[test]
fn ctrl_c_ends_the_whole_run_and_leaves_nothing() {
    use std::os::unix::process::ExitStatusExt;
    let model = model_source(
        "libc = ctypes.CDLL(None)\nlibc.prctl(1, 0, 0, 0, 0)\nif os.fork() == 0:\n    os.setsid()\n    libc.prctl(1, 0, 0, 0, 0)\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        time.sleep(1)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(1)",
    );
    let dir = example_dir(&[("model.py", Some(model.as_bytes()))]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gasguard"))
        .args(["sandbox", "--format", "json", "--timeout", "120"])
        .arg(dir.path())
        .env("GASGUARD_PYTHON", test_python())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn gasguard");
    let pid = child.id();
    // Wait until the model runs (its `import-model` mark has an open
    // file of the run in /proc: the harness's command line names the run).
    let marker = format!("gasguard-run-{pid}-");
    let started = std::time::Instant::now();
    let running = || {
        std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(Result::ok)
            .any(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&marker))
            })
    };
    while !running() {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    // SAFETY: kill(2) of our own child.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let status = child.wait().expect("wait");
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert_nothing_left(pid);
}

/// The sandbox's entry point started without its pipes on 3 and 4.
fn sandbox_exec_with(three_is_a_pipe: bool) -> (Option<i32>, String) {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let (read, write) = std::io::pipe().expect("pipe");
    let fd = write.as_raw_fd();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gasguard"));
    // Any policy: the pipes are checked before it is read.
    command
        .args(["__sandbox-exec", "e30="])
        .stdin(std::process::Stdio::null());
    // SAFETY: dup2 and close between fork and exec.
    unsafe {
        command.pre_exec(move || {
            // 4 is never a pipe here; 3 is one, or nothing. The pipe may
            // sit on 3 or 4 itself: moved out of the way first.
            let pipe = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10);
            libc::dup2(0, 4);
            if three_is_a_pipe {
                libc::dup2(pipe, 3);
            } else {
                libc::close(3);
            }
            Ok(())
        });
    }
    let out = command.output().expect("run gasguard");
    drop((read, write));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_sandbox_refuses_to_start_without_its_result_and_facts_pipes() {
    // A run whose result or facts pipe was lost on the way (a hand-down
    // bug) stops with a reason, as a sandbox that cannot be enforced:
    // never a run whose observed calls or result silently vanish.
    let (code, err) = sandbox_exec_with(false);
    assert_eq!(code, Some(121), "{err}");
    assert!(
        err.contains("the result pipe was not handed down on descriptor 3"),
        "{err}"
    );
    let (code, err) = sandbox_exec_with(true);
    assert_eq!(code, Some(121), "{err}");
    assert!(
        err.contains("the facts pipe was not handed down on descriptor 4"),
        "{err}"
    );
}

//! Escape tests: each runs one hostile model.py through `gasguard sandbox`
//! (the runtime layer alone, no static checks) and asserts, from outside,
//! that the harm did not happen, and that the run is reported as a failure
//! or a violation. They need the test venv (scripts/test.sh creates it).

mod common;
mod sandbox_support;
use common::*;
use sandbox_support::*;

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::process::Command;
use std::time::Duration;

#[test]
fn the_examples_run_clean_in_the_sandbox() {
    for modality in ["image", "video", "audio"] {
        let dir = repo().join("examples").join(modality);
        let out = Command::new(env!("CARGO_BIN_EXE_gasguard"))
            .args([
                "check",
                "--sandbox",
                "on",
                "--format",
                "json",
                dir.to_str().expect("utf8"),
            ])
            .env("GASGUARD_PYTHON", test_python())
            .output()
            .expect("run");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{modality}: {report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(codes(&report), ["R014"], "{modality}");
        assert_eq!(report["submissions"][0]["runtime"]["result"]["ok"], true);
    }
}

#[test]
fn tcp_connection_to_a_local_listener_never_arrives() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let run = run_model(
        &format!(
            "s = socket.create_connection(('127.0.0.1', {port}), timeout=3)\ns.sendall(b'leak')"
        ),
        &[],
    );
    assert!(
        listener.accept().is_err(),
        "a connection reached the listener"
    );
    run.assert_reported(&["R012", "R003"]);
}

#[test]
fn udp_datagrams_never_arrive() {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let port = sock.local_addr().expect("addr").port();
    let run = run_model(
        &format!(
            "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nu.sendto(b'leak', ('127.0.0.1', {port}))"
        ),
        &[],
    );
    let mut buf = [0u8; 16];
    assert!(sock.recv_from(&mut buf).is_err(), "a datagram arrived");
    run.assert_reported(&["R012", "R003"]);
}

#[test]
fn pathname_unix_sockets_are_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("daemon.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind unix");
    listener.set_nonblocking(true).expect("nonblocking");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o777))
        .expect("chmod");
    let run = run_model(
        &format!(
            "c = socket.socket(socket.AF_UNIX)\nc.connect({:?})\nc.sendall(b'leak')",
            path.to_str().expect("utf8")
        ),
        &[],
    );
    assert!(
        listener.accept().is_err(),
        "a connection reached the UNIX socket"
    );
    run.assert_reported(&["R012", "R003"]);
}

#[test]
fn files_outside_scratch_cannot_be_written_deleted_or_renamed() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let canary = dir.path().join("canary.txt");
    std::fs::write(&canary, b"original").expect("write");
    std::fs::set_permissions(&canary, std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .expect("chmod");
    let c = canary.to_str().expect("utf8");
    for action in [
        format!("open({c:?}, 'w').write('pwned')"),
        format!("os.remove({c:?})"),
        format!("os.rename({c:?}, {c:?} + '.moved')"),
        format!("open({c:?} + '.new', 'w').write('x')"),
    ] {
        let run = run_model(&action, &[]);
        assert_eq!(
            std::fs::read(&canary).expect("canary still there"),
            b"original",
            "{action}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            1,
            "{action}: a file appeared"
        );
        run.assert_reported(&["R012", "R003"]);
    }
}

#[test]
fn the_submission_cannot_be_tampered_with() {
    // The model knows where the user's submission folder is (here: the test
    // tells it) and tries to change it: through Python and through libc, so
    // an in-process audit hook alone cannot be what stops it.
    let dir = example_dir(&[]);
    let folder = dir.path().to_str().expect("utf8").to_string();
    let body = format!(
        "for name in ('model.py', 'model.safetensors'):\n    p = os.path.join({folder:?}, name)\n    try:\n        open(p, 'ab').write(b'tampered')\n    except OSError:\n        pass\n    libc = ctypes.CDLL(None)\n    fd = libc.open(p.encode(), os.O_WRONLY | os.O_APPEND)\n    if fd >= 0:\n        libc.write(fd, b'tampered', 8)\n        libc.close(fd)\ntry:\n    open(__file__, 'a').write('\\nimport os\\n')\nexcept OSError:\n    pass"
    );
    let model = model_source(&body);
    std::fs::write(dir.path().join("model.py"), &model).expect("write");
    let weights = std::fs::read(dir.path().join("model.safetensors")).expect("read");
    let run = run_dir(dir.path(), &[]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("model.py")).expect("read"),
        model,
        "model.py was changed by the model: {}",
        run.messages()
    );
    assert_eq!(
        std::fs::read(dir.path().join("model.safetensors")).expect("read"),
        weights,
        "the weights were changed by the model"
    );
    run.assert_reported(&["R012", "R003"]);
}

#[test]
fn site_packages_cannot_receive_a_pth_hook() {
    let site = Command::new(test_python())
        .args([
            "-I",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .expect("python");
    let site = String::from_utf8_lossy(&site.stdout).trim().to_string();
    let target = format!("{site}/gasguard_escape_test.pth");
    let run = run_model(&format!("open({target:?}, 'w').write('import os')"), &[]);
    assert!(
        !std::path::Path::new(&target).exists(),
        "a .pth file was written into site-packages"
    );
    run.assert_reported(&["R012", "R003"]);
}

#[test]
fn secrets_outside_the_sandbox_cannot_be_read_or_leaked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("wallet.json");
    std::fs::write(&secret, b"SECRET-WALLET-PHRASE-canary").expect("write");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    let s = secret.to_str().expect("utf8");
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let run = run_model(
        &format!(
            "data = open({s:?}).read()\nprint(data)\nfor p in [{home:?} + '/.bashrc', {home:?} + '/.bittensor', '/etc/shadow']:\n    try:\n        print(open(p).read())\n    except Exception:\n        pass\nraise RuntimeError(data)"
        ),
        &[],
    );
    assert!(
        !run.stdout.contains("SECRET-WALLET") && !run.stderr.contains("SECRET-WALLET"),
        "the secret leaked into the report"
    );
    run.assert_reported(&["R003"]);
}

#[test]
fn the_parents_environment_cannot_be_read_through_proc() {
    let run = run_model(
        "found = []\nfor pid in os.listdir('/proc'):\n    if pid.isdigit():\n        try:\n            found.append(open(f'/proc/{pid}/environ', 'rb').read().decode(errors='replace'))\n        except Exception:\n            pass\nfor p in ['/proc/1/environ', f'/proc/{os.getppid()}/environ']:\n    try:\n        found.append(open(p, 'rb').read().decode(errors='replace'))\n    except Exception:\n        pass\nhits = [e[e.find('s3cr3t'):e.find('s3cr3t') + 40] for e in found if 's3cr3t' in e]\nraise RuntimeError(f'read {len(found)} environments: {hits}')",
        &[],
    );
    assert!(
        !run.stdout.contains("s3cr3t-parent-environ-canary"),
        "the parent's environment leaked"
    );
    run.assert_reported(&["R003"]);
}

#[test]
fn other_processes_are_not_visible_in_proc() {
    // The test process is a host process with a command line the model
    // could read from a shared /proc (world-readable, no ptrace check).
    let me = std::process::id();
    let run = run_model(
        &format!(
            "visible = [p for p in os.listdir('/proc') if p.isdigit()]\nif '{me}' in visible or len(visible) > 64:\n    raise RuntimeError(f'host processes visible: {{len(visible)}}')"
        ),
        &[],
    );
    assert_eq!(run.exit, 0, "{}", run.messages());
}

#[test]
fn no_program_can_be_executed() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let marker = dir.path().join("executed");
    let m = marker.to_str().expect("utf8");
    let run = run_model(
        &format!("subprocess.run(['/bin/sh', '-c', 'touch {m}'], check=True)"),
        &[],
    );
    assert!(!marker.exists(), "/bin/sh ran");
    run.assert_reported(&["R012", "R003"]);
    let run = run_model(
        &format!("os.system('touch {m}')\nos.execv('/usr/bin/touch', ['touch', {m:?}])"),
        &[],
    );
    assert!(!marker.exists(), "a program ran");
    run.assert_reported(&["R012", "R003"]);
}

#[test]
fn a_fork_bomb_is_capped() {
    let run = run_model(
        "while True:\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)",
        &[],
    );
    run.assert_reported(&["R003", "R011", "R012"]);
}

#[test]
fn a_thread_bomb_is_capped() {
    // Small stacks, so that memory alone would allow some 100,000 threads:
    // what stops it must be the sandbox's task cap (256 more than the
    // sandbox user already runs), and soon.
    let run = run_model(
        "threading.stack_size(64 << 10)\nn = 0\ntry:\n    while True:\n        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n        n += 1\nexcept RuntimeError as e:\n    raise RuntimeError(f'capped after {n} threads: {e}')",
        &[],
    );
    run.assert_reported(&["R003"]);
    let messages = run.messages();
    let started: u64 = messages
        .split("capped after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the thread bomb was not stopped by a cap: {messages}"));
    assert!(started <= 512, "{started} threads started before the cap");
}

#[test]
fn a_memory_bomb_is_capped() {
    // 4 GiB touched under --memory 1G: the run's cgroup stops it.
    let run = run_model("hog = b'\\x01' * (4 << 30)", &["--memory", "1G"]);
    run.assert_reported(&["R011"]);
    // 64 GiB of lazily mapped zeros: over the address-space limit.
    let run = run_model("hog = bytearray(64 << 30)", &[]);
    run.assert_reported(&["R011"]);
}

#[test]
fn a_cpu_spin_times_out() {
    let run = run_model("while True:\n    pass", &["--timeout", "15"]);
    run.assert_reported(&["R010"]);
}

#[test]
fn sleeping_forever_and_ignoring_sigterm_times_out() {
    let run = run_model(
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(10**6)",
        &["--timeout", "15"],
    );
    run.assert_reported(&["R010"]);
}

#[test]
fn the_parent_and_other_processes_cannot_be_signalled() {
    let mut victim = Command::new("sleep")
        .arg("120")
        .spawn()
        .expect("spawn sleep");
    let pid = victim.id();
    let run = run_model(
        &format!("os.kill({pid}, signal.SIGKILL)\nos.kill(os.getppid(), signal.SIGKILL)"),
        &[],
    );
    assert!(
        victim.try_wait().expect("try_wait").is_none(),
        "the victim process was killed"
    );
    let _ = victim.kill();
    let _ = victim.wait();
    assert_eq!(run.report["submissions"][0]["verdict"], "reject");
    run.assert_reported(&["R003", "R012"]);
}

#[test]
fn ptrace_is_killed_by_seccomp() {
    let run = run_model("libc = ctypes.CDLL(None)\nlibc.ptrace(16, 1, 0, 0)", &[]);
    run.assert_reported(&["R012"]);
    assert!(run.messages().contains("seccomp"), "{}", run.messages());
}

#[test]
fn namespaces_and_mounts_are_killed_by_seccomp() {
    let run = run_model("libc = ctypes.CDLL(None)\nlibc.unshare(0x10000000)", &[]);
    run.assert_reported(&["R012"]);
    assert!(run.messages().contains("seccomp"), "{}", run.messages());
}

#[test]
fn a_double_forked_daemon_does_not_survive() {
    // run_model itself asserts that no process of the run survives.
    let run = run_model(
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(300)\n        os._exit(0)\n    os._exit(0)\ntime.sleep(1)",
        &[],
    );
    run.assert_reported(&["R012"]);
}

#[test]
fn a_stdout_flood_is_bounded() {
    let run = run_model(
        "line = 'x' * 1_000_000\nfor _ in range(200):\n    print(line)\n    print(line, file=sys.stderr)",
        &[],
    );
    assert!(
        run.stdout.len() < 1 << 20,
        "the report grew to {} bytes",
        run.stdout.len()
    );
    run.assert_reported(&["R011"]);
}

#[test]
fn terminal_escapes_do_not_reach_the_terminal() {
    let dir = example_dir(&[(
        "model.py",
        Some(b"import torch\nprint('\\x1b]0;pwned\\x07\\x1b[2J')\ndef load_model(weights_path, num_classes=2):\n    raise RuntimeError('\\x1b[31mred\\x1b[0m\\x1b]8;;http://evil\\x07')\n"),
    )]);
    let out = Command::new(env!("CARGO_BIN_EXE_gasguard"))
        .args([
            "sandbox",
            "--color",
            "never",
            dir.path().to_str().expect("utf8"),
        ])
        .env("GASGUARD_PYTHON", test_python())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("R003"), "{text}");
    assert!(
        !text.contains('\x1b') && !text.contains('\x07'),
        "escape sequences reached the terminal: {text:?}"
    );
}

#[test]
fn memfd_execution_is_refused() {
    let run = run_model(
        "fd = os.memfd_create('x')\nos.write(fd, open('/bin/true', 'rb').read())\nos.execve(fd, ['x'], {})",
        &[],
    );
    run.assert_reported(&["R003", "R012"]);
}

#[test]
fn runtime_failures_each_have_their_own_code() {
    let cases: [(&str, &str); 5] = [
        (
            "import torch\nraise ImportError('broken at import')\ndef load_model(weights_path, num_classes=2):\n    pass\n",
            "R002",
        ),
        (
            "import torch\ndef load_model(weights_path, num_classes=2):\n    return {}\n",
            "R003",
        ),
        (
            "import torch\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return torch.zeros(x.shape[0], 7)\ndef load_model(weights_path, num_classes=2):\n    return M()\n",
            "R006",
        ),
        (
            "import torch\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return torch.full((x.shape[0], 2), float('nan'))\ndef load_model(weights_path, num_classes=2):\n    return M()\n",
            "R007",
        ),
        (
            "import torch\nclass M(torch.nn.Module):\n    def forward(self, x):\n        raise ValueError('bad input')\ndef load_model(weights_path, num_classes=2):\n    return M()\n",
            "R005",
        ),
    ];
    for (source, code) in cases {
        let run = run_source(source, &[]);
        run.assert_reported(&[code]);
    }
}

#[test]
fn a_timm_model_missing_a_parameter_is_named() {
    // The example image weights lack every parameter of this timm model; the
    // report names them (R004) even though load_state_dict(strict=False) hides it.
    let source = "import timm\nimport torch\ndef load_model(weights_path, num_classes=2):\n    m = timm.create_model('resnet18', pretrained=False, num_classes=num_classes)\n    return m\n";
    let run = run_source(source, &[]);
    let text = run.messages();
    assert!(run.codes().contains(&"R004".to_string()), "{text}");
    assert!(text.contains("fc.weight"), "{text}");
    // Importing timm loads torchvision's extensions and writes torch's temp
    // files: library behaviour, not a violation.
    assert!(!run.codes().contains(&"R012".to_string()), "{text}");
}

#[test]
fn the_report_names_the_sandbox_pid_marker_for_survivor_checks() {
    // Guards the survivor check itself: the harness command line carries the
    // workspace name that run_model looks for.
    let run = run_model("pass", &[]);
    assert_eq!(run.exit, 0, "{}", run.messages());
    let _ = run.gasguard_pid;
    let mut buf = String::new();
    let _ = std::io::Cursor::new(run.stdout.as_bytes()).read_to_string(&mut buf);
    assert!(buf.contains("R014"));
}

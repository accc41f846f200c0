//! model.py analysis speed: parse + every check, on a typical ~300-line file
//! and a generated 20,000-line one, compared with `ruff check --select S` on
//! the same files when `ruff` is on PATH (`.venv/bin/pip install ruff`).
//!
//!     cargo bench --bench analyzer
//!
//! `GASGUARD_BENCH_RUNS=N` times N runs of each case instead (1 under
//! callgrind), `GASGUARD_BENCH_CASE=typical|generated-20k` runs one case only.

use std::time::Instant;

use gasguard::config::ConfigFacts;
use gasguard::policy::Policy;

// The binary's allocator (src/main.rs), so the bench times what it runs.
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn typical() -> String {
    let mut parts =
        vec![std::fs::read_to_string("fixtures/python/good/timm_layers.py").expect("fixture")];
    for name in [
        "cnn_basic",
        "future_annotations",
        "match_and_fstrings",
        "eval_names",
        "numpy_scipy",
        "video_temporal",
        "audio_mel",
    ] {
        let text =
            std::fs::read_to_string(format!("fixtures/python/good/{name}.py")).expect("fixture");
        // Rename load_model so the concatenation keeps exactly one.
        parts.push(text.replace("def load_model(", &format!("def load_model_{name}(")));
    }
    parts.join("\n\n")
}

fn generated(lines: usize) -> String {
    let mut out =
        String::from("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n");
    let mut i = 0;
    while out.lines().count() < lines {
        out.push_str(&format!(
            "class Block{i}(nn.Module):\n    def __init__(self, dim: int = 64):\n        super().__init__()\n        self.a = nn.Linear(dim, dim)\n        self.b = nn.LayerNorm(dim)\n\n    def forward(self, x):\n        y = F.gelu(self.a(self.b(x)))\n        return x + y * {i}.0 / (1 + {i})\n\n\n"
        ));
        i += 1;
    }
    out.push_str("def load_model(weights_path, num_classes=2):\n    return Block0()\n");
    out
}

fn time_ours(label: &str, source: &str, policy: &Policy) -> f64 {
    let facts = ConfigFacts::default();
    let runs = std::env::var("GASGUARD_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if source.len() > 100_000 { 30 } else { 300 });
    let diags = gasguard::python::check("model.py", source.as_bytes(), policy, &facts).diagnostics;
    assert!(
        diags.iter().all(|d| !d.is_error()),
        "{label}: {:?}",
        diags.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
    let start = Instant::now();
    for _ in 0..runs {
        let _ = std::hint::black_box(gasguard::python::check(
            "model.py",
            source.as_bytes(),
            policy,
            &facts,
        ));
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    println!(
        "gasguard {label:<22} {:>6} lines  {ms:8.3} ms",
        source.lines().count()
    );
    ms
}

fn time_ruff(label: &str, source: &str) -> Option<f64> {
    let dir = std::env::temp_dir().join(format!("gasguard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let file = dir.join("model.py");
    std::fs::write(&file, source).ok()?;
    let run = || {
        std::process::Command::new("ruff")
            .args([
                "check",
                "--no-cache",
                "--select",
                "S",
                "--quiet",
                "--exit-zero",
            ])
            .arg(&file)
            .output()
            .ok()
    };
    run()?;
    let runs = 20;
    let start = Instant::now();
    for _ in 0..runs {
        run()?;
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    println!(
        "ruff S   {label:<22} {:>6} lines  {ms:8.3} ms (whole process)",
        source.lines().count()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Some(ms)
}

fn main() {
    let policy = Policy::builtin();
    let only = std::env::var("GASGUARD_BENCH_CASE").ok();
    for (label, source) in [("typical", typical()), ("generated-20k", generated(20_000))] {
        if only.as_deref().is_some_and(|case| case != label) {
            continue;
        }
        let ours = time_ours(&label, &source, &policy);
        match time_ruff(&label, &source) {
            Some(ruff) => println!("         ratio ruff/gasguard: {:.1}x\n", ruff / ours),
            None => println!("         (ruff not on PATH: skipped the comparison)\n"),
        }
    }
}

//! What the fuzz targets share: the invariants of a whole static check, and
//! structure-aware generators that turn fuzzer bytes into well-formed-ish
//! ZIPs and YAML trees, so mutations reach the config, code and weights
//! stages instead of dying in the ZIP end record.

use arbitrary::{Result, Unstructured};

#[path = "../../tests/common/zipbuild.rs"]
pub mod zipbuild;

use zipbuild::{ZipEntrySpec, build_zip};

static POLICY: std::sync::LazyLock<gasguard::policy::Policy> =
    std::sync::LazyLock::new(gasguard::policy::Policy::builtin);

fn static_options() -> gasguard::check::CheckOptions {
    gasguard::check::CheckOptions {
        modality: None,
        strict: false,
        sandbox: gasguard::check::SandboxMode::Off,
        interpreter: None,
        runtime: gasguard::runtime::RuntimeOptions::default(),
        static_checks: true,
        ignores: Vec::new(),
        plugins: Default::default(),
    }
}

fn temp_path(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("gasguard-fuzz-{tag}-{}.zip", std::process::id()))
}

/// The whole static check of `data` as a ZIP, with its invariants: a report
/// (never a panic), the same verdict twice, a JSON rendering that is valid
/// and has the documented fields, and for an accepted input: its canonical
/// form is accepted too and packs to itself.
pub fn check_invariants(data: &[u8]) {
    use gasguard::check::{Verdict, check_path};
    let policy = &*POLICY;
    let options = static_options();
    let path = temp_path("check");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(first) = check_path(&path, policy, &options) else { return };
    let Ok(second) = check_path(&path, policy, &options) else { panic!("second run failed") };
    assert_eq!(first.verdict(), second.verdict());
    let codes = |r: &gasguard::check::SubmissionReport| r.diagnostics.iter().map(|d| d.rule.code).collect::<Vec<_>>();
    assert_eq!(codes(&first), codes(&second), "nondeterministic findings");
    let json = gasguard::report::json::render(std::slice::from_ref(&first));
    let doc: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(doc["schema_version"], 1);
    for key in ["path", "verdict", "diagnostics", "summary", "entries"] {
        assert!(doc["submissions"][0].get(key).is_some(), "missing {key}");
    }
    if first.verdict() != Verdict::Accept {
        return;
    }
    let Some(packed) = canonical(&path) else { return };
    let canonical_path = temp_path("canonical");
    std::fs::write(&canonical_path, &packed).expect("write the canonical form");
    let report = check_path(&canonical_path, policy, &options).expect("the canonical form opens");
    assert_eq!(
        report.verdict(),
        Verdict::Accept,
        "accepted input, rejected canonical form: {:?}",
        codes(&report)
    );
    assert_eq!(canonical(&canonical_path).as_deref(), Some(&packed[..]), "canonical form is not a fixed point");
}

/// The canonical ZIP of an accepted submission; `None` when an entry the
/// static check does not read (tensor bytes, extra files) is corrupt, which
/// packing reports as a rejection.
fn canonical(path: &std::path::Path) -> Option<Vec<u8>> {
    let policy = &*POLICY;
    let mut diags = Vec::new();
    let sub = gasguard::submission::Submission::open(path, policy, &mut diags)
        .expect("an accepted submission opens again")
        .expect("an accepted submission is readable");
    let layout = gasguard::submission::layout::check(&sub, policy, &mut diags);
    match gasguard::pack::canonical_bytes(&sub, &layout) {
        Ok(bytes) => Some(bytes),
        Err(gasguard::pack::PackError::Entry { name, .. }) => {
            assert!(
                !name.ends_with("model.py") && !name.ends_with("model_config.yaml"),
                "{name} was read by the check and accepted, but cannot be packed"
            );
            None
        }
        Err(e) => panic!("cannot pack an accepted submission: {e}"),
    }
}

const IMAGE_CONFIG: &[u8] = include_bytes!("../../examples/image/model_config.yaml");
const VIDEO_CONFIG: &[u8] = include_bytes!("../../examples/video/model_config.yaml");
const AUDIO_CONFIG: &[u8] = include_bytes!("../../examples/audio/model_config.yaml");
const IMAGE_MODEL: &[u8] = include_bytes!("../../examples/image/model.py");
const AUDIO_MODEL: &[u8] = include_bytes!("../../examples/audio/model.py");
const VIDEO_MODEL: &[u8] = include_bytes!("../../examples/video/model.py");
const IMAGE_WEIGHTS: &[u8] = include_bytes!("../../examples/image/model.safetensors");
const AUDIO_WEIGHTS: &[u8] = include_bytes!("../../examples/audio/model.safetensors");
const VIDEO_WEIGHTS: &[u8] = include_bytes!("../../examples/video/model.safetensors");

/// Entry names worth trying: the required files, nested and junk variants,
/// traversal, hijacking names, case and separator tricks.
const NAMES: &[&str] = &[
    "model_config.yaml",
    "model.py",
    "model.safetensors",
    "d/model_config.yaml",
    "d/model.py",
    "d/model.safetensors",
    "d/",
    "__MACOSX/._model.py",
    ".DS_Store",
    "../model.py",
    "/model.py",
    "./model.py",
    "d/../model.py",
    "model.so",
    "sitecustomize.py",
    "torch.py",
    "torch/__init__.py",
    "MODEL.PY",
    "model.py/",
    "d\\model.py",
    "config.json",
    "extra.safetensors",
    "a/b/c/d/e.txt",
    "model.py\0x",
    "mod\u{e9}l.py",
];

/// Lines appended to a real model.py: imports, aliases and calls the
/// analyzer must see through, and ordinary code it must not flag.
const PYTHON_LINES: &[&str] = &[
    "import os",
    "import torch.nn.init as init",
    "from torch import hub as h",
    "from __future__ import annotations",
    "x = getattr(torch, 'lo' + 'ad')",
    "y = torch.load('w.pt')",
    "z = __import__('subprocess')",
    "exec('1')",
    "t = torch.hub",
    "u = t.load_state_dict_from_url('http://x')",
    "from pathlib import Path\np = Path(__file__).parent",
    "def helper(**kwargs):\n    import timm.models.layers\n    return kwargs",
    "open('w.txt', 'w').write('x')",
    "class C:\n    def __reduce__(self):\n        return (print, ('x',))",
    "print(hasattr(torch, 'compile'))",
    "if True:\n    import numpy as np",
    "def load_model(path):\n    return None",
    "lambda: torch.ops.load_library('x.so')",
    "torch.classes.__dict__",
    "ctypes = 1",
    "@torch.no_grad()\ndef f(x):\n    return x",
    "async def g():\n    await h",
    "# -*- coding: latin-1 -*-",
];

/// Config scalars and flow values worth trying: YAML 1.1 booleans and
/// numbers, tags, aliases, shapes right and wrong.
const YAML_VALUES: &[&str] = &[
    "image", "video", "audio", "Image", "\"image\"", "'video'", "1.0", "1.0.0", "yes", "on", "off",
    "~", "null", "0x10", "1_000", "3", "2", "-1", "0", "224", "16000", "6.0", ".inf", ".nan", "1e3",
    "0o17", "017", "1:20", "2026-01-01", "float16", "bfloat16", "float32", "int8", "[224, 224]",
    "[224]", "[0, 0]", "[224, 224, 3]", "[\"224\", 224]", "{h: 1, w: 2}", "{}", "[]",
    "!!python/object/apply:os.system [\"x\"]", "!!str 1", "!!int \"3\"", "!!float 1", "!!binary aGk=",
    "model.safetensors", "../model.safetensors", "\"model.safetensors\"", "other.safetensors", "*a",
    "&a 8", "|\n    text", ">-\n    folded", "? complex", "- x",
];

const YAML_KEYS: &[&str] = &[
    "name", "version", "modality", "preprocessing", "resize", "model", "weights_file", "dtype",
    "num_classes", "num_frames", "max_frames", "sample_rate", "duration_seconds", "target_size",
    "mean", "std", "fps", "description", "author", "on", "yes", "<<", "? k", "\"model\"", "1",
];

/// Up to `max` bytes of fuzzer input, as they come.
fn some_bytes(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<u8>> {
    let len = u.int_in_range(0..=max)?;
    Ok(u.bytes(len)?.to_vec())
}

fn choose<'a>(u: &mut Unstructured<'_>, options: &[&'a str]) -> Result<&'a str> {
    u.choose(options).copied()
}

/// A `model_config.yaml` built from a tree of known keys and tricky values.
pub fn gen_yaml(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut out = String::new();
    mapping(u, &mut out, 0, 0)?;
    Ok(out.into_bytes())
}

fn mapping(u: &mut Unstructured<'_>, out: &mut String, indent: usize, depth: u32) -> Result<()> {
    let pad = " ".repeat(indent);
    let keys = u.int_in_range(0..=8)?;
    for _ in 0..keys {
        let key = if u.ratio(1, 12)? {
            String::from_utf8_lossy(&some_bytes(u, 8)?).replace('\n', " ")
        } else {
            choose(u, YAML_KEYS)?.to_string()
        };
        out.push_str(&pad);
        out.push_str(&key);
        out.push(':');
        match u.int_in_range(0..=9)? {
            0 | 1 if depth < 4 => {
                out.push('\n');
                let step = u.int_in_range(1..=3)?;
                mapping(u, out, indent + step, depth + 1)?;
            }
            2 if depth < 4 => {
                out.push('\n');
                for _ in 0..u.int_in_range(0..=3)? {
                    out.push_str(&pad);
                    out.push_str("  - ");
                    out.push_str(choose(u, YAML_VALUES)?);
                    out.push('\n');
                }
            }
            3 => {
                out.push(' ');
                out.push_str(&String::from_utf8_lossy(&some_bytes(u, 6)?));
                out.push('\n');
            }
            _ => {
                out.push(' ');
                out.push_str(choose(u, YAML_VALUES)?);
                out.push('\n');
            }
        }
    }
    Ok(())
}

/// A `model.py`: a real one with tricky lines spliced in.
pub fn gen_python(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let base = if u.arbitrary()? { IMAGE_MODEL } else { AUDIO_MODEL };
    let mut lines: Vec<String> = String::from_utf8_lossy(base).lines().map(str::to_string).collect();
    for _ in 0..u.int_in_range(0..=4)? {
        let at = u.int_in_range(0..=lines.len())?;
        let line = choose(u, PYTHON_LINES)?;
        // Inside an indented block or at the top level.
        let indent = if u.ratio(1, 3)? { "    " } else { "" };
        let text = line.lines().map(|l| format!("{indent}{l}")).collect::<Vec<_>>().join("\n");
        lines.insert(at, text);
    }
    Ok((lines.join("\n") + "\n").into_bytes())
}

fn entry_data(u: &mut Unstructured<'_>, name: &str) -> Result<Vec<u8>> {
    // Mostly the content the name promises, sometimes anything.
    let natural = if name.ends_with(".yaml") {
        0
    } else if name.ends_with(".py") {
        1
    } else if name.ends_with(".safetensors") {
        2
    } else {
        3
    };
    let pick = if u.ratio(3, 4)? { natural } else { u.int_in_range(0..=5)? };
    let mut data = match pick {
        0 if u.arbitrary()? => gen_yaml(u)?,
        0 => choose_bytes(u, &[IMAGE_CONFIG, VIDEO_CONFIG, AUDIO_CONFIG])?.to_vec(),
        1 if u.arbitrary()? => gen_python(u)?,
        1 => IMAGE_MODEL.to_vec(),
        2 => IMAGE_WEIGHTS.to_vec(),
        _ => some_bytes(u, 64)?,
    };
    // Overwrite a few bytes somewhere: headers, lengths, offsets.
    if !data.is_empty() && u.ratio(1, 6)? {
        let at = u.int_in_range(0..=data.len() - 1)?;
        let len = u.int_in_range(1..=8)?;
        let patch = u.bytes(len)?;
        for (i, b) in patch.iter().enumerate() {
            if let Some(slot) = data.get_mut(at + i) {
                *slot = *b;
            }
        }
    }
    Ok(data)
}

fn choose_bytes<'a>(u: &mut Unstructured<'_>, options: &[&'a [u8]]) -> Result<&'a [u8]> {
    u.choose(options).copied()
}

/// A ZIP that starts as a real, accepted submission (one of the examples,
/// flat or under a folder, stored or deflated) and then takes up to five
/// mutations: entries added, removed, renamed, duplicated, their content
/// replaced by generated YAML or Python or patched, their headers made to
/// lie in every way the builder allows. With no mutation it is accepted, so
/// the canonical-form invariant is exercised too.
pub fn gen_zip(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let (config, model, weights) = match u.int_in_range(0..=2)? {
        0 => (IMAGE_CONFIG, IMAGE_MODEL, IMAGE_WEIGHTS),
        1 => (AUDIO_CONFIG, AUDIO_MODEL, AUDIO_WEIGHTS),
        _ => (VIDEO_CONFIG, VIDEO_MODEL, VIDEO_WEIGHTS),
    };
    let folder = if u.ratio(1, 4)? { "d/" } else { "" };
    let mut entries: Vec<ZipEntrySpec> = Vec::new();
    for (name, data) in [("model_config.yaml", config), ("model.py", model), ("model.safetensors", weights)] {
        let mut entry = ZipEntrySpec::new(&format!("{folder}{name}"), data);
        entry.deflate = u.arbitrary()?;
        entries.push(entry);
    }
    for _ in 0..u.int_in_range(0..=5)? {
        let i = u.int_in_range(0..=entries.len().saturating_sub(1))?;
        match u.int_in_range(0..=6)? {
            0 => {
                let name = entry_name(u)?;
                let data = entry_data(u, &name)?;
                let mut entry = ZipEntrySpec::new(&name, &data);
                entry.deflate = u.arbitrary()?;
                entries.push(entry);
            }
            1 if !entries.is_empty() => {
                entries.remove(i);
            }
            2 => {
                let name = entry_name(u)?;
                if let Some(e) = entries.get_mut(i) {
                    e.name = name;
                }
            }
            3 => {
                if let Some(e) = entries.get(i).cloned() {
                    entries.push(e);
                }
            }
            4 | 5 => {
                let name = entries.get(i).map(|e| e.name.clone()).unwrap_or_default();
                let data = entry_data(u, &name)?;
                if let Some(e) = entries.get_mut(i) {
                    e.data = data;
                }
            }
            _ => {
                if i < entries.len() {
                    lie(u, &mut entries, i)?;
                }
            }
        }
    }
    // Removals shift indexes: an alias may only point at an earlier entry.
    for (i, e) in entries.iter_mut().enumerate() {
        if e.alias_of.is_some_and(|a| a >= i) {
            e.alias_of = None;
        }
    }
    let prefix = if u.ratio(1, 10)? { some_bytes(u, 16)? } else { Vec::new() };
    let suffix = if u.ratio(1, 10)? { some_bytes(u, 16)? } else { Vec::new() };
    Ok(build_zip(&entries, &prefix, &suffix))
}

fn entry_name(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(if u.ratio(1, 10)? {
        String::from_utf8_lossy(&some_bytes(u, 12)?).into_owned()
    } else {
        choose(u, NAMES)?.to_string()
    })
}

/// Makes one header field of entry `i` lie.
fn lie(u: &mut Unstructured<'_>, entries: &mut [ZipEntrySpec], i: usize) -> Result<()> {
    let kind = u.int_in_range(0..=6)?;
    let mode = *u.choose(&[0o100644, 0o100755, 0o120777, 0o040755, 0o010644, 0o140644])?;
    let local = choose(u, NAMES)?.to_string();
    let any16: u16 = u.arbitrary()?;
    let any32: u32 = u.arbitrary()?;
    let method = *u.choose(&[0u16, 8, 9, 12, 14, 99, any16])?;
    let alias = if i > 0 { Some(u.int_in_range(0..=i - 1)?) } else { None };
    let Some(e) = entries.get_mut(i) else { return Ok(()) };
    match kind {
        0 => e.mode = Some(mode),
        1 => e.local_name = Some(local),
        2 => e.flags = any16,
        3 => e.method = Some(method),
        4 => e.declared_size = Some(any32),
        5 => e.crc = Some(any32),
        _ => e.alias_of = alias,
    }
    Ok(())
}

/// `model_config.yaml` parsing and validation: no panic, the same findings
/// twice, every span inside the file.
pub fn config_invariants(data: &[u8]) {
    let policy = &*POLICY;
    let run = || gasguard::config::check("model_config.yaml", data, policy, None);
    let (_, first, _) = run();
    let (_, second, _) = run();
    let codes = |d: &[gasguard::diagnostic::Diagnostic]| d.iter().map(|d| (d.rule.code, d.span.clone())).collect::<Vec<_>>();
    assert_eq!(codes(&first), codes(&second), "nondeterministic findings");
    for d in &first {
        if let Some(span) = &d.span {
            assert!(span.start <= span.end && span.end <= data.len(), "{}: span {span:?} outside {} bytes", d.rule.code, data.len());
        }
    }
}

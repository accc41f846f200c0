//! Finding the Python interpreter the sandbox runs: it must import torch
//! and safetensors; where it lives decides what the sandbox exposes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::Unavailable;

/// Checks that an interpreter is usable (torch and safetensors are
/// installed for it) and reports where it lives. It locates the packages
/// without importing them: importing torch costs seconds, and the harness
/// imports it in the sandbox anyway (a failure there is reported as R013).
const PROBE: &str = "import importlib.metadata as md, importlib.util as u, json, os, sys\nmissing = [m for m in ('torch', 'safetensors') if u.find_spec(m) is None]\nif missing:\n    sys.exit('missing: ' + ', '.join(missing))\nprint(json.dumps({'real': os.path.realpath(sys.executable), 'prefix': sys.prefix, 'base_prefix': sys.base_prefix, 'paths': [p for p in sys.path if p], 'version': sys.version.split()[0], 'torch': md.version('torch')}))";

/// A usable interpreter: it imports torch and safetensors.
#[derive(Clone, Debug, Deserialize)]
pub struct Interpreter {
    #[serde(skip)]
    pub path: PathBuf,
    pub real: PathBuf,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    pub paths: Vec<PathBuf>,
    pub version: String,
    pub torch: String,
}

/// Finds the interpreter: `--python`, else `GASGUARD_PYTHON`, else
/// `./.venv/bin/python`, else `python3`.
pub fn find_interpreter(explicit: Option<&Path>) -> Result<Interpreter, Unavailable> {
    let (candidates, named): (Vec<PathBuf>, bool) =
        match (explicit, std::env::var_os("GASGUARD_PYTHON")) {
            (Some(p), _) => (vec![p.to_path_buf()], true),
            (None, Some(p)) if !p.is_empty() => (vec![PathBuf::from(p)], true),
            _ => (
                vec![PathBuf::from(".venv/bin/python"), PathBuf::from("python3")],
                false,
            ),
        };
    let mut reasons = Vec::new();
    for candidate in candidates {
        match probe_interpreter(&candidate) {
            Ok(i) => return Ok(i),
            Err(e) => reasons.push(format!("{}: {e}", candidate.display())),
        }
    }
    let how = if named {
        ""
    } else {
        " (tried ./.venv/bin/python and python3; set --python or GASGUARD_PYTHON)"
    };
    Err(Unavailable(format!(
        "no usable Python interpreter{how}: {}",
        reasons.join("; ")
    )))
}

fn probe_interpreter(path: &Path) -> Result<Interpreter, String> {
    let resolved = if path.components().count() > 1 {
        std::fs::canonicalize(path)
            .map(|_| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
            .map_err(|e| e.to_string())?
    } else {
        path.to_path_buf()
    };
    let output = Command::new(&resolved)
        .args(["-I", "-B", "-c", PROBE])
        .stdin(Stdio::null())
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let last = err.lines().last().unwrap_or("it failed");
        return Err(format!(
            "torch and safetensors are not both installed for it ({last})"
        ));
    }
    let mut interp: Interpreter = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("unexpected probe output: {e}"))?;
    // Run it by an absolute path: the sandbox has no PATH search.
    interp.path = if resolved.is_absolute() {
        resolved
    } else {
        interp.real.clone()
    };
    Ok(interp)
}

//! Layout rules: which files a submission holds and where (`L` rules, plus
//! nested archives). Content is sniffed from each file's first bytes so that
//! a renamed binary is caught whatever its name says.

use std::io::Read;
use std::sync::LazyLock;

use super::{EntryKind, Submission};
use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::rules::{archive as archive_rules, layout as rules};

pub const CONFIG_FILE: &str = "model_config.yaml";
pub const MODEL_FILE: &str = "model.py";

static STDLIB_MODULES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("../../rules/python-stdlib-modules.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
});

/// Where the submission's files are: `""` for the documented flat layout,
/// or `"folder/"` when everything sits under one top-level folder.
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: String,
}

impl Layout {
    pub fn path(&self, name: &str) -> String {
        format!("{}{name}", self.root)
    }
}

pub(crate) fn is_junk(name: &str) -> bool {
    name.starts_with("__MACOSX/") || name.rsplit('/').next() == Some(".DS_Store")
}

const NATIVE_EXTENSIONS: &[&str] = &["so", "pyd", "dylib", "dll", "pyc", "pyo"];
const PICKLE_EXTENSIONS: &[&str] = &[
    "pt", "bin", "ckpt", "pkl", "pickle", "joblib", "npy", "npz", "h5", "hdf5", "pth",
];
const SCRIPT_EXTENSIONS: &[&str] = &[
    "sh", "bash", "zsh", "exe", "bat", "cmd", "ps1", "com", "msi", "appimage",
];
const ARCHIVE_EXTENSIONS: &[&str] = &[
    "zip", "tar", "gz", "tgz", "bz2", "xz", "7z", "rar", "zst", "whl", "egg", "jar", "lzma",
];

/// What a file's first bytes say it is.
fn sniff(head: &[u8]) -> Option<&'static str> {
    const MAGICS: &[(&[u8], &str)] = &[
        (b"\x7fELF", "an ELF executable"),
        (b"MZ", "a Windows executable"),
        (b"\xcf\xfa\xed\xfe", "a Mach-O binary"),
        (b"\xfe\xed\xfa\xcf", "a Mach-O binary"),
        (b"\xca\xfe\xba\xbe", "a Mach-O universal binary"),
        (b"#!", "a script with a #! line"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"PK\x05\x06", "a ZIP archive"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"BZh", "a bzip2 archive"),
        (b"\xfd7zXZ", "an xz archive"),
        (b"7z\xbc\xaf", "a 7-Zip archive"),
        (b"Rar!", "a RAR archive"),
        (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    ];
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Some("a pickle");
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return Some("a tar archive");
    }
    MAGICS
        .iter()
        .find(|(m, _)| head.starts_with(m))
        .map(|(_, what)| *what)
}

/// Decides the layout and reports L001, L003-L010 and A015.
pub fn check(sub: &Submission, policy: &Policy, diags: &mut Vec<Diagnostic>) -> Layout {
    let files: Vec<_> = sub.entries.iter().filter(|e| !is_junk(&e.name)).collect();
    let at_root = files
        .iter()
        .any(|e| e.name == CONFIG_FILE || e.name == MODEL_FILE);
    let mut root = String::new();
    if !at_root {
        let mut tops = files.iter().map(|e| e.name.split('/').next().unwrap_or(""));
        if let Some(first) = tops.next()
            && tops.all(|t| t == first)
            && files.iter().any(|e| e.name.contains('/'))
        {
            let candidate = format!("{first}/");
            if files.iter().any(|e| {
                e.name == format!("{candidate}{CONFIG_FILE}")
                    || e.name == format!("{candidate}{MODEL_FILE}")
            }) {
                diags.push(
                    Diagnostic::new(
                        &rules::NESTED_LAYOUT,
                        format!("every file is under `{candidate}`; the documented layout has them at the archive root"),
                    )
                    .help(format!(
                        "gasguard checked the files inside `{candidate}`, but the evaluator may look for `{CONFIG_FILE}` at the root only. \
                         Re-create the archive from inside the folder: `cd {first} && zip -r ../{first}.zip .`"
                    )),
                );
                root = candidate;
            }
        }
    }
    let layout = Layout { root };

    for required in [CONFIG_FILE, MODEL_FILE] {
        if sub.find(&layout.path(required)).is_none() {
            diags.push(
                Diagnostic::new(&rules::MISSING_REQUIRED_FILE, format!("`{required}` is missing"))
                    .help("a submission holds model_config.yaml, model.py and the weights (model.safetensors) at the top of the archive"),
            );
        }
    }

    for entry in &sub.entries {
        if entry.kind != EntryKind::File && entry.kind != EntryKind::Dir {
            continue;
        }
        let name = entry.name.as_str();
        let path = name.strip_prefix(layout.root.as_str()).unwrap_or(name);
        let trimmed = path.trim_end_matches('/');
        let base = trimmed.rsplit('/').next().unwrap_or(trimmed);
        let ext = base
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let stem = base.split('.').next().unwrap_or(base);
        let top_level = !trimmed.contains('/');
        let mut report = |d: Diagnostic| diags.push(d.in_file(name.to_string()));

        if is_junk(name) {
            if entry.kind == EntryKind::File {
                report(
                    Diagnostic::new(&rules::UNUSED_FILE, format!("`{name}` is operating-system debris"))
                        .help("zip from a terminal (`zip -r`), or delete it with `zip -d archive.zip '__MACOSX/*' '*.DS_Store'`"),
                );
            }
            continue;
        }
        if trimmed.split('/').any(|c| c == "__pycache__")
            || NATIVE_EXTENSIONS.contains(&ext.as_str())
        {
            report(
                Diagnostic::new(
                    &rules::NATIVE_CODE,
                    format!("`{name}` is compiled or native code"),
                )
                .help("ship source only: delete it (and any __pycache__ folder) before zipping"),
            );
            continue;
        }
        if entry.kind == EntryKind::Dir {
            if top_level && shadows_module(policy, base) {
                report(
                    Diagnostic::new(
                        &rules::IMPORT_HIJACK,
                        format!("the folder `{name}` has the name of the module `{base}`"),
                    )
                    .help(
                        "rename the folder; a folder named like a module can replace it on import",
                    ),
                );
            }
            continue;
        }
        if base == "sitecustomize.py" || base == "usercustomize.py" || ext == "pth" {
            report(
                Diagnostic::new(&rules::IMPORT_HIJACK, format!("`{name}` can run code at interpreter start-up"))
                    .help(if ext == "pth" {
                        "`.pth` files run code from site directories, and `.pth` checkpoints are pickles: convert weights to safetensors"
                    } else {
                        "remove it: nothing in a submission runs at start-up"
                    }),
            );
            continue;
        }
        if top_level && ext == "py" && base != MODEL_FILE && shadows_module(policy, stem) {
            report(
                Diagnostic::new(
                    &rules::IMPORT_HIJACK,
                    format!("`{name}` has the name of the module `{stem}`"),
                )
                .help("rename or remove it: it would replace the real module on import"),
            );
            continue;
        }
        if ext == "onnx" {
            report(
                Diagnostic::new(&rules::ONNX_MODEL, format!("`{name}` is an ONNX model; SN34 no longer accepts ONNX"))
                    .help("submit safetensors weights plus model.py: `safetensors.torch.save_file(model.state_dict(), \"model.safetensors\")`"),
            );
            continue;
        }
        if ext == "py" && path != MODEL_FILE {
            report(
                Diagnostic::new(&rules::EXTRA_PYTHON_MODULE, format!("`{name}` is Python code outside model.py"))
                    .help("the evaluator imports model.py alone, without the folder on sys.path; move this code into model.py"),
            );
            continue;
        }
        if ext == "safetensors" {
            continue; // judged by the weights rules, content included
        }
        let head = read_head(sub, entry);
        let content = sniff(&head);
        if PICKLE_EXTENSIONS.contains(&ext.as_str()) || content == Some("a pickle") {
            report(
                Diagnostic::new(&rules::PICKLED_WEIGHTS, format!("`{name}` is a pickled checkpoint (or may be)"))
                    .help("only safetensors weights are accepted: `safetensors.torch.save_file(state_dict, \"model.safetensors\")`"),
            );
            continue;
        }
        let archive_like = content.is_some_and(|c| c.contains("archive"));
        if ARCHIVE_EXTENSIONS.contains(&ext.as_str()) || archive_like {
            report(
                Diagnostic::new(
                    &archive_rules::NESTED_ARCHIVE,
                    format!("`{name}` is {}", content.unwrap_or("an archive")),
                )
                .help("nothing extracts nested archives; ship the files themselves"),
            );
            continue;
        }
        // model.py is imported, never run: a `#!` line or the executable bit
        // on it is harmless (many real submissions have both).
        let imported_source =
            path == MODEL_FILE && matches!(content, None | Some("a script with a #! line"));
        if !imported_source
            && (entry.executable
                || SCRIPT_EXTENSIONS.contains(&ext.as_str())
                || content.is_some_and(|c| {
                    c.contains("executable") || c.contains("binary") || c.contains("script")
                }))
        {
            let what = content.unwrap_or(if entry.executable {
                "marked executable"
            } else {
                "a script"
            });
            report(
                Diagnostic::new(&rules::EXECUTABLE_FILE, format!("`{name}` is {what}"))
                    .help("remove it; if it is data, clear the executable bit (`chmod -x`) before zipping"),
            );
            continue;
        }
        let expected = (top_level && (path == CONFIG_FILE || path == MODEL_FILE)) || ext == "json";
        if !expected {
            report(
                Diagnostic::new(&rules::UNUSED_FILE, format!("`{name}` is not used by the evaluator"))
                    .help("leave it out of the archive: zip only model_config.yaml, model.py, the weights and any config.json"),
            );
        }
    }
    layout
}

fn shadows_module(policy: &Policy, name: &str) -> bool {
    name != "model" && (policy.module_roots().any(|m| m == name) || STDLIB_MODULES.contains(&name))
}

/// The first bytes of a file (up to 512), or nothing when unreadable (the
/// content rules that need the whole file report read errors themselves).
fn read_head(sub: &Submission, entry: &super::Entry) -> Vec<u8> {
    let mut head = Vec::with_capacity(512);
    if let Ok(reader) = sub.reader(entry) {
        let _ = reader.take(512).read_to_end(&mut head);
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_what_names_hide() {
        assert_eq!(sniff(b"\x7fELF\x02\x01"), Some("an ELF executable"));
        assert_eq!(sniff(b"\x80\x04\x95"), Some("a pickle"));
        assert_eq!(sniff(b"PK\x03\x04"), Some("a ZIP archive"));
        assert_eq!(sniff(b"#!/bin/sh\n"), Some("a script with a #! line"));
        assert_eq!(sniff(b"{\"a\": 1}"), None);
    }

    #[test]
    fn stdlib_list_is_loaded() {
        assert!(STDLIB_MODULES.contains(&"os"));
        assert!(STDLIB_MODULES.contains(&"json"));
        assert!(!STDLIB_MODULES.contains(&"model"));
    }
}

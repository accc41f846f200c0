//! Entry-level archive rules that apply to ZIPs and directories alike:
//! unsafe names, links and special files, duplicates and collisions, sizes.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use super::{Entry, EntryKind};
use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::rules::archive as rules;

/// Why a name is unsafe, if it is.
pub fn unsafe_name_reason(name: &str) -> Option<&'static str> {
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    if trimmed.is_empty() {
        return Some("the name is empty");
    }
    if name.starts_with('/') {
        return Some("it is an absolute path");
    }
    if name.contains('\\') {
        return Some("it contains a backslash (a path separator on Windows)");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("it starts with a drive letter");
    }
    if name.chars().any(|c| c.is_control()) {
        return Some("it contains a NUL or control character");
    }
    for part in trimmed.split('/') {
        match part {
            ".." => return Some("it contains a `..` component (path traversal)"),
            "." => return Some("it contains a `.` component"),
            "" => return Some("it contains an empty path component"),
            _ => {}
        }
    }
    None
}

pub fn check(entries: &[Entry], policy: &Policy, diags: &mut Vec<Diagnostic>) {
    let mut exact: HashMap<&str, usize> = HashMap::new();
    let mut folded: HashMap<String, &str> = HashMap::new();
    let mut total: u64 = 0;
    for entry in entries {
        if let Some(reason) = unsafe_name_reason(&entry.name) {
            diags.push(
                Diagnostic::new(&rules::UNSAFE_ENTRY_NAME, format!("unsafe entry name {:?}: {reason}", entry.name))
                    .help("submissions hold plain relative names such as `model.py`; re-create the archive from the model folder"),
            );
        }
        match entry.kind {
            EntryKind::Symlink => diags.push(
                Diagnostic::new(
                    &rules::SYMLINK_ENTRY,
                    format!("`{}` is a symbolic link", entry.name),
                )
                .in_file(entry.name.clone())
                .help("replace the link with the file itself (`cp --dereference`)"),
            ),
            EntryKind::Special => diags.push(
                Diagnostic::new(
                    &rules::SPECIAL_FILE,
                    format!("`{}` is a device, FIFO or socket", entry.name),
                )
                .in_file(entry.name.clone())
                .help("remove it from the submission"),
            ),
            _ => {}
        }
        let count = exact.entry(entry.name.as_str()).or_insert(0);
        *count += 1;
        if *count == 2 {
            diags.push(
                Diagnostic::new(&rules::DUPLICATE_ENTRY, format!("`{}` appears more than once in the archive", entry.name))
                    .help("readers disagree about which copy wins; re-create the archive so each file appears once"),
            );
        } else if *count == 1 {
            let key: String = entry.name.nfkc().collect::<String>().to_lowercase();
            let key_nfc: String = entry.name.nfc().collect::<String>().to_lowercase();
            for k in [key, key_nfc] {
                if let Some(other) = folded.get(&k) {
                    if *other != entry.name {
                        diags.push(
                            Diagnostic::new(
                                &rules::COLLIDING_NAMES,
                                format!("`{}` and `{other}` collide after case folding or Unicode normalisation", entry.name),
                            )
                            .help("rename one of them; on many file systems they are the same file"),
                        );
                    }
                    break;
                }
                folded.insert(k, &entry.name);
            }
        }
        total = total.saturating_add(entry.size);
        let is_weights = entry.name.ends_with(".safetensors");
        if entry.kind == EntryKind::File && !is_weights && entry.size > 0 {
            let ratio = entry.size / entry.stored_size.max(1);
            if ratio > policy.limits.archive_max_ratio {
                diags.push(
                    Diagnostic::new(
                        &rules::COMPRESSION_RATIO,
                        format!(
                            "`{}` expands {ratio}x ({} bytes from {}); the policy allows {}x",
                            entry.name, entry.size, entry.stored_size, policy.limits.archive_max_ratio
                        ),
                    )
                    .help("source and configuration never compress this well; this looks like a decompression bomb"),
                );
            }
        }
    }
    if total > policy.limits.archive_max_total_bytes {
        diags.push(
            Diagnostic::new(
                &rules::TOO_LARGE,
                format!(
                    "the submission declares {total} bytes uncompressed; the policy allows {}",
                    policy.limits.archive_max_total_bytes
                ),
            )
            .help("a detector this large cannot be evaluated within the benchmark's time budget"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names() {
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a\\b",
            "C:x",
            "a\0b",
            "a\nb",
            "./model.py",
            "a//b",
            "",
        ] {
            assert!(unsafe_name_reason(bad).is_some(), "{bad:?} accepted");
        }
        for good in [
            "model.py",
            "sub/dir/",
            "weights/model.safetensors",
            "dots..in.name",
        ] {
            assert_eq!(unsafe_name_reason(good), None, "{good:?} refused");
        }
    }
}

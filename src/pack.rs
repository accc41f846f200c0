//! The canonical ZIP: what `gasguard pack` writes and what gets pushed.
//!
//! One byte-for-byte form per submission, whatever it was made from: the
//! files at the top level (a wrapping folder is dropped, junk such as
//! `__MACOSX/` left out), names in byte order, every entry stored (no
//! compression, so nothing to bomb and nothing a reader can decode two
//! ways), timestamps 1980-01-01 00:00, mode 0644, no extra fields, no
//! comments. Packing the canonical form again gives the same bytes, and the
//! same content gives the same SHA-256, which is the hash the upload server
//! deduplicates on.

use std::io::{Seek, Write};
use std::path::Path;

use anyhow::Context;
use zip::write::SimpleFileOptions;

use crate::check::{self, CheckOptions, SandboxMode, SubmissionReport, Verdict};
use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::rules;
use crate::submission::layout::{self, Layout};
use crate::submission::{EntryKind, ReadError, Submission};

/// One file as written into the canonical ZIP.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PackedFile {
    pub name: String,
    pub size: u64,
}

/// The files that go into the canonical form, as (name in the source, name
/// in the canonical ZIP), sorted by the canonical name.
pub fn canonical_files<'a>(
    sub: &'a Submission,
    layout: &Layout,
) -> Vec<(&'a crate::submission::Entry, String)> {
    let mut files: Vec<_> = sub
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::File && !layout::is_junk(&e.name))
        .filter_map(|e| {
            e.name
                .strip_prefix(&layout.root)
                .map(|n| (e, n.to_string()))
        })
        .collect();
    files.sort_by(|a, b| a.1.as_bytes().cmp(b.1.as_bytes()));
    files
}

/// Why the canonical ZIP could not be written.
#[derive(Debug)]
pub enum PackError {
    /// A source entry is corrupt (its size or CRC-32 is not as declared):
    /// a defect of the submission, reported as a diagnostic.
    Entry { name: String, error: ReadError },
    /// Writing failed: an I/O problem on this machine.
    Write(anyhow::Error),
}

impl std::fmt::Display for PackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PackError::Entry { name, error } => write!(f, "cannot pack `{name}`: {error}"),
            PackError::Write(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for PackError {}

/// Writes the canonical ZIP of `sub` into `out`. Every entry is streamed
/// and its size and CRC-32 checked against the source archive (the static
/// check reads only the weights' header), so a corrupt source cannot
/// produce a valid-looking canonical file.
pub fn write_canonical<W: Write + Seek>(
    sub: &Submission,
    layout: &Layout,
    out: W,
) -> Result<(W, Vec<PackedFile>), PackError> {
    let mut zip = zip::ZipWriter::new(out);
    let mut packed = Vec::new();
    for (entry, name) in canonical_files(sub, layout) {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644)
            // ZIP64 only where the format needs it, so small files stay plain.
            .large_file(entry.size >= u64::from(u32::MAX));
        zip.start_file(name.as_str(), options)
            .with_context(|| format!("cannot start `{name}` in the canonical ZIP"))
            .map_err(PackError::Write)?;
        match sub.copy_verified(entry, &mut zip) {
            Ok(_) => {}
            Err(ReadError::Io(e)) => {
                return Err(PackError::Write(
                    anyhow::Error::new(e).context(format!("cannot pack `{}`", entry.name)),
                ));
            }
            Err(error) => {
                return Err(PackError::Entry {
                    name: entry.name.clone(),
                    error,
                });
            }
        }
        packed.push(PackedFile {
            name,
            size: entry.size,
        });
    }
    let out = zip
        .finish()
        .context("cannot finish the canonical ZIP")
        .map_err(PackError::Write)?;
    Ok((out, packed))
}

/// The canonical ZIP in memory (for tests and fuzzing; `gasguard pack`
/// streams to a file instead).
pub fn canonical_bytes(sub: &Submission, layout: &Layout) -> Result<Vec<u8>, PackError> {
    let (cursor, _) = write_canonical(sub, layout, std::io::Cursor::new(Vec::new()))?;
    Ok(cursor.into_inner())
}

/// What `gasguard pack` did.
#[derive(Debug)]
pub enum PackOutcome {
    /// The source, or its canonical form, was rejected: nothing was written.
    Rejected(SubmissionReport),
    Packed {
        /// The check of the canonical ZIP as written.
        report: SubmissionReport,
        files: Vec<PackedFile>,
        size: u64,
        sha256: String,
    },
}

/// Checks `source`, writes its canonical ZIP, checks that ZIP (static and,
/// per `options`, runtime) and only then moves it to `out`. What is judged
/// is exactly the bytes that will be pushed. `Err` is a usage or I/O error.
pub fn pack_path(
    source: &Path,
    out: &Path,
    policy: &Policy,
    options: &CheckOptions,
) -> anyhow::Result<PackOutcome> {
    let static_only = CheckOptions {
        sandbox: SandboxMode::Off,
        ..options.clone()
    };
    let source_report = check::check_path(source, policy, &static_only)?;
    if source_report.verdict() == Verdict::Reject {
        return Ok(PackOutcome::Rejected(source_report));
    }
    refuse_output_inside(source, out)?;
    let mut diags = Vec::new();
    let Some(sub) = Submission::open(source, policy, &mut diags)? else {
        anyhow::bail!("{} changed while it was being packed", source.display());
    };
    let layout = layout::check(&sub, policy, &mut diags);

    let file_name = out
        .file_name()
        .with_context(|| format!("{} is not a file name", out.display()))?;
    let partial = out.with_file_name(format!(
        ".{}.{}.partial",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    crate::progress::stage("writing the canonical ZIP");
    let written = match write_canonical(&sub, &layout, std::io::BufWriter::new(file)) {
        Ok((w, files)) => w
            .into_inner()
            .map_err(|e| anyhow::Error::new(e.into_error()))
            .and_then(|file| Ok(file.sync_all()?))
            .with_context(|| format!("cannot write {}", partial.display()))
            .map(|()| files),
        Err(PackError::Entry { name, error }) => {
            // Corrupt data past what the static check verifies (64 MiB;
            // beyond that it reads the weights' header only): rejected.
            let mut report = source_report;
            report.diagnostics.push(error.diagnostic(&name));
            let _ = std::fs::remove_file(&partial);
            return Ok(PackOutcome::Rejected(report));
        }
        Err(PackError::Write(e)) => Err(e),
    };
    let result = written.and_then(|files| {
        // Read-only while the model runs, and hashed before and after: what
        // is moved into place is exactly what was checked, even if a sandbox
        // layer failed.
        std::fs::set_permissions(&partial, std::os::unix::fs::PermissionsExt::from_mode(0o444))
            .with_context(|| format!("cannot make {} read-only", partial.display()))?;
        crate::progress::stage("hashing the canonical ZIP");
        let (size, sha256) = sha256_file(&partial)?;
        let mut report = check::check_path(&partial, policy, options)?;
        report.path = out.display().to_string();
        if sha256_file(&partial)? != (size, sha256.clone()) {
            report.diagnostics.push(
                Diagnostic::new(
                    &rules::runtime::SANDBOX_VIOLATION,
                    "the canonical ZIP changed while it was being checked",
                )
                .help("something on this machine, possibly the model, wrote to the file; nothing was packed"),
            );
        }
        if report.verdict() == Verdict::Reject {
            return Ok(PackOutcome::Rejected(report));
        }
        std::fs::set_permissions(&partial, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .with_context(|| format!("cannot restore the mode of {}", partial.display()))?;
        std::fs::rename(&partial, out)
            .with_context(|| format!("cannot move the packed ZIP to {}", out.display()))?;
        Ok(PackOutcome::Packed {
            report,
            files,
            size,
            sha256,
        })
    });
    if !matches!(result, Ok(PackOutcome::Packed { .. })) {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// A ZIP written inside the folder it packs would be packed into the next one.
fn refuse_output_inside(source: &Path, out: &Path) -> anyhow::Result<()> {
    if !source.is_dir() {
        return Ok(());
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let (Ok(src), Ok(dir)) = (source.canonicalize(), parent.canonicalize()) else {
        anyhow::bail!(
            "cannot resolve {} or {}",
            source.display(),
            parent.display()
        );
    };
    if dir.starts_with(&src) {
        anyhow::bail!(
            "{} is inside the submission folder {}; write the ZIP somewhere else (e.g. ../{})",
            out.display(),
            source.display(),
            out.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// Size and SHA-256 (hex) of a file, streamed.
pub fn sha256_file(path: &Path) -> anyhow::Result<(u64, String)> {
    use sha2::Digest;
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let digest = hasher.finalize();
    Ok((size, digest.iter().map(|b| format!("{b:02x}")).collect()))
}

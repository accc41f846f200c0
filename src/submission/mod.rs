//! Intake: a submission directory or ZIP, seen as a flat list of entries
//! whose contents are read on demand (never extracted to disk).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::rules::archive as rules;

pub mod layout;
pub mod names;
pub mod zip;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// FIFO, socket, device.
    Special,
}

#[derive(Clone, Debug)]
pub struct Entry {
    /// `/`-separated path inside the submission; directories end in `/`.
    pub name: String,
    pub kind: EntryKind,
    /// Uncompressed size as declared (ZIP) or found (directory).
    pub size: u64,
    /// Compressed size (ZIP) or `size` (directory).
    pub stored_size: u64,
    pub executable: bool,
    index: usize,
}

enum Source {
    Dir(PathBuf),
    Zip(zip::ZipArchive),
}

pub struct Submission {
    /// The path the user gave.
    pub path: PathBuf,
    pub entries: Vec<Entry>,
    source: Source,
}

/// Why an entry's content could not be read.
#[derive(Debug)]
pub enum ReadError {
    TooLarge { size: u64, limit: u64 },
    Corrupt(String),
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge { size, limit } => write!(
                f,
                "{size} bytes is more than the {limit}-byte limit for files gasguard reads whole"
            ),
            ReadError::Corrupt(m) => write!(f, "{m}"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl ReadError {
    /// The diagnostic for a file that could not be read.
    pub fn diagnostic(&self, name: &str) -> Diagnostic {
        let rule = match self {
            ReadError::TooLarge { .. } => &rules::TOO_LARGE,
            ReadError::Corrupt(_) => &rules::CORRUPT_ENTRY,
            ReadError::Io(_) => &rules::UNREADABLE_FILE,
        };
        Diagnostic::new(rule, format!("cannot read `{name}`: {self}")).in_file(name)
    }
}

impl Submission {
    /// Opens a directory or a ZIP. `Err` is for paths that cannot be opened at
    /// all (a usage error); `Ok(None)` is an archive too broken to list, with
    /// the reason in `diags`.
    pub fn open(
        path: &Path,
        policy: &Policy,
        diags: &mut Vec<Diagnostic>,
    ) -> anyhow::Result<Option<Submission>> {
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        if meta.is_dir() {
            let entries = read_dir(path, policy, diags);
            return Ok(Some(Submission {
                path: path.to_path_buf(),
                entries,
                source: Source::Dir(path.to_path_buf()),
            }));
        }
        if !meta.is_file() {
            anyhow::bail!("{} is neither a directory nor a file", path.display());
        }
        let file = open_no_follow(path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        let limits = zip::ZipLimits {
            max_entries: policy.limits.archive_max_entries,
        };
        let archive = zip::read(file, &limits, diags)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let Some(archive) = archive else {
            return Ok(None);
        };
        let entries = archive
            .entries
            .iter()
            .enumerate()
            .map(|(index, e)| {
                let kind = match e.unix_mode.map(|m| m & 0o170000) {
                    Some(0o120000) => EntryKind::Symlink,
                    Some(0o040000) => EntryKind::Dir,
                    Some(0o100000) | Some(0) | None => {
                        if e.is_dir() { EntryKind::Dir } else { EntryKind::File }
                    }
                    Some(_) => EntryKind::Special,
                };
                if e.is_encrypted() {
                    diags.push(
                        Diagnostic::new(&rules::ENCRYPTED_ENTRY, format!("entry `{}` is encrypted", e.name))
                            .help("zip the folder without a password"),
                    );
                }
                if e.method != zip::METHOD_STORED && e.method != zip::METHOD_DEFLATE {
                    diags.push(
                        Diagnostic::new(
                            &rules::UNSUPPORTED_COMPRESSION,
                            format!(
                                "entry `{}` uses compression method {}; only stored (0) and deflate (8) are read",
                                e.name, e.method
                            ),
                        )
                        .help("re-create the archive with plain `zip -r`, which uses deflate"),
                    );
                }
                Entry {
                    name: e.name.clone(),
                    kind,
                    size: e.uncompressed_size,
                    stored_size: e.compressed_size,
                    executable: kind == EntryKind::File && e.unix_mode.is_some_and(|m| m & 0o111 != 0),
                    index,
                }
            })
            .collect();
        Ok(Some(Submission {
            path: path.to_path_buf(),
            entries,
            source: Source::Zip(archive),
        }))
    }

    pub fn is_zip(&self) -> bool {
        matches!(self.source, Source::Zip(_))
    }

    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.name == name && e.kind == EntryKind::File)
    }

    /// A reader over an entry's (decompressed) bytes.
    pub fn reader(&self, entry: &Entry) -> io::Result<Box<dyn Read + '_>> {
        match &self.source {
            Source::Dir(root) => Ok(Box::new(open_no_follow(&root.join(&entry.name))?)),
            Source::Zip(archive) => match archive.entries.get(entry.index) {
                Some(z) => archive.open(z),
                None => Err(io::Error::other("entry index out of range")),
            },
        }
    }

    /// Reads a whole entry (bounded by `limit`), checking that its size (and,
    /// in a ZIP, its CRC-32) is what the archive declares.
    pub fn read_all(&self, entry: &Entry, limit: u64) -> Result<Vec<u8>, ReadError> {
        if entry.size > limit {
            return Err(ReadError::TooLarge {
                size: entry.size,
                limit,
            });
        }
        let mut buf = Vec::with_capacity(entry.size as usize);
        self.copy_verified(entry, &mut buf)?;
        Ok(buf)
    }

    /// Streams an entry's bytes into `out`, checking that its size (and, in
    /// a ZIP, its CRC-32) is what the archive declares. Returns the number
    /// of bytes copied.
    pub fn copy_verified(&self, entry: &Entry, out: &mut dyn io::Write) -> Result<u64, ReadError> {
        // One byte more than declared is enough to know the entry lies.
        let mut reader = self
            .reader(entry)
            .map_err(ReadError::Io)?
            .take(entry.size + 1);
        let mut crc = flate2::Crc::new();
        let mut copied = 0u64;
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ReadError::Corrupt(format!(
                        "its data does not decompress: {e}"
                    )));
                }
            };
            let chunk = buf.get(..n).unwrap_or_default();
            crc.update(chunk);
            out.write_all(chunk).map_err(ReadError::Io)?;
            copied += n as u64;
        }
        if copied != entry.size {
            return Err(ReadError::Corrupt(format!(
                "it holds {copied}{} bytes but declares {}",
                if copied > entry.size { "+" } else { "" },
                entry.size
            )));
        }
        if let Source::Zip(archive) = &self.source
            && let Some(z) = archive.entries.get(entry.index)
            && crc.sum() != z.crc32
        {
            return Err(ReadError::Corrupt(format!(
                "its CRC-32 is {:08x}, the archive declares {:08x}",
                crc.sum(),
                z.crc32
            )));
        }
        Ok(copied)
    }
}

/// Opens without following a final symlink and without blocking on a FIFO.
fn open_no_follow(path: &Path) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Folders deeper than this are reported instead of walked.
const MAX_DIR_DEPTH: usize = 32;

fn read_dir(root: &Path, policy: &Policy, diags: &mut Vec<Diagnostic>) -> Vec<Entry> {
    let mut entries = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .min_depth(1)
        .max_depth(32)
        .sort_by_file_name();
    for item in walker {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                let name = e
                    .path()
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map_or_else(|| "?".to_string(), |p| p.to_string_lossy().into_owned());
                diags.push(Diagnostic::new(
                    &rules::UNREADABLE_FILE,
                    format!("cannot read `{name}`: {e}"),
                ));
                continue;
            }
        };
        if entries.len() as u64 >= policy.limits.archive_max_entries {
            diags.push(Diagnostic::new(
                &rules::TOO_MANY_ENTRIES,
                format!(
                    "the folder holds more than {} entries",
                    policy.limits.archive_max_entries
                ),
            ));
            break;
        }
        let Ok(relative) = item.path().strip_prefix(root) else {
            continue;
        };
        let Some(text) = relative.to_str() else {
            diags.push(Diagnostic::new(
                &rules::UNSAFE_ENTRY_NAME,
                format!(
                    "a file name is not valid UTF-8: {:?}",
                    relative.to_string_lossy()
                ),
            ));
            continue;
        };
        let mut name = text.to_string();
        let ft = item.file_type();
        let meta = match item.metadata() {
            Ok(m) => m,
            Err(e) => {
                diags.push(Diagnostic::new(
                    &rules::UNREADABLE_FILE,
                    format!("cannot read `{name}`: {e}"),
                ));
                continue;
            }
        };
        let kind = if ft.is_symlink() {
            EntryKind::Symlink
        } else if ft.is_dir() {
            if item.depth() >= MAX_DIR_DEPTH {
                diags.push(Diagnostic::new(
                    &rules::UNREADABLE_FILE,
                    format!("`{name}` is nested more than {MAX_DIR_DEPTH} folders deep; its contents were not read"),
                ));
            }
            name.push('/');
            EntryKind::Dir
        } else if ft.is_file() {
            EntryKind::File
        } else {
            EntryKind::Special
        };
        let size = if kind == EntryKind::File {
            meta.len()
        } else {
            0
        };
        entries.push(Entry {
            name,
            kind,
            size,
            stored_size: size,
            executable: kind == EntryKind::File && meta.mode() & 0o111 != 0,
            index: entries.len(),
        });
    }
    entries
}

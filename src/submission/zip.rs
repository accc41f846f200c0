//! A ZIP reader that trusts nothing: it walks the end record, the central
//! directory *and* every local header itself, the way Python's `zipfile`
//! (the evaluator's reader) locates them, and reports every disagreement.
//!
//! Nothing is extracted: entry data is streamed from the archive on demand
//! with positioned reads, so checks can run in parallel on one open file.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

use crate::diagnostic::Diagnostic;
use crate::rules::archive as rules;

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_EOCD64: u32 = 0x0606_4b50;
const SIG_EOCD64_LOCATOR: u32 = 0x0706_4b50;
const SIG_DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const EOCD_LEN: u64 = 22;
const EOCD64_LEN: u64 = 56;
const EOCD64_LOCATOR_LEN: u64 = 20;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: u64 = 30;
/// A central directory larger than this is not a model submission.
const MAX_CENTRAL_DIRECTORY: u64 = 64 << 20;

pub const METHOD_STORED: u16 = 0;
pub const METHOD_DEFLATE: u16 = 8;

#[derive(Clone, Debug)]
pub struct ZipEntry {
    pub name: String,
    pub raw_name: Vec<u8>,
    pub method: u16,
    pub flags: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    pub local_header_offset: u64,
    /// Start of the entry's data; `None` when its local header is unusable.
    pub data_offset: Option<u64>,
    /// Unix `st_mode` from the external attributes, when made on Unix.
    pub unix_mode: Option<u32>,
}

impl ZipEntry {
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }
    pub fn is_encrypted(&self) -> bool {
        self.flags & 0x0001 != 0 || self.flags & 0x0040 != 0
    }
}

pub struct ZipArchive {
    pub file: File,
    pub len: u64,
    pub entries: Vec<ZipEntry>,
}

/// Reads `len` bytes at `offset`, or fails when the file is shorter.
fn read_exact_at(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    b.get(i..i + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}
fn u64_at(b: &[u8], i: usize) -> u64 {
    b.get(i..i + 8).map_or(0, |s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    })
}

/// Limits the reader needs before it can trust anything.
pub struct ZipLimits {
    pub max_entries: u64,
}

fn fatal(message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(&rules::NOT_A_ZIP, message).help(
        "re-create the archive from the model folder: `cd my_model && zip -r ../my_model.zip .`",
    )
}

/// Parses the archive's structure. Returns `None` (with an A001 diagnostic)
/// when it cannot be read at all; otherwise the entries, with every
/// structural problem reported in `diags`.
pub fn read(
    file: File,
    limits: &ZipLimits,
    diags: &mut Vec<Diagnostic>,
) -> io::Result<Option<ZipArchive>> {
    let len = file.metadata()?.len();
    if len < EOCD_LEN {
        diags.push(fatal(format!(
            "not a ZIP archive: {len} bytes is shorter than an end record"
        )));
        return Ok(None);
    }
    // Python's zipfile takes the *last* end-record signature in the final
    // 64 KiB + 22 bytes; so do we, then insist that the comment ends the file.
    let tail_len = len.min(EOCD_LEN + 0xFFFF);
    let tail_start = len - tail_len;
    let tail = read_exact_at(&file, tail_start, tail_len as usize)?;
    let Some(pos) = (0..=tail.len().saturating_sub(EOCD_LEN as usize))
        .rev()
        .find(|&i| u32_at(&tail, i) == SIG_EOCD)
    else {
        diags.push(fatal(
            "not a ZIP archive: no end-of-central-directory record",
        ));
        return Ok(None);
    };
    let eocd_offset = tail_start + pos as u64;
    let eocd = &tail[pos..];
    let disk = u16_at(eocd, 4);
    let cd_disk = u16_at(eocd, 6);
    let mut entries_on_disk = u64::from(u16_at(eocd, 8));
    let mut total_entries = u64::from(u16_at(eocd, 10));
    let mut cd_size = u64::from(u32_at(eocd, 12));
    let mut cd_offset = u64::from(u32_at(eocd, 16));
    let comment_len = u64::from(u16_at(eocd, 20));
    let eocd_end = eocd_offset + EOCD_LEN + comment_len;
    if eocd_end > len {
        diags.push(fatal(
            "truncated archive: the end record's comment runs past the end of the file",
        ));
        return Ok(None);
    }
    if eocd_end < len {
        diags.push(
            Diagnostic::new(
                &rules::UNACCOUNTED_BYTES,
                format!(
                    "{} bytes follow the end-of-central-directory record",
                    len - eocd_end
                ),
            )
            .help("re-create the archive; do not append data to it"),
        );
    }

    // ZIP64: a locator right before the end record points at the real one.
    let mut directory_end = eocd_offset;
    if eocd_offset >= EOCD64_LOCATOR_LEN {
        let locator = read_exact_at(
            &file,
            eocd_offset - EOCD64_LOCATOR_LEN,
            EOCD64_LOCATOR_LEN as usize,
        )?;
        if u32_at(&locator, 0) == SIG_EOCD64_LOCATOR {
            let record_offset = u64_at(&locator, 8);
            if u32_at(&locator, 4) != 0 || u32_at(&locator, 16) > 1 {
                diags.push(Diagnostic::new(
                    &rules::UNSUPPORTED_COMPRESSION,
                    "multi-disk ZIP64 archives are not supported",
                ));
                return Ok(None);
            }
            let expected = eocd_offset - EOCD64_LOCATOR_LEN;
            let record = if expected >= EOCD64_LEN {
                read_exact_at(&file, expected - EOCD64_LEN, EOCD64_LEN as usize)?
            } else {
                Vec::new()
            };
            if u32_at(&record, 0) != SIG_EOCD64 {
                diags.push(fatal(
                    "corrupt ZIP64 archive: the ZIP64 end record is missing",
                ));
                return Ok(None);
            }
            if record_offset != expected - EOCD64_LEN {
                diags.push(Diagnostic::new(
                    &rules::UNACCOUNTED_BYTES,
                    "the ZIP64 locator points somewhere other than the ZIP64 end record",
                ));
            }
            if u32_at(&record, 16) != 0 || u32_at(&record, 20) != 0 {
                diags.push(Diagnostic::new(
                    &rules::UNSUPPORTED_COMPRESSION,
                    "multi-disk ZIP64 archives are not supported",
                ));
                return Ok(None);
            }
            entries_on_disk = u64_at(&record, 24);
            total_entries = u64_at(&record, 32);
            cd_size = u64_at(&record, 40);
            cd_offset = u64_at(&record, 48);
            directory_end = expected - EOCD64_LEN;
        }
    }
    if disk != 0 || cd_disk != 0 || entries_on_disk != total_entries {
        diags.push(Diagnostic::new(
            &rules::UNSUPPORTED_COMPRESSION,
            "multi-disk (spanned) archives are not supported",
        ));
        return Ok(None);
    }
    if total_entries > limits.max_entries {
        diags.push(
            Diagnostic::new(
                &rules::TOO_MANY_ENTRIES,
                format!("the archive declares {total_entries} entries; the policy allows {}", limits.max_entries),
            )
            .help("a submission needs model_config.yaml, model.py and its weights; remove everything else"),
        );
        return Ok(None);
    }
    // Where Python's zipfile would look: it shifts every offset by the bytes
    // found before the directory ("concat"), which is how self-extracting
    // stubs and polyglots stay readable. We refuse them but read as it does.
    let Some(concat) = directory_end
        .checked_sub(cd_size)
        .and_then(|v| v.checked_sub(cd_offset))
    else {
        diags.push(fatal(
            "corrupt archive: the central directory does not fit before the end record",
        ));
        return Ok(None);
    };
    if concat > 0 {
        diags.push(
            Diagnostic::new(&rules::UNACCOUNTED_BYTES, format!("{concat} bytes precede the archive's first entry"))
                .help("the file is a ZIP appended to something else (a self-extracting stub or a polyglot); zip the model folder directly"),
        );
    }
    if cd_size > MAX_CENTRAL_DIRECTORY {
        diags.push(fatal(format!(
            "the central directory is {cd_size} bytes, more than any submission needs"
        )));
        return Ok(None);
    }
    let cd_start = cd_offset + concat;
    let cd = read_exact_at(&file, cd_start, cd_size as usize)?;

    let mut entries = Vec::new();
    let mut p = 0usize;
    while p < cd.len() {
        if u32_at(&cd, p) != SIG_CENTRAL || p + CENTRAL_LEN > cd.len() {
            diags.push(fatal(format!(
                "corrupt central directory at byte {}",
                cd_start + p as u64
            )));
            return Ok(None);
        }
        let h = &cd[p..];
        let made_by = u16_at(h, 4);
        let flags = u16_at(h, 8);
        let method = u16_at(h, 10);
        let crc32 = u32_at(h, 16);
        let mut compressed_size = u64::from(u32_at(h, 20));
        let mut uncompressed_size = u64::from(u32_at(h, 24));
        let name_len = usize::from(u16_at(h, 28));
        let extra_len = usize::from(u16_at(h, 30));
        let comment_len = usize::from(u16_at(h, 32));
        let start_disk = u16_at(h, 34);
        let external = u32_at(h, 38);
        let mut local_header_offset = u64::from(u32_at(h, 42));
        let record_len = CENTRAL_LEN + name_len + extra_len + comment_len;
        if p + record_len > cd.len() {
            diags.push(fatal(
                "corrupt central directory: a record runs past its end",
            ));
            return Ok(None);
        }
        let raw_name = h[CENTRAL_LEN..CENTRAL_LEN + name_len].to_vec();
        let extra = &h[CENTRAL_LEN + name_len..CENTRAL_LEN + name_len + extra_len];
        // ZIP64 extended information replaces saturated fields, in this order.
        if let Some(z) = find_extra(extra, 0x0001) {
            let mut i = 0;
            for field in [
                &mut uncompressed_size,
                &mut compressed_size,
                &mut local_header_offset,
            ] {
                if *field == 0xFFFF_FFFF {
                    if i + 8 > z.len() {
                        diags.push(fatal("corrupt ZIP64 extra field"));
                        return Ok(None);
                    }
                    *field = u64_at(z, i);
                    i += 8;
                }
            }
        }
        let utf8 = flags & 0x0800 != 0;
        let name = match decode_name(&raw_name, utf8) {
            Some(n) => n,
            None => {
                diags.push(
                    Diagnostic::new(
                        &rules::UNSAFE_ENTRY_NAME,
                        format!(
                            "an entry name is not valid UTF-8: {:?}",
                            String::from_utf8_lossy(&raw_name)
                        ),
                    )
                    .help("rename the file with a plain ASCII name"),
                );
                String::from_utf8_lossy(&raw_name).into_owned()
            }
        };
        if let Some(unicode) = find_extra(extra, 0x7075)
            && unicode.get(5..).map(String::from_utf8_lossy).as_deref() != Some(name.as_str())
        {
            diags.push(Diagnostic::new(
                &rules::LOCAL_HEADER_MISMATCH,
                format!(
                    "entry `{name}` carries an Info-ZIP Unicode path that names a different file"
                ),
            ));
        }
        if start_disk != 0 {
            diags.push(Diagnostic::new(
                &rules::UNSUPPORTED_COMPRESSION,
                "multi-disk (spanned) archives are not supported",
            ));
            return Ok(None);
        }
        let host = made_by >> 8;
        let unix_mode = (host == 3 || host == 19)
            .then_some(external >> 16)
            .filter(|&m| m != 0);
        entries.push(ZipEntry {
            name,
            raw_name,
            method,
            flags,
            crc32,
            compressed_size,
            uncompressed_size,
            local_header_offset: local_header_offset.saturating_add(concat),
            data_offset: None,
            unix_mode,
        });
        if entries.len() as u64 > limits.max_entries {
            diags.push(Diagnostic::new(
                &rules::TOO_MANY_ENTRIES,
                format!("more than {} entries", limits.max_entries),
            ));
            return Ok(None);
        }
        p += record_len;
    }
    if entries.len() as u64 != total_entries {
        diags.push(fatal(format!(
            "the end record declares {total_entries} entries but the central directory holds {}",
            entries.len()
        )));
        return Ok(None);
    }

    let mut archive = ZipArchive { file, len, entries };
    check_local_headers(&mut archive, cd_start, diags)?;
    Ok(Some(archive))
}

fn find_extra(mut extra: &[u8], id: u16) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let tag = u16_at(extra, 0);
        let size = usize::from(u16_at(extra, 2));
        let body = extra.get(4..4 + size)?;
        if tag == id {
            return Some(body);
        }
        extra = &extra[4 + size..];
    }
    None
}

/// Decodes a name as Python's zipfile does: UTF-8 when flagged, else CP437.
fn decode_name(raw: &[u8], utf8: bool) -> Option<String> {
    if utf8 {
        return String::from_utf8(raw.to_vec()).ok();
    }
    Some(
        raw.iter()
            .map(|&b| {
                if b < 0x80 {
                    char::from(b)
                } else {
                    CP437_HIGH[usize::from(b - 0x80)]
                }
            })
            .collect(),
    )
}

const CP437_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', 'É', 'æ', 'Æ',
    'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', 'á', 'í', 'ó', 'ú', 'ñ', 'Ñ',
    'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕',
    '╣', '║', '╗', '╝', '╜', '╛', '┐', '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦',
    '╠', '═', '╬', '╧', '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐',
    '▀', 'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', '≡', '±',
    '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

/// Reads every local header, compares it with its central record, and
/// checks that the entries tile the file from byte 0 to the directory.
fn check_local_headers(
    archive: &mut ZipArchive,
    cd_start: u64,
    diags: &mut Vec<Diagnostic>,
) -> io::Result<()> {
    let mut regions: Vec<(u64, u64, usize)> = Vec::new();
    for (index, entry) in archive.entries.iter_mut().enumerate() {
        let name = entry.name.clone();
        let mismatch = |what: &str| {
            Diagnostic::new(
                &rules::LOCAL_HEADER_MISMATCH,
                format!("entry `{name}`: {what}"),
            )
            .help("the archive was crafted or corrupted; re-create it with `zip -r`")
        };
        let header_end = entry.local_header_offset.checked_add(LOCAL_LEN);
        if header_end.is_none_or(|end| end > cd_start) {
            diags.push(mismatch("its local header lies outside the entry area"));
            continue;
        }
        let header = read_exact_at(&archive.file, entry.local_header_offset, LOCAL_LEN as usize)?;
        if u32_at(&header, 0) != SIG_LOCAL {
            diags.push(mismatch(
                "no local file header at the offset the central directory gives",
            ));
            continue;
        }
        let flags = u16_at(&header, 6);
        let method = u16_at(&header, 8);
        let crc = u32_at(&header, 14);
        let mut csize = u64::from(u32_at(&header, 18));
        let mut usize_ = u64::from(u32_at(&header, 22));
        let name_len = u64::from(u16_at(&header, 26));
        let extra_len = u64::from(u16_at(&header, 28));
        let data_offset = entry.local_header_offset + LOCAL_LEN + name_len + extra_len;
        if data_offset > cd_start {
            diags.push(mismatch("its local header runs into the central directory"));
            continue;
        }
        let var = read_exact_at(
            &archive.file,
            entry.local_header_offset + LOCAL_LEN,
            (name_len + extra_len) as usize,
        )?;
        let (local_name, local_extra) = var.split_at(name_len as usize);
        if local_name != entry.raw_name.as_slice() {
            diags.push(mismatch(&format!(
                "the local header names it `{}`",
                String::from_utf8_lossy(local_name)
            )));
        }
        if method != entry.method {
            diags.push(mismatch(
                "the local header gives another compression method",
            ));
        }
        if (flags & 0x0041) != (entry.flags & 0x0041) {
            diags.push(mismatch(
                "the local header and the central directory disagree about encryption",
            ));
        }
        if let Some(z) = find_extra(local_extra, 0x0001) {
            if usize_ == 0xFFFF_FFFF {
                usize_ = u64_at(z, 0);
            }
            if csize == 0xFFFF_FFFF {
                csize = u64_at(z, 8);
            }
        }
        let descriptor = flags & 0x0008 != 0;
        if !descriptor
            && (crc != entry.crc32
                || csize != entry.compressed_size
                || usize_ != entry.uncompressed_size)
        {
            diags.push(mismatch(
                "the local header's CRC or sizes differ from the central directory's",
            ));
        }
        let Some(data_end) = data_offset
            .checked_add(entry.compressed_size)
            .filter(|&e| e <= cd_start)
        else {
            diags.push(mismatch(
                "its data runs past the start of the central directory",
            ));
            continue;
        };
        let mut end = data_end;
        if descriptor {
            let zip64 =
                entry.compressed_size >= 0xFFFF_FFFF || entry.uncompressed_size >= 0xFFFF_FFFF;
            let size_len: u64 = if zip64 { 8 } else { 4 };
            let probe = read_exact_at(
                &archive.file,
                data_end,
                4.min((cd_start - data_end) as usize),
            )?;
            let sig_len = if u32_at(&probe, 0) == SIG_DATA_DESCRIPTOR {
                4
            } else {
                0
            };
            let dd_len = sig_len + 4 + 2 * size_len;
            if data_end + dd_len > cd_start {
                diags.push(mismatch(
                    "its data descriptor runs past the start of the central directory",
                ));
                continue;
            }
            let dd = read_exact_at(
                &archive.file,
                data_end + sig_len,
                (dd_len - sig_len) as usize,
            )?;
            let (dcrc, dc, du) = if zip64 {
                (u32_at(&dd, 0), u64_at(&dd, 4), u64_at(&dd, 12))
            } else {
                (
                    u32_at(&dd, 0),
                    u64::from(u32_at(&dd, 4)),
                    u64::from(u32_at(&dd, 8)),
                )
            };
            if dcrc != entry.crc32 || dc != entry.compressed_size || du != entry.uncompressed_size {
                diags.push(mismatch(
                    "its data descriptor disagrees with the central directory",
                ));
            }
            end += dd_len;
        }
        entry.data_offset = Some(data_offset);
        regions.push((entry.local_header_offset, end, index));
    }

    regions.sort_unstable();
    let mut cursor = regions.first().map_or(cd_start, |r| r.0.min(cd_start));
    if cursor > 0
        && !diags
            .iter()
            .any(|d| d.rule.code == rules::UNACCOUNTED_BYTES.code)
    {
        diags.push(Diagnostic::new(
            &rules::UNACCOUNTED_BYTES,
            format!("{cursor} bytes precede the first entry"),
        ));
    }
    let mut previous: Option<usize> = None;
    for &(start, end, index) in &regions {
        if start < cursor {
            let other = previous.map_or_else(String::new, |p| archive.entries[p].name.clone());
            diags.push(
                Diagnostic::new(
                    &rules::OVERLAPPING_ENTRIES,
                    format!("entry `{}` overlaps entry `{other}`", archive.entries[index].name),
                )
                .help("overlapping entries are the signature of a zip bomb; re-create the archive with `zip -r`"),
            );
        } else if start > cursor {
            diags.push(Diagnostic::new(
                &rules::UNACCOUNTED_BYTES,
                format!(
                    "{} bytes between entries, before `{}`",
                    start - cursor,
                    archive.entries[index].name
                ),
            ));
        }
        cursor = cursor.max(end);
        previous = Some(index);
    }
    if cursor < cd_start {
        diags.push(Diagnostic::new(
            &rules::UNACCOUNTED_BYTES,
            format!(
                "{} bytes between the last entry and the central directory",
                cd_start - cursor
            ),
        ));
    }
    Ok(())
}

/// Reads a byte range of a file with positioned reads (no shared cursor).
pub struct RangeReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl<'a> RangeReader<'a> {
    pub fn new(file: &'a File, start: u64, len: u64) -> Self {
        RangeReader {
            file,
            pos: start,
            end: start.saturating_add(len),
        }
    }
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        if left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "archive truncated inside an entry",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl ZipArchive {
    /// A decompressing reader over one entry's data.
    pub fn open(&self, entry: &ZipEntry) -> io::Result<Box<dyn Read + '_>> {
        let Some(offset) = entry.data_offset else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "entry has no readable local header",
            ));
        };
        let raw = RangeReader::new(&self.file, offset, entry.compressed_size);
        match entry.method {
            METHOD_STORED => Ok(Box::new(raw)),
            METHOD_DEFLATE => Ok(Box::new(flate2::read::DeflateDecoder::new(raw))),
            m => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("compression method {m}"),
            )),
        }
    }
}

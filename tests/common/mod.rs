//! Test helpers: run the built binary, and build ZIPs and safetensors files
//! byte by byte so that malformed inputs are readable in the test itself.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test venv's interpreter (scripts/test.sh creates it and exports
/// GASGUARD_TEST_PYTHON); a test that needs it fails, never skips, without it.
pub fn test_python() -> String {
    let p = std::env::var("GASGUARD_TEST_PYTHON").unwrap_or_else(|_| {
        repo()
            .join(".venv/bin/python")
            .to_string_lossy()
            .into_owned()
    });
    assert!(
        Path::new(&p).exists(),
        "no test interpreter at {p}: run scripts/test.sh (it creates .venv)"
    );
    p
}

pub fn gasguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gasguard"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run gasguard")
}

/// Runs `check --format json --sandbox off` on one path and returns (exit code, report).
pub fn check_json(path: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let p = path.to_str().expect("utf-8 path");
    let mut args = vec!["check", "--format", "json", "--sandbox", "off", p];
    args.extend_from_slice(extra);
    let out = gasguard(&args);
    let code = out.status.code().expect("gasguard exited by signal");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}) exit {code}: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

/// The codes of every diagnostic in a one-submission JSON report.
pub fn codes(report: &serde_json::Value) -> Vec<String> {
    report["submissions"][0]["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the exit code and that `code` is among the findings.
fn assert_exit_with(path: &Path, code: &str, expected_exit: i32) -> serde_json::Value {
    let (exit, report) = check_json(path, &[]);
    let found = codes(&report);
    assert!(
        found.iter().any(|c| c == code),
        "{}: expected {code}, found {found:?}",
        path.display()
    );
    assert_eq!(
        exit,
        expected_exit,
        "{}: expected exit {expected_exit}, found {exit}; {found:?}",
        path.display()
    );
    report
}

/// Asserts the submission is rejected (exit 1) with `code` among its findings.
pub fn assert_rejected_with(path: &Path, code: &str) -> serde_json::Value {
    assert_exit_with(path, code, 1)
}

/// Asserts the submission is accepted (exit 0) and that `code` is among its findings.
pub fn assert_warned_with(path: &Path, code: &str) -> serde_json::Value {
    assert_exit_with(path, code, 0)
}

pub fn assert_accepted(path: &Path) -> serde_json::Value {
    let (exit, report) = check_json(path, &[]);
    assert_eq!(
        exit,
        0,
        "{}: expected exit 0; {:?}",
        path.display(),
        report["submissions"][0]["diagnostics"]
    );
    report
}

/// The three files of the image example, as (name, bytes).
pub fn example_files(modality: &str) -> Vec<(String, Vec<u8>)> {
    let dir = repo().join("examples").join(modality);
    ["model_config.yaml", "model.py", "model.safetensors"]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                std::fs::read(dir.join(n)).expect("example file"),
            )
        })
        .collect()
}

/// A temp directory holding the image example, with `replace` applied
/// (a `None` body removes the file).
pub fn example_dir(replace: &[(&str, Option<&[u8]>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = example_files("image");
    for (name, body) in replace {
        files.retain(|(n, _)| n != name);
        if let Some(b) = body {
            files.push((name.to_string(), b.to_vec()));
        }
    }
    for (name, body) in files {
        let path = dir.path().join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, body).expect("write");
    }
    dir
}

pub fn write_temp(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    (dir, path)
}

/// One ZIP entry, with every field a test may want to falsify.
#[derive(Clone, Debug)]
pub struct ZipEntrySpec {
    pub name: String,
    pub data: Vec<u8>,
    pub deflate: bool,
    /// Unix st_mode stored in the external attributes (made-by = Unix).
    pub mode: Option<u32>,
    /// Name written in the local header, when it should differ.
    pub local_name: Option<String>,
    pub flags: u16,
    /// Compression method written in both headers, when not the natural one.
    pub method: Option<u16>,
    /// Uncompressed size declared in both headers, when it should lie.
    pub declared_size: Option<u32>,
    /// CRC declared in both headers, when it should lie.
    pub crc: Option<u32>,
    /// Point this central record at another entry's local header.
    pub alias_of: Option<usize>,
}

impl ZipEntrySpec {
    pub fn new(name: &str, data: &[u8]) -> Self {
        ZipEntrySpec {
            name: name.into(),
            data: data.to_vec(),
            deflate: false,
            mode: None,
            local_name: None,
            flags: 0,
            method: None,
            declared_size: None,
            crc: None,
            alias_of: None,
        }
    }
    pub fn deflated(mut self) -> Self {
        self.deflate = true;
        self
    }
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("deflate");
    e.finish().expect("deflate")
}

/// Builds a ZIP: `prefix` bytes, the entries, the central directory, the end
/// record, then `suffix` bytes.
pub fn build_zip(entries: &[ZipEntrySpec], prefix: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    let mut central = Vec::new();
    let mut offsets = Vec::new();
    for e in entries {
        let payload = if e.deflate {
            deflate(&e.data)
        } else {
            e.data.clone()
        };
        let method = e.method.unwrap_or(if e.deflate { 8 } else { 0 });
        let crc = e.crc.unwrap_or_else(|| crc32(&e.data));
        let usize_ = e.declared_size.unwrap_or(e.data.len() as u32);
        let offset = match e.alias_of {
            Some(i) => offsets[i],
            None => {
                let offset = (out.len() - prefix.len()) as u32;
                let local_name = e.local_name.as_deref().unwrap_or(&e.name);
                out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
                out.extend_from_slice(&20u16.to_le_bytes());
                out.extend_from_slice(&e.flags.to_le_bytes());
                out.extend_from_slice(&method.to_le_bytes());
                out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
                out.extend_from_slice(&crc.to_le_bytes());
                out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
                out.extend_from_slice(&usize_.to_le_bytes());
                out.extend_from_slice(&(local_name.len() as u16).to_le_bytes());
                out.extend_from_slice(&0u16.to_le_bytes());
                out.extend_from_slice(local_name.as_bytes());
                out.extend_from_slice(&payload);
                offset
            }
        };
        offsets.push(offset);
        let made_by: u16 = if e.mode.is_some() { (3 << 8) | 20 } else { 20 };
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&made_by.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&e.flags.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&[0, 0, 0x21, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        central.extend_from_slice(&usize_.to_le_bytes());
        central.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 8]); // extra len, comment len, disk, internal attrs
        central.extend_from_slice(&(e.mode.unwrap_or(0) << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(e.name.as_bytes());
    }
    let cd_offset = (out.len() - prefix.len()) as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(suffix);
    out
}

/// The image example as ZIP entries, plus `extra`.
pub fn example_zip(extra: Vec<ZipEntrySpec>) -> Vec<u8> {
    let mut entries: Vec<ZipEntrySpec> = example_files("image")
        .iter()
        .map(|(n, b)| ZipEntrySpec::new(n, b).deflated())
        .collect();
    entries.extend(extra);
    build_zip(&entries, &[], &[])
}

/// A safetensors file from a header JSON and a data buffer.
pub fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

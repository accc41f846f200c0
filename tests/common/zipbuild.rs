//! A ZIP writer that can lie: every header field a test or fuzzer may want
//! to falsify. Used by the tests and by the structure-aware ZIP fuzz target.
#![allow(dead_code)]

use std::io::Write;

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

//! Archive rules (A001-A018), each on an archive built byte by byte here.

mod common;
use common::*;

fn zip_file(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    write_temp("submission.zip", bytes)
}

#[test]
fn a_well_formed_zip_of_the_example_is_accepted() {
    let (_d, p) = zip_file(&example_zip(vec![]));
    assert_accepted(&p);
}

#[test]
fn a001_not_a_zip_and_truncated() {
    let (_d, p) = zip_file(b"this is not an archive at all, just text");
    assert_rejected_with(&p, "A001");
    let whole = example_zip(vec![]);
    let (_d2, p2) = zip_file(&whole[..whole.len() - 10]);
    assert_rejected_with(&p2, "A001");
}

#[test]
fn a002_empty_archive() {
    let (_d, p) = zip_file(&build_zip(&[], &[], &[]));
    assert_rejected_with(&p, "A002");
}

#[test]
fn a003_encrypted_entry() {
    let mut e = ZipEntrySpec::new("notes.txt", b"secret");
    e.flags = 1;
    let (_d, p) = zip_file(&example_zip(vec![e]));
    assert_rejected_with(&p, "A003");
}

#[test]
fn a004_unsupported_compression() {
    let mut e = ZipEntrySpec::new("notes.txt", b"BZh91AY&SY");
    e.method = Some(12); // bzip2
    let (_d, p) = zip_file(&example_zip(vec![e]));
    assert_rejected_with(&p, "A004");
}

#[test]
fn a005_unsafe_names() {
    for name in [
        "../evil.py",
        "/etc/cron.d/x",
        "dir\\file.txt",
        "C:evil.txt",
        "a\u{1b}[2Jb.txt",
        "./model.json",
    ] {
        let (_d, p) = zip_file(&example_zip(vec![ZipEntrySpec::new(name, b"x")]));
        assert_rejected_with(&p, "A005");
    }
}

#[test]
fn a006_symlink_entry_in_zip_and_directory() {
    let link = ZipEntrySpec::new("weights.safetensors", b"/etc/passwd").mode(0o120777);
    let (_d, p) = zip_file(&example_zip(vec![link]));
    assert_rejected_with(&p, "A006");

    let dir = example_dir(&[]);
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("config.json")).expect("symlink");
    assert_rejected_with(dir.path(), "A006");
}

#[test]
fn a007_duplicate_entries() {
    let (_d, p) = zip_file(&example_zip(vec![ZipEntrySpec::new(
        "model.py",
        b"import os\n",
    )]));
    assert_rejected_with(&p, "A007");
}

#[test]
fn a008_names_colliding_by_case_or_normalisation() {
    let (_d, p) = zip_file(&example_zip(vec![ZipEntrySpec::new(
        "MODEL.py", b"x = 1\n",
    )]));
    assert_rejected_with(&p, "A008");
    // "ﬁ" (U+FB01) is "fi" after NFKC.
    let mut ligature = ZipEntrySpec::new("conﬁg.json", b"{}");
    ligature.flags = 0x0800; // the name is UTF-8
    let (_d2, p2) = zip_file(&example_zip(vec![
        ligature,
        ZipEntrySpec::new("config.json", b"{}"),
    ]));
    assert_rejected_with(&p2, "A008");
}

#[test]
fn a009_local_header_disagrees_with_central_directory() {
    // The central directory says config.json; the local header says evil.py.
    let mut spec = ZipEntrySpec::new("config.json", b"{}");
    spec.local_name = Some("evil.py".into());
    let (_d, p) = zip_file(&example_zip(vec![spec]));
    assert_rejected_with(&p, "A009");
}

#[test]
fn a010_bytes_before_between_or_after() {
    let (_d, p) = zip_file(&build_zip(
        &example_files("image")
            .iter()
            .map(|(n, b)| ZipEntrySpec::new(n, b))
            .collect::<Vec<_>>(),
        b"#!/bin/sh\necho self-extracting\n",
        &[],
    ));
    assert_rejected_with(&p, "A010");
    let mut appended = example_zip(vec![]);
    appended.extend_from_slice(b"PK hidden payload");
    let (_d2, p2) = zip_file(&appended);
    assert_rejected_with(&p2, "A010");
}

#[test]
fn a011_overlapping_entries() {
    let mut alias = ZipEntrySpec::new("config.json", b"{}");
    alias.alias_of = Some(0); // same local header as model_config.yaml
    let (_d, p) = zip_file(&example_zip(vec![alias]));
    assert_rejected_with(&p, "A011");
}

#[test]
fn a012_declared_size_over_the_limit() {
    // A policy with a tiny total-size limit stands in for a 20 GB archive.
    let policy = std::fs::read_to_string(repo().join("rules/sn34.yaml"))
        .expect("policy")
        .replace("max_total_bytes: 20000000000", "max_total_bytes: 1000");
    let (_pd, policy_path) = write_temp("policy.yaml", policy.as_bytes());
    let (_d, p) = zip_file(&example_zip(vec![]));
    let (exit, report) = check_json(&p, &["--policy", policy_path.to_str().expect("path")]);
    assert!(
        codes(&report).contains(&"A012".to_string()),
        "{:?}",
        codes(&report)
    );
    assert_eq!(exit, 1);
}

#[test]
fn a013_too_many_entries() {
    let many: Vec<_> = (0..1001)
        .map(|i| ZipEntrySpec::new(&format!("f{i}.json"), b"{}"))
        .collect();
    let (_d, p) = zip_file(&example_zip(many));
    assert_rejected_with(&p, "A013");
}

#[test]
fn a014_compression_ratio_bomb() {
    let bomb = ZipEntrySpec::new("notes.json", &vec![b' '; 4 << 20]).deflated();
    let (_d, p) = zip_file(&example_zip(vec![bomb]));
    assert_rejected_with(&p, "A014");
}

#[test]
fn a015_nested_archive_by_name_and_by_content() {
    let (_d, p) = zip_file(&example_zip(vec![ZipEntrySpec::new(
        "backbone.tar.gz",
        b"\x1f\x8b\x08",
    )]));
    assert_rejected_with(&p, "A015");
    let inner = build_zip(&[ZipEntrySpec::new("x.py", b"import os")], &[], &[]);
    let (_d2, p2) = zip_file(&example_zip(vec![ZipEntrySpec::new("data.json", &inner)]));
    assert_rejected_with(&p2, "A015");
}

#[test]
fn a016_corrupt_data_and_lying_sizes() {
    let files = example_files("image");
    let mut entries: Vec<ZipEntrySpec> =
        files.iter().map(|(n, b)| ZipEntrySpec::new(n, b)).collect();
    entries[1].crc = Some(0xdead_beef); // model.py
    let (_d, p) = zip_file(&build_zip(&entries, &[], &[]));
    assert_rejected_with(&p, "A016");

    let mut entries: Vec<ZipEntrySpec> = files
        .iter()
        .map(|(n, b)| ZipEntrySpec::new(n, b).deflated())
        .collect();
    entries[0].declared_size = Some(10); // model_config.yaml inflates to more
    let (_d2, p2) = zip_file(&build_zip(&entries, &[], &[]));
    assert_rejected_with(&p2, "A016");
}

#[test]
fn a017_special_files() {
    let fifo = ZipEntrySpec::new("pipe.json", b"").mode(0o010644);
    let (_d, p) = zip_file(&example_zip(vec![fifo]));
    assert_rejected_with(&p, "A017");

    let dir = example_dir(&[]);
    let fifo_path = std::ffi::CString::new(dir.path().join("pipe.json").to_str().expect("utf8"))
        .expect("cstring");
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo_path.as_ptr(), 0o644) }, 0);
    assert_rejected_with(dir.path(), "A017");
}

#[test]
fn a018_folder_too_deep_to_read() {
    // Nesting beyond the walker's depth bound is reported, not skipped.
    let dir = example_dir(&[]);
    let mut deep = dir.path().to_path_buf();
    for _ in 0..40 {
        deep = deep.join("d");
    }
    std::fs::create_dir_all(&deep).expect("deep mkdir");
    std::fs::write(deep.join("x.json"), b"{}").expect("write");
    assert_rejected_with(dir.path(), "A018");
}

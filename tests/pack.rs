//! `gasguard pack`: the canonical ZIP is written only for an accepted
//! submission, is the same bytes whatever it was made from, packs to itself,
//! and reads back in Python's zipfile as the source's files.

mod common;
use common::*;

use std::path::Path;

fn pack(source: &Path, out: &Path) -> std::process::Output {
    gasguard(&[
        "pack",
        source.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
        "--sandbox",
        "off",
        "--format",
        "json",
    ])
}

fn exit(out: &std::process::Output) -> i32 {
    out.status.code().expect("gasguard exited by signal")
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn canonical_zip_is_the_same_from_a_folder_a_nested_zip_and_itself() {
    let work = tempfile::tempdir().expect("tempdir");
    let from_dir = work.path().join("from-dir.zip");
    let out = pack(&repo().join("examples/image"), &from_dir);
    assert_eq!(exit(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("packed") && stderr.contains("sha256"),
        "{stderr}"
    );

    // The same files zipped the way many miners do: under a folder, deflated,
    // with macOS junk and a directory entry.
    let mut entries = vec![ZipEntrySpec::new("detector/", b"")];
    for (name, body) in example_files("image").iter().rev() {
        entries.push(ZipEntrySpec::new(&format!("detector/{name}"), body).deflated());
    }
    entries.push(ZipEntrySpec::new(
        "__MACOSX/detector/._model.py",
        b"\0\x05\x16\x07",
    ));
    let nested = work.path().join("nested.zip");
    std::fs::write(&nested, build_zip(&entries, &[], &[])).expect("write");
    let (_, nested_report) = check_json(&nested, &[]);
    assert!(codes(&nested_report).contains(&"L003".to_string()));
    let from_nested = work.path().join("from-nested.zip");
    assert_eq!(exit(&pack(&nested, &from_nested)), 0);

    let again = work.path().join("again.zip");
    assert_eq!(exit(&pack(&from_dir, &again)), 0);

    let canonical = std::fs::read(&from_dir).expect("read");
    assert_eq!(
        canonical,
        std::fs::read(&from_nested).expect("read"),
        "nested folder packs differently"
    );
    assert_eq!(
        canonical,
        std::fs::read(&again).expect("read"),
        "packing the canonical form changed it"
    );
    let (code, report) = check_json(&from_dir, &[]);
    assert_eq!(code, 0);
    assert!(
        codes(&report).is_empty(),
        "canonical form has findings: {:?}",
        codes(&report)
    );
    // Nothing but the three ZIPs and the nested source in the work folder.
    let mut left = leftovers(work.path());
    left.sort();
    assert_eq!(
        left,
        ["again.zip", "from-dir.zip", "from-nested.zip", "nested.zip"]
    );
}

#[test]
fn python_zipfile_reads_the_canonical_zip_as_the_source_files() {
    let work = tempfile::tempdir().expect("tempdir");
    let out = work.path().join("image.zip");
    assert_eq!(exit(&pack(&repo().join("examples/image"), &out)), 0);
    let script = r#"
import sys, zipfile, pathlib
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for i in z.infolist():
    assert i.compress_type == zipfile.ZIP_STORED, i
    assert i.date_time == (1980, 1, 1, 0, 0, 0), i
    assert i.extra == b"" and i.comment == b"", i
    assert (i.external_attr >> 16) == 0o100644, oct(i.external_attr >> 16)
    src = pathlib.Path(sys.argv[2], i.filename).read_bytes()
    assert z.read(i) == src, i.filename
print(",".join(z.namelist()))
"#;
    let py = std::process::Command::new(test_python())
        .args([
            "-c",
            script,
            out.to_str().expect("utf-8"),
            repo().join("examples/image").to_str().expect("utf-8"),
        ])
        .output()
        .expect("run python");
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&py.stdout).trim(),
        "model.py,model.safetensors,model_config.yaml"
    );
}

#[test]
fn a_rejected_submission_is_not_packed_and_leaves_nothing_behind() {
    let source = example_dir(&[(
        "model.py",
        Some(b"import os\ndef load_model(**kw):\n    return None\n"),
    )]);
    let work = tempfile::tempdir().expect("tempdir");
    let out_path = work.path().join("out.zip");
    let out = pack(source.path(), &out_path);
    assert_eq!(exit(&out), 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(
        codes(&report).contains(&"P101".to_string()),
        "{:?}",
        codes(&report)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not packed"));
    assert!(
        leftovers(work.path()).is_empty(),
        "{:?}",
        leftovers(work.path())
    );
}

/// The image example as a stored ZIP whose weights (`weights`, a valid
/// safetensors file) have their last byte flipped after the CRC was taken.
fn zip_with_corrupt_weights(weights: Vec<u8>) -> (tempfile::TempDir, std::path::PathBuf) {
    let mut entries: Vec<ZipEntrySpec> = example_files("image")
        .iter()
        .filter(|(n, _)| n != "model.safetensors")
        .map(|(n, b)| ZipEntrySpec::new(n, b))
        .collect();
    let mut w = ZipEntrySpec::new("model.safetensors", &weights);
    w.crc = Some(crc32(&w.data));
    let last = w.data.len() - 1;
    w.data[last] ^= 0xff;
    entries.push(w);
    write_temp("bad-crc.zip", &build_zip(&entries, &[], &[]))
}

fn assert_pack_refuses_corrupt(dir: &Path, zip: &Path) {
    let out_path = dir.join("out.zip");
    let out = pack(zip, &out_path);
    assert_eq!(exit(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(
        codes(&report).contains(&"A016".to_string()),
        "{:?}",
        codes(&report)
    );
    assert!(!out_path.exists());
    assert_eq!(leftovers(dir), ["bad-crc.zip"]);
}

#[test]
fn corrupt_tensor_bytes_are_caught_by_check_and_by_pack() {
    // Python's zipfile would refuse to extract it: the evaluator never loads it.
    let weights = std::fs::read(repo().join("examples/image/model.safetensors")).expect("read");
    let (dir, zip) = zip_with_corrupt_weights(weights);
    let (code, report) = check_json(&zip, &[]);
    assert_eq!(code, 1);
    assert!(
        codes(&report).contains(&"A016".to_string()),
        "{:?}",
        codes(&report)
    );
    assert_pack_refuses_corrupt(dir.path(), &zip);
}

#[test]
fn corrupt_tensor_bytes_past_checks_read_budget_are_caught_by_pack() {
    // 80 MB of weights: past what `check` reads (it judges large inputs on
    // their headers), so only packing, which reads every byte, sees it.
    let n = 80_000_000usize;
    let header = format!(r#"{{"w":{{"dtype":"U8","shape":[{n}],"data_offsets":[0,{n}]}}}}"#);
    let (dir, zip) = zip_with_corrupt_weights(safetensors(&header, &vec![7u8; n]));
    let (code, report) = check_json(&zip, &[]);
    assert!(
        !codes(&report).contains(&"A016".to_string()),
        "the premise: check does not read 80 MB"
    );
    assert!(code <= 1);
    assert_pack_refuses_corrupt(dir.path(), &zip);
}

#[test]
fn the_zip_may_not_be_written_inside_the_folder_it_packs() {
    let source = example_dir(&[]);
    let out = pack(source.path(), &source.path().join("model.zip"));
    assert_eq!(exit(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("inside the submission folder"));
    assert!(!source.path().join("model.zip").exists());
}

#[test]
fn a_model_that_fails_in_the_sandbox_is_not_packed() {
    let model = b"import torch\n\nclass M(torch.nn.Module):\n    def forward(self, x):\n        raise RuntimeError('boom')\n\ndef load_model(weights_path, **kwargs):\n    return M()\n";
    let source = example_dir(&[("model.py", Some(model))]);
    let work = tempfile::tempdir().expect("tempdir");
    let out_path = work.path().join("out.zip");
    let python = test_python();
    let out = gasguard(&[
        "pack",
        source.path().to_str().expect("utf-8"),
        "-o",
        out_path.to_str().expect("utf-8"),
        "--sandbox",
        "on",
        "--python",
        &python,
        "--format",
        "json",
    ]);
    assert_eq!(exit(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(
        codes(&report).iter().any(|c| c.starts_with('R')),
        "{:?}",
        codes(&report)
    );
    assert!(
        leftovers(work.path()).is_empty(),
        "{:?}",
        leftovers(work.path())
    );
}

//! Layout rules (L001-L010): what a submission may hold and where.

mod common;
use common::*;

#[test]
fn the_examples_are_accepted_as_folders_and_as_zips() {
    for modality in ["image", "video", "audio"] {
        assert_accepted(&repo().join("examples").join(modality));
        let entries: Vec<_> = example_files(modality)
            .iter()
            .map(|(n, b)| ZipEntrySpec::new(n, b).deflated())
            .collect();
        let (_d, p) = write_temp("flat.zip", &build_zip(&entries, &[], &[]));
        assert_accepted(&p);
    }
}

#[test]
fn l001_missing_required_files() {
    assert_rejected_with(example_dir(&[("model.py", None)]).path(), "L001");
    assert_rejected_with(example_dir(&[("model_config.yaml", None)]).path(), "L001");
}

#[test]
fn l002_missing_weights() {
    assert_rejected_with(example_dir(&[("model.safetensors", None)]).path(), "L002");
    let config = b"name: x\nversion: '1'\nmodality: image\npreprocessing: {resize: [224, 224]}\nmodel: {num_classes: 2, weights_file: other.safetensors}\n";
    assert_rejected_with(
        example_dir(&[("model_config.yaml", Some(config))]).path(),
        "L002",
    );
}

#[test]
fn l003_a_zip_of_the_folder_is_accepted_with_a_warning() {
    let entries: Vec<_> = std::iter::once(ZipEntrySpec::new("my_model/", b""))
        .chain(
            example_files("image")
                .iter()
                .map(|(n, b)| ZipEntrySpec::new(&format!("my_model/{n}"), b)),
        )
        .collect();
    let (_d, p) = write_temp("nested.zip", &build_zip(&entries, &[], &[]));
    let report = assert_warned_with(&p, "L003");
    let weights = &report["submissions"][0]["weights"][0];
    assert_eq!(weights["file"], "my_model/model.safetensors");
}

#[test]
fn l004_native_and_compiled_code() {
    for name in [
        "__pycache__/model.cpython-311.pyc",
        "kernels.so",
        "helper.pyc",
    ] {
        assert_rejected_with(example_dir(&[(name, Some(b"\x00\x01"))]).path(), "L004");
    }
}

#[test]
fn l005_import_hijacking() {
    for (name, body) in [
        ("numpy.py", &b"x = 1\n"[..]),
        ("torch/__init__.py", b"x = 1\n"),
        ("os.py", b"x = 1\n"),
        ("sitecustomize.py", b"import os\n"),
        ("hook.pth", b"import os; os.system('id')\n"),
    ] {
        assert_rejected_with(example_dir(&[(name, Some(body))]).path(), "L005");
    }
}

#[test]
fn l006_scripts_and_executables() {
    assert_rejected_with(
        example_dir(&[("install.sh", Some(b"echo hi\n"))]).path(),
        "L006",
    );
    assert_rejected_with(
        example_dir(&[("tool", Some(b"\x7fELF\x02\x01\x01"))]).path(),
        "L006",
    );
    let dir = example_dir(&[("run.txt", Some(b"#!/bin/sh\necho\n"))]);
    assert_rejected_with(dir.path(), "L006");
    // The executable bit alone, in a ZIP.
    let exe = ZipEntrySpec::new("data.txt", b"plain").mode(0o100755);
    let (_d, p) = write_temp("x.zip", &example_zip(vec![exe]));
    assert_rejected_with(&p, "L006");
}

#[test]
fn l007_python_outside_model_py() {
    assert_rejected_with(
        example_dir(&[("layers.py", Some(b"x = 1\n"))]).path(),
        "L007",
    );
}

#[test]
fn l008_onnx() {
    let report = assert_rejected_with(
        example_dir(&[("model.onnx", Some(b"\x08\x07\x12\x04"))]).path(),
        "L008",
    );
    assert!(report.to_string().contains("no longer accepts ONNX"));
}

#[test]
fn l009_unused_files_warn() {
    assert_warned_with(
        example_dir(&[("notes.txt", Some(b"training notes"))]).path(),
        "L009",
    );
    let junk = ZipEntrySpec::new("__MACOSX/._model.py", b"\x00\x05\x16\x07");
    let (_d, p) = write_temp("mac.zip", &example_zip(vec![junk]));
    assert_warned_with(&p, "L009");
}

#[test]
fn l010_pickled_checkpoints() {
    assert_rejected_with(
        example_dir(&[("pytorch_model.bin", Some(b"\x80\x02}q\x00."))]).path(),
        "L010",
    );
    assert_rejected_with(
        example_dir(&[("weights.dat", Some(b"\x80\x04\x95\x00"))]).path(),
        "L010",
    );
}

#[test]
fn a_config_json_beside_the_model_is_fine() {
    let dir = example_dir(&[("config.json", Some(b"{\"hidden_size\": 8}"))]);
    assert_accepted(dir.path());
}

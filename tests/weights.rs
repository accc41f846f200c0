//! Weights rules (W001-W011) on safetensors files built here from a JSON
//! header and a data buffer.

mod common;
use common::*;

fn with_weights(bytes: &[u8]) -> tempfile::TempDir {
    example_dir(&[("model.safetensors", Some(bytes))])
}

const ONE_F32: &str = r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;

#[test]
fn a_valid_file_is_summarised() {
    let dir = with_weights(&safetensors(ONE_F32, &[0; 8]));
    let report = assert_accepted(dir.path());
    let w = &report["submissions"][0]["weights"][0];
    assert_eq!(w["tensors"], 1);
    assert_eq!(w["parameters"], 2);
    assert_eq!(w["dtypes"]["F32"], 8);
}

#[test]
fn w001_renamed_pickles_zips_and_onnx_are_named() {
    for (bytes, what) in [
        (&b"\x80\x02\x8a\x0alz\xfc\x9cF\xf9 j\xa8P"[..], "pickle"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "ZIP"),
        (b"\x08\x07\x12\x07pytorch", "ONNX"),
        (b"version https://git-lfs.github.com/spec/v1\n", "Git LFS"),
    ] {
        let report = assert_rejected_with(with_weights(bytes).path(), "W001");
        assert!(report.to_string().contains(what), "{what}");
    }
}

#[test]
fn w002_header_length_beyond_file_or_limit() {
    let mut huge = (1u64 << 40).to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    assert_rejected_with(with_weights(&huge).path(), "W002");
    let mut past_end = 500u64.to_le_bytes().to_vec();
    past_end.extend_from_slice(b"{\"a\":1}");
    assert_rejected_with(with_weights(&past_end).path(), "W002");
    assert_rejected_with(with_weights(b"\x01\x00").path(), "W002");
}

#[test]
fn w003_header_not_json() {
    assert_rejected_with(
        with_weights(&safetensors("{\"w\": {\"dtype\": ", &[])).path(),
        "W003",
    );
    assert_rejected_with(with_weights(&safetensors("[1, 2, 3]", &[])).path(), "W003");
    assert_rejected_with(
        with_weights(&safetensors(
            r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}"#,
            &[0; 8],
        ))
        .path(),
        "W003",
    );
}

#[test]
fn w004_metadata_values_must_be_strings() {
    let h = r#"{"__metadata__":{"epoch":3},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    assert_rejected_with(with_weights(&safetensors(h, &[0; 8])).path(), "W004");
}

#[test]
fn w005_unknown_dtype() {
    let h = r#"{"w":{"dtype":"F128","shape":[2],"data_offsets":[0,32]}}"#;
    assert_rejected_with(with_weights(&safetensors(h, &[0; 32])).path(), "W005");
}

#[test]
fn w006_shape_and_bytes_disagree() {
    let h = r#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}"#;
    assert_rejected_with(with_weights(&safetensors(h, &[0; 8])).path(), "W006");
    // A shape whose element count overflows u64.
    let h = r#"{"w":{"dtype":"F32","shape":[18446744073709551615,2],"data_offsets":[0,8]}}"#;
    assert_rejected_with(with_weights(&safetensors(h, &[0; 8])).path(), "W006");
}

#[test]
fn w007_overlaps_and_gaps() {
    let overlap = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    assert_rejected_with(with_weights(&safetensors(overlap, &[0; 8])).path(), "W007");
    let gap = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#;
    assert_rejected_with(with_weights(&safetensors(gap, &[0; 8])).path(), "W007");
}

#[test]
fn w008_trailing_or_missing_bytes() {
    assert_rejected_with(with_weights(&safetensors(ONE_F32, &[0; 12])).path(), "W008");
    assert_rejected_with(with_weights(&safetensors(ONE_F32, &[0; 4])).path(), "W008");
}

#[test]
fn w009_duplicate_tensor_names() {
    let h = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#;
    assert_rejected_with(with_weights(&safetensors(h, &[0; 8])).path(), "W009");
}

#[test]
fn w010_weights_dtype_differs_from_config() {
    let h = r#"{"w":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}"#;
    let report = assert_warned_with(with_weights(&safetensors(h, &[0; 8])).path(), "W010");
    assert!(report.to_string().contains("dtype: bfloat16"));
}

#[test]
fn w011_no_tensors() {
    assert_warned_with(with_weights(&safetensors("{}", &[])).path(), "W011");
}

#[test]
fn weights_in_a_deflated_zip_entry_are_read_by_streaming() {
    let mut weights = safetensors(ONE_F32, &[0; 8]);
    weights.extend_from_slice(&[0; 4]); // W008: trailing bytes, found through deflate
    let entries: Vec<_> = example_files("image")
        .into_iter()
        .map(|(n, b)| {
            if n == "model.safetensors" {
                (n, weights.clone())
            } else {
                (n, b)
            }
        })
        .map(|(n, b)| ZipEntrySpec::new(&n, &b).deflated())
        .collect();
    let (_d, p) = write_temp("w.zip", &build_zip(&entries, &[], &[]));
    assert_rejected_with(&p, "W008");
}

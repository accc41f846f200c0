//! safetensors weights, validated from the 8-byte length and the JSON header
//! alone: the tensor bytes are never read (nor, for a stored ZIP entry,
//! even decompressed).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::Read;

use serde::Serialize;
use serde::de::{Deserializer, MapAccess, Visitor};

use crate::diagnostic::Diagnostic;
use crate::rules::weights as rules;

/// What the report shows about a valid weights file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WeightsSummary {
    pub file: String,
    pub tensors: u64,
    pub parameters: u64,
    pub total_bytes: u64,
    /// Bytes per dtype.
    pub dtypes: BTreeMap<String, u64>,
    /// Every tensor in header order (for plugins; the report shows totals).
    #[serde(skip)]
    pub tensor_list: Vec<TensorShape>,
}

/// One tensor of a valid header.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TensorShape {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<u64>,
}

/// Bits per element of each safetensors dtype.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        _ => return None,
    })
}

/// Names what a file that is not safetensors looks like, from its first bytes.
fn identify(head: &[u8]) -> Option<&'static str> {
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Some("a Python pickle (a `torch.save` checkpoint); pickles run code when loaded");
    }
    if head.starts_with(b"PK\x03\x04") {
        return Some("a ZIP archive (the format of `torch.save` checkpoints since PyTorch 1.6)");
    }
    if head.starts_with(b"\x93NUMPY") {
        return Some("a NumPy .npy file");
    }
    if head.starts_with(b"\x89HDF") {
        return Some("an HDF5 (.h5) file");
    }
    if head.starts_with(b"version https://git-lfs") {
        return Some("a Git LFS pointer, not the weights (run `git lfs pull`)");
    }
    if head.len() >= 3 && head[0] == 0x08 && head[1] < 0x20 && head[2] == 0x12 {
        return Some("an ONNX model (ONNX is no longer accepted)");
    }
    if head.starts_with(b"<") {
        return Some("an HTML or XML document (a failed download?)");
    }
    None
}

struct Tensor {
    name: String,
    dtype: String,
    begin: u64,
    end: u64,
}

/// Visitor methods for every JSON scalar but strings, all giving `$value`.
macro_rules! scalars_give {
    ($ty:ty, $value:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<$ty, E> {
            Ok($value)
        }
        fn visit_i64<E>(self, _: i64) -> Result<$ty, E> {
            Ok($value)
        }
        fn visit_u64<E>(self, _: u64) -> Result<$ty, E> {
            Ok($value)
        }
        fn visit_f64<E>(self, _: f64) -> Result<$ty, E> {
            Ok($value)
        }
        fn visit_unit<E>(self) -> Result<$ty, E> {
            Ok($value)
        }
    };
}

/// One top-level header entry, reduced while parsing to what validation
/// reads, so memory follows the tensor count and not the header's size.
enum RawEntry {
    /// `__metadata__`: whether it maps strings to strings.
    Metadata(bool),
    Tensor {
        dtype: Option<String>,
        shape: Option<Vec<u64>>,
        offsets: Option<Vec<u64>>,
        /// The first field that is not dtype, shape or data_offsets.
        extra: Option<String>,
    },
    NotObject,
}

/// The header's top-level entries, in order, duplicates kept.
struct HeaderEntries(Vec<(String, RawEntry)>);

/// Whether a JSON value is a string, without keeping it.
struct IsString(bool);

impl<'de> serde::Deserialize<'de> for IsString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IsString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E>(self, _: &str) -> Result<IsString, E> {
                Ok(IsString(true))
            }
            scalars_give!(IsString, IsString(false));
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<IsString, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(IsString(false))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IsString, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(IsString(false))
            }
        }
        d.deserialize_any(V)
    }
}

fn numbers(v: serde_json::Value) -> Option<Vec<u64>> {
    v.as_array()?
        .iter()
        .map(serde_json::Value::as_u64)
        .collect()
}

impl<'de> serde::Deserialize<'de> for RawEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tensor description")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawEntry, A::Error> {
                let (mut dtype, mut shape, mut offsets, mut extra) = (None, None, None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "dtype" => {
                            dtype = map
                                .next_value::<serde_json::Value>()?
                                .as_str()
                                .map(str::to_string)
                        }
                        "shape" => shape = numbers(map.next_value()?),
                        "data_offsets" => offsets = numbers(map.next_value()?),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            extra.get_or_insert(key);
                        }
                    }
                }
                Ok(RawEntry::Tensor {
                    dtype,
                    shape,
                    offsets,
                    extra,
                })
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawEntry, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(RawEntry::NotObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<RawEntry, E> {
                Ok(RawEntry::NotObject)
            }
            scalars_give!(RawEntry, RawEntry::NotObject);
        }
        d.deserialize_any(V)
    }
}

/// `__metadata__`: a map whose values must all be strings.
struct MetadataCheck(bool);

impl<'de> serde::Deserialize<'de> for MetadataCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MetadataCheck;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MetadataCheck, A::Error> {
                let mut ok = true;
                while let Some((_, IsString(s))) =
                    map.next_entry::<serde::de::IgnoredAny, IsString>()?
                {
                    ok &= s;
                }
                Ok(MetadataCheck(ok))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<MetadataCheck, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(MetadataCheck(false))
            }
            fn visit_str<E>(self, _: &str) -> Result<MetadataCheck, E> {
                Ok(MetadataCheck(false))
            }
            scalars_give!(MetadataCheck, MetadataCheck(false));
        }
        d.deserialize_any(V)
    }
}

impl<'de> serde::Deserialize<'de> for HeaderEntries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HeaderEntries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of tensors")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderEntries, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let entry = if k == "__metadata__" {
                        RawEntry::Metadata(map.next_value::<MetadataCheck>()?.0)
                    } else {
                        map.next_value::<RawEntry>()?
                    };
                    out.push((k, entry));
                }
                Ok(HeaderEntries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Checks one safetensors file of `size` bytes read through `reader`.
pub fn check(
    file: &str,
    reader: &mut dyn Read,
    size: u64,
    max_header: u64,
    config_dtype: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<WeightsSummary> {
    let mut push = |d: Diagnostic| diags.push(d.in_file(file.to_string()));
    // The first bytes decide between "safetensors" and "something renamed".
    let mut prefix = Vec::with_capacity(64);
    if reader.take(64).read_to_end(&mut prefix).is_err() || prefix.len() < 8 || size < 8 {
        push(Diagnostic::new(&rules::HEADER_LENGTH, format!("{size} bytes is too short for a safetensors file")).help(
            "save weights with `safetensors.torch.save_file(model.state_dict(), \"model.safetensors\")`",
        ));
        return None;
    }
    let mut length = [0u8; 8];
    length.copy_from_slice(&prefix[..8]);
    let n = u64::from_le_bytes(length);
    let looks_like_safetensors = n <= max_header && prefix.get(8) == Some(&b'{');
    if !looks_like_safetensors && let Some(what) = identify(&prefix) {
        push(
            Diagnostic::new(&rules::NOT_SAFETENSORS, format!("`{file}` is not safetensors: it is {what}"))
                .help("convert: `safetensors.torch.save_file(torch.load(p, weights_only=True), \"model.safetensors\")`"),
        );
        return None;
    }
    if n > max_header {
        push(
            Diagnostic::new(
                &rules::HEADER_LENGTH,
                format!("the header claims {n} bytes; the limit is {max_header}"),
            )
            .help("a real header is a few kilobytes; this file is corrupt or not safetensors"),
        );
        return None;
    }
    if n.checked_add(8).is_none_or(|end| end > size) {
        push(
            Diagnostic::new(
                &rules::HEADER_LENGTH,
                format!("the header claims {n} bytes but the file has only {size}"),
            )
            .help("the file is truncated; upload it again"),
        );
        return None;
    }
    if n == 0 || prefix.get(8) != Some(&b'{') {
        push(
            Diagnostic::new(&rules::HEADER_JSON, "the header does not start with `{`")
                .help("this is not a safetensors file; re-export the weights with safetensors"),
        );
        return None;
    }
    let header_reader = std::io::Cursor::new(&prefix[8..]).chain(reader).take(n);
    // serde_json reads byte by byte: buffer, or every byte is a system call.
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(
        64 << 10,
        header_reader,
    ));
    let entries = match serde::Deserialize::deserialize(&mut de)
        .and_then(|e: HeaderEntries| de.end().map(|()| e))
    {
        Ok(e) => e.0,
        Err(e) => {
            push(
                Diagnostic::new(
                    &rules::HEADER_JSON,
                    format!("the header is not valid JSON: {e}"),
                )
                .help("the file is corrupt; re-export it with safetensors"),
            );
            return None;
        }
    };

    let mut ok = true;
    let mut seen = HashSet::new();
    let mut tensors = Vec::new();
    let mut summary = WeightsSummary {
        file: file.to_string(),
        ..WeightsSummary::default()
    };
    for (name, entry) in entries {
        if !seen.insert(name.clone()) {
            push(
                Diagnostic::new(
                    &rules::DUPLICATE_TENSOR,
                    format!("the tensor `{name}` is listed twice"),
                )
                .help("re-export the weights"),
            );
            ok = false;
            continue;
        }
        let bad_json = |what: &str| {
            Diagnostic::new(&rules::HEADER_JSON, format!("tensor `{name}`: {what}")).help(
                "each tensor is {\"dtype\": ..., \"shape\": [...], \"data_offsets\": [begin, end]}",
            )
        };
        let (dtype, shape, offsets) = match entry {
            RawEntry::Metadata(valid) => {
                if !valid {
                    push(
                        Diagnostic::new(
                            &rules::METADATA,
                            "`__metadata__` must map strings to strings",
                        )
                        .help("store metadata values as strings: {\"epoch\": \"3\"}"),
                    );
                    ok = false;
                }
                continue;
            }
            RawEntry::NotObject => {
                push(bad_json("its entry is not an object"));
                ok = false;
                continue;
            }
            RawEntry::Tensor {
                extra: Some(extra), ..
            } => {
                push(bad_json(&format!("unexpected field `{extra}`")));
                ok = false;
                continue;
            }
            RawEntry::Tensor {
                dtype,
                shape,
                offsets,
                extra: None,
            } => (dtype.unwrap_or_default(), shape, offsets),
        };
        let (Some(shape), Some([begin, end])) = (
            shape,
            offsets
                .as_deref()
                .and_then(|o| <[u64; 2]>::try_from(o).ok()),
        ) else {
            push(bad_json(
                "`shape` must be a list of non-negative integers and `data_offsets` two of them",
            ));
            ok = false;
            continue;
        };
        let dtype = dtype.as_str();
        let Some(bits) = dtype_bits(dtype) else {
            push(
                Diagnostic::new(
                    &rules::UNKNOWN_DTYPE,
                    format!("tensor `{name}` has unknown dtype `{dtype}`"),
                )
                .help("use a dtype safetensors defines (F32, F16, BF16, I64, ...)"),
            );
            ok = false;
            continue;
        };
        let numel = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
        let bytes = numel
            .and_then(|n| n.checked_mul(bits))
            .filter(|b| b % 8 == 0)
            .map(|b| b / 8);
        if end < begin || bytes != Some(end - begin) {
            push(
                Diagnostic::new(
                    &rules::SHAPE_SIZE_MISMATCH,
                    format!(
                        "tensor `{name}`: shape {shape:?} of {dtype} needs {} bytes but data_offsets [{begin}, {end}] hold {}",
                        bytes.map_or("an impossible number of".to_string(), |b| b.to_string()),
                        end.saturating_sub(begin)
                    ),
                )
                .help("the file is corrupt or crafted; re-export it"),
            );
            ok = false;
            continue;
        }
        summary.tensors += 1;
        summary.parameters = summary.parameters.saturating_add(numel.unwrap_or(0));
        *summary.dtypes.entry(dtype.to_string()).or_default() += end - begin;
        summary.tensor_list.push(TensorShape {
            name: name.clone(),
            dtype: dtype.to_string(),
            shape,
        });
        tensors.push(Tensor {
            name,
            dtype: dtype.to_string(),
            begin,
            end,
        });
    }

    tensors.sort_by_key(|t| (t.begin, t.end));
    let mut cursor = 0u64;
    for t in &tensors {
        if t.begin != cursor {
            let what = if t.begin < cursor {
                "overlaps the previous tensor"
            } else {
                "leaves a gap after the previous tensor"
            };
            push(
                Diagnostic::new(&rules::INVALID_OFFSETS, format!("tensor `{}` ({}) at [{}, {}] {what}", t.name, t.dtype, t.begin, t.end))
                    .help("tensors must tile the data buffer from 0 without gaps or overlaps; re-export the file"),
            );
            ok = false;
        }
        cursor = cursor.max(t.end);
    }
    let buffer = size - 8 - n;
    if ok && cursor != buffer {
        let (what, help) = if buffer > cursor {
            (
                format!("{} bytes follow the last tensor", buffer - cursor),
                "trailing bytes are hidden payload; re-export the file",
            )
        } else {
            (
                format!("the tensors need {cursor} bytes of data but the file holds {buffer}"),
                "the file is truncated; upload it again",
            )
        };
        push(Diagnostic::new(&rules::SIZE_MISMATCH, what).help(help));
        ok = false;
    }
    summary.total_bytes = cursor;
    if !ok {
        return None;
    }
    if summary.tensors == 0 {
        push(
            Diagnostic::new(&rules::NO_TENSORS, "the weights file holds no tensors")
                .help("save the trained state_dict"),
        );
    }
    let dominant = summary
        .dtypes
        .iter()
        .filter_map(|(d, b)| float_dtype_name(d).map(|n| (n, *b)))
        .max_by_key(|(_, b)| *b);
    if let Some((weights_dtype, _)) = dominant
        && weights_dtype != config_dtype
    {
        push(
            Diagnostic::new(
                &rules::DTYPE_DISAGREES,
                format!("the weights are mostly {weights_dtype} but the model will be evaluated in {config_dtype}"),
            )
            .help(format!("set `dtype: {weights_dtype}` at the top of model_config.yaml if that is what you trained in")),
        );
    }
    Some(summary)
}

fn float_dtype_name(dtype: &str) -> Option<&'static str> {
    match dtype {
        "F32" => Some("float32"),
        "F16" => Some("float16"),
        "BF16" => Some("bfloat16"),
        _ => None,
    }
}

//! Reads the runtime metadata the node serves (V14, V15 or V16) and checks
//! that what gasguard encodes by hand still matches the runtime: the
//! `Commitments.set_commitment` indices and argument types, the
//! transaction-extension list and each extension's types, and the storage
//! hashers of `SubtensorModule.Uids` and `Commitments.CommitmentOf`.
//! Anything different is refused with a clear message: a wrong byte here
//! would be a rejected (or worse, a different) transaction.

use frame_metadata::v14::StorageHasher;
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use parity_scale_codec::Decode;
use scale_info::form::PortableForm;
use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};

/// What gasguard needs from the runtime, checked.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub version: u32,
    pub commitments_pallet: u8,
    pub set_commitment_call: u8,
    /// Transaction-extension identifiers, in order.
    pub extensions: Vec<String>,
    pub uids: StorageMap,
    pub commitment_of: StorageMap,
}

/// A double map keyed by `(netuid: u16, account)`.
#[derive(Debug, Clone)]
pub struct StorageMap {
    pub pallet_prefix: String,
    pub name: String,
    pub hashers: [StorageHasher; 2],
}

impl StorageMap {
    pub fn key(&self, netuid: u16, account: &[u8; 32]) -> Vec<u8> {
        let mut key = super::scale::twox(self.pallet_prefix.as_bytes(), 2);
        key.extend(super::scale::twox(self.name.as_bytes(), 2));
        key.extend(hash(&self.hashers[0], &netuid.to_le_bytes()));
        key.extend(hash(&self.hashers[1], account));
        key
    }
}

fn hash(hasher: &StorageHasher, data: &[u8]) -> Vec<u8> {
    use super::scale::{blake2, twox};
    match hasher {
        StorageHasher::Identity => data.to_vec(),
        StorageHasher::Blake2_128 => blake2::<16>(data).to_vec(),
        StorageHasher::Blake2_256 => blake2::<32>(data).to_vec(),
        StorageHasher::Blake2_128Concat => [&blake2::<16>(data)[..], data].concat(),
        StorageHasher::Twox128 => twox(data, 2),
        StorageHasher::Twox256 => twox(data, 4),
        StorageHasher::Twox64Concat => [&twox(data, 1)[..], data].concat(),
    }
}

/// One version's metadata, reduced to what the checks read.
struct View<'a> {
    types: &'a PortableRegistry,
    pallets: Vec<PalletView<'a>>,
    /// (identifier, extra type, implicit type)
    extensions: Vec<(String, u32, u32)>,
    extrinsic_v4: bool,
}

struct PalletView<'a> {
    name: &'a str,
    index: u8,
    calls: Option<u32>,
    storage: Option<(&'a str, Vec<StorageView<'a>>)>,
}

struct StorageView<'a> {
    name: &'a str,
    hashers: &'a [StorageHasher],
    key: u32,
    value: u32,
}

macro_rules! pallets {
    ($m:expr) => {
        $m.pallets
            .iter()
            .map(|p| PalletView {
                name: p.name.as_str(),
                index: p.index,
                calls: p.calls.as_ref().map(|c| c.ty.id),
                storage: p.storage.as_ref().map(|s| {
                    (
                        s.prefix.as_str(),
                        s.entries
                            .iter()
                            .filter_map(|e| match &e.ty {
                                frame_metadata::v14::StorageEntryType::Map {
                                    hashers,
                                    key,
                                    value,
                                } => Some(StorageView {
                                    name: e.name.as_str(),
                                    hashers,
                                    key: key.id,
                                    value: value.id,
                                }),
                                _ => None,
                            })
                            .collect(),
                    )
                }),
            })
            .collect()
    };
}

/// Decodes metadata bytes: `state_getMetadata`'s (starting with `meta`),
/// or the runtime API `Metadata_metadata_at_version`'s
/// (`Option<OpaqueMetadata>`: `Some`, a length, then those bytes).
pub fn decode(bytes: &[u8]) -> Result<RuntimeMetadata, String> {
    if !bytes.starts_with(b"meta") {
        let inner = Option::<Vec<u8>>::decode(&mut &bytes[..])
            .ok()
            .flatten()
            .filter(|b| b.starts_with(b"meta"))
            .ok_or("the runtime metadata does not start with `meta`")?;
        return decode(&inner);
    }
    let prefixed = RuntimeMetadataPrefixed::decode(&mut &bytes[..])
        .map_err(|e| format!("cannot decode the runtime metadata: {e}"))?;
    Ok(prefixed.1)
}

fn view(meta: &RuntimeMetadata) -> Result<View<'_>, String> {
    Ok(match meta {
        RuntimeMetadata::V14(m) => View {
            types: &m.types,
            pallets: pallets!(m),
            extensions: m
                .extrinsic
                .signed_extensions
                .iter()
                .map(|e| (e.identifier.clone(), e.ty.id, e.additional_signed.id))
                .collect(),
            extrinsic_v4: m.extrinsic.version == 4,
        },
        RuntimeMetadata::V15(m) => View {
            types: &m.types,
            pallets: pallets!(m),
            extensions: m
                .extrinsic
                .signed_extensions
                .iter()
                .map(|e| (e.identifier.clone(), e.ty.id, e.additional_signed.id))
                .collect(),
            extrinsic_v4: m.extrinsic.version == 4,
        },
        RuntimeMetadata::V16(m) => {
            // Signed (v4) extrinsics use the extensions of version 0.
            let list = m
                .extrinsic
                .transaction_extensions_by_version
                .get(&0)
                .ok_or("the metadata has no transaction extensions for version 0")?;
            let mut extensions = Vec::new();
            for i in list {
                let e = m
                    .extrinsic
                    .transaction_extensions
                    .get(i.0 as usize)
                    .ok_or("the metadata's extension list points past its end")?;
                extensions.push((e.identifier.clone(), e.ty.id, e.implicit.id));
            }
            View {
                types: &m.types,
                pallets: pallets!(m),
                extensions,
                extrinsic_v4: m.extrinsic.versions.contains(&4),
            }
        }
        other => {
            return Err(format!(
                "the node serves metadata V{}; gasguard reads V14 to V16",
                other.version()
            ));
        }
    })
}

/// A type's shape, as a short string: newtypes and single-field structs
/// are transparent, so `CheckNonce(Compact<u32>)` reads `compact<u32>`.
fn shape(types: &PortableRegistry, id: u32, depth: u32) -> String {
    if depth > 8 {
        return "…".into();
    }
    let Some(ty) = types.resolve(id) else {
        return format!("#{id}?");
    };
    let inner = |id: u32| shape(types, id, depth + 1);
    match &ty.type_def {
        TypeDef::Composite(c) if c.fields.len() == 1 => inner(c.fields[0].ty.id),
        TypeDef::Composite(c) => {
            if c.fields.is_empty() {
                "()".into()
            } else {
                let parts: Vec<String> = c.fields.iter().map(|f| inner(f.ty.id)).collect();
                format!("{{{}}}", parts.join(","))
            }
        }
        TypeDef::Tuple(t) if t.fields.is_empty() => "()".into(),
        TypeDef::Tuple(t) => {
            let parts: Vec<String> = t.fields.iter().map(|f| inner(f.id)).collect();
            format!("({})", parts.join(","))
        }
        TypeDef::Array(a) => format!("[{};{}]", inner(a.type_param.id), a.len),
        TypeDef::Sequence(s) => format!("vec<{}>", inner(s.type_param.id)),
        TypeDef::Compact(c) => format!("compact<{}>", inner(c.type_param.id)),
        TypeDef::Primitive(p) => primitive(p).into(),
        TypeDef::Variant(v) => {
            let last = ty.path.segments.last().map(String::as_str).unwrap_or("");
            match last {
                "Era" => "era".into(),
                "Option" => {
                    let some = v.variants.iter().find(|x| x.name == "Some");
                    match some.and_then(|s| s.fields.first()) {
                        Some(f) => format!("option<{}>", inner(f.ty.id)),
                        None => "option<?>".into(),
                    }
                }
                _ => {
                    let parts: Vec<String> = v
                        .variants
                        .iter()
                        .filter(|x| x.fields.is_empty())
                        .map(|x| format!("{}={}", x.name, x.index))
                        .collect();
                    format!("enum{{{}}}", parts.join(","))
                }
            }
        }
        TypeDef::BitSequence(_) => "bits".into(),
    }
}

fn primitive(p: &TypeDefPrimitive) -> &'static str {
    match p {
        TypeDefPrimitive::Bool => "bool",
        TypeDefPrimitive::Char => "char",
        TypeDefPrimitive::Str => "str",
        TypeDefPrimitive::U8 => "u8",
        TypeDefPrimitive::U16 => "u16",
        TypeDefPrimitive::U32 => "u32",
        TypeDefPrimitive::U64 => "u64",
        TypeDefPrimitive::U128 => "u128",
        TypeDefPrimitive::U256 => "u256",
        TypeDefPrimitive::I8 => "i8",
        TypeDefPrimitive::I16 => "i16",
        TypeDefPrimitive::I32 => "i32",
        TypeDefPrimitive::I64 => "i64",
        TypeDefPrimitive::I128 => "i128",
        TypeDefPrimitive::I256 => "i256",
    }
}

/// The (extra, implicit) shapes gasguard encodes for each extension it
/// knows; any other identifier, or other shapes, are refused.
fn expected_extension(identifier: &str) -> Option<(&'static [&'static str], &'static str)> {
    const UNIT: &[&str] = &["()"];
    Some(match identifier {
        "CheckNonZeroSender"
        | "CheckWeight"
        | "SubtensorTransactionExtension"
        | "SudoTransactionExtension"
        | "DrandPriority" => (UNIT, "()"),
        "CheckSpecVersion" | "CheckTxVersion" => (UNIT, "u32"),
        "CheckGenesis" => (UNIT, "[u8;32]"),
        "CheckMortality" | "CheckEra" => (&["era"], "[u8;32]"),
        "CheckNonce" => (&["compact<u32>"], "()"),
        "ChargeTransactionPayment" => (&["compact<u64>", "compact<u128>"], "()"),
        "CheckMetadataHash" => (&["enum{Disabled=0,Enabled=1}"], "option<[u8;32]>"),
        _ => return None,
    })
}

const PROBLEM: &str = "gasguard's extrinsic encoding does not match this runtime, so nothing was submitted; \
                       update gasguard, or register this upload with gascli";

/// Checks everything gasguard encodes against the metadata.
pub fn check(meta: &RuntimeMetadata) -> Result<Runtime, String> {
    let v = view(meta)?;
    if !v.extrinsic_v4 {
        return Err(format!(
            "the runtime does not accept v4 extrinsics; {PROBLEM}"
        ));
    }
    let mut extensions = Vec::new();
    for (identifier, extra, implicit) in &v.extensions {
        let (want_extra, want_implicit) = expected_extension(identifier).ok_or_else(|| {
            format!("the runtime requires the transaction extension `{identifier}`, which gasguard does not know; {PROBLEM}")
        })?;
        let (got_extra, got_implicit) = (shape(v.types, *extra, 0), shape(v.types, *implicit, 0));
        if !want_extra.contains(&got_extra.as_str()) || got_implicit != want_implicit {
            return Err(format!(
                "the transaction extension `{identifier}` has types ({got_extra}, {got_implicit}), gasguard encodes ({}, {want_implicit}); {PROBLEM}",
                want_extra.join("|")
            ));
        }
        extensions.push(identifier.clone());
    }
    let pallet = find_pallet(&v, "Commitments")?;
    let calls = pallet
        .calls
        .and_then(|id| v.types.resolve(id))
        .ok_or("the Commitments pallet has no calls")?;
    let TypeDef::Variant(calls) = &calls.type_def else {
        return Err("the Commitments call type is not an enum".into());
    };
    let call = calls
        .variants
        .iter()
        .find(|c| c.name == "set_commitment")
        .ok_or_else(|| format!("Commitments has no set_commitment call; {PROBLEM}"))?;
    check_set_commitment_args(v.types, &call.fields)?;
    Ok(Runtime {
        version: meta.version(),
        commitments_pallet: pallet.index,
        set_commitment_call: call.index,
        extensions,
        uids: storage_map(&v, "SubtensorModule", "Uids", "u16")?,
        commitment_of: storage_map(&v, "Commitments", "CommitmentOf", "{u64,u32,vec<")?,
    })
}

fn find_pallet<'a, 'b>(v: &'b View<'a>, name: &str) -> Result<&'b PalletView<'a>, String> {
    v.pallets
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("the runtime has no {name} pallet; {PROBLEM}"))
}

fn check_set_commitment_args(
    types: &PortableRegistry,
    fields: &[scale_info::Field<PortableForm>],
) -> Result<(), String> {
    let names: Vec<&str> = fields.iter().filter_map(|f| f.name.as_deref()).collect();
    if names != ["netuid", "info"] || shape(types, fields[0].ty.id, 0) != "u16" {
        return Err(format!(
            "set_commitment takes ({}), gasguard encodes (netuid: u16, info); {PROBLEM}",
            names.join(", ")
        ));
    }
    // info: CommitmentInfo { fields: BoundedVec<Data> }, Data::RawN = N + 1.
    let info = shape(types, fields[1].ty.id, 0);
    if !info.starts_with("vec<enum{") {
        return Err(format!("set_commitment's info is {info}; {PROBLEM}"));
    }
    let data = data_type(types, fields[1].ty.id)
        .ok_or_else(|| format!("cannot find the commitment's Data type; {PROBLEM}"))?;
    for n in [0usize, 1, 64, super::scale::RAW_MAX] {
        let want = format!("Raw{n}");
        let ok = data
            .variants
            .iter()
            .any(|x| x.name == want && x.index as usize == n + 1);
        if !ok {
            return Err(format!("Data::{want} is not variant {}; {PROBLEM}", n + 1));
        }
    }
    Ok(())
}

/// The `Data` enum inside `info` (through the struct and the vector).
fn data_type(
    types: &PortableRegistry,
    mut id: u32,
) -> Option<&scale_info::TypeDefVariant<PortableForm>> {
    for _ in 0..8 {
        match &types.resolve(id)?.type_def {
            TypeDef::Composite(c) if c.fields.len() == 1 => id = c.fields[0].ty.id,
            TypeDef::Sequence(s) => id = s.type_param.id,
            TypeDef::Variant(v) => return Some(v),
            _ => return None,
        }
    }
    None
}

fn storage_map(
    v: &View<'_>,
    pallet: &str,
    name: &str,
    value_shape: &str,
) -> Result<StorageMap, String> {
    let p = find_pallet(v, pallet)?;
    let (prefix, entries) = p
        .storage
        .as_ref()
        .ok_or_else(|| format!("{pallet} has no storage; {PROBLEM}"))?;
    let e = entries
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| format!("{pallet} has no storage map {name}; {PROBLEM}"))?;
    let key = shape(v.types, e.key, 0);
    let value = shape(v.types, e.value, 0);
    let hashers: [StorageHasher; 2] = e
        .hashers
        .to_vec()
        .try_into()
        .map_err(|_| format!("{pallet}.{name} is not a double map; {PROBLEM}"))?;
    if key != "(u16,[u8;32])" || !value.starts_with(value_shape) {
        return Err(format!(
            "{pallet}.{name} maps {key} to {value}; gasguard reads (u16,[u8;32]) to {value_shape}…; {PROBLEM}"
        ));
    }
    Ok(StorageMap {
        pallet_prefix: prefix.to_string(),
        name: name.to_string(),
        hashers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real finney metadata (V14), from the shared test data.
    fn finney() -> RuntimeMetadata {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/chain/bittensor-tests-metadata-v14.hex"
        );
        let text = std::fs::read_to_string(p).expect("../shared/chain is laid beside the repo");
        decode(&hex::decode(text.trim().trim_start_matches("0x")).unwrap()).unwrap()
    }

    fn v14(meta: &mut RuntimeMetadata) -> &mut frame_metadata::v14::RuntimeMetadataV14 {
        match meta {
            RuntimeMetadata::V14(m) => m,
            _ => panic!("V14 expected"),
        }
    }

    #[test]
    fn finney_keys_match_the_known_storage_layout() {
        let rt = check(&finney()).unwrap();
        let key = rt.commitment_of.key(34, &[1u8; 32]);
        // twox128("Commitments") ++ twox128("CommitmentOf") ++ 34u16 ++ twox64(acct) ++ acct
        assert_eq!(key.len(), 16 + 16 + 2 + 8 + 32);
        assert_eq!(&key[32..34], &[34, 0]);
        assert_eq!(&key[42..], &[1u8; 32]);
        assert_eq!(rt.uids.key(34, &[1u8; 32]).len(), 16 + 16 + 2 + 16 + 32);
    }

    #[test]
    fn an_unknown_extension_is_refused() {
        let mut meta = finney();
        let m = v14(&mut meta);
        let mut extra = m.extrinsic.signed_extensions[0].clone();
        extra.identifier = "CheckSomethingNew".into();
        m.extrinsic.signed_extensions.push(extra);
        let e = check(&meta).unwrap_err();
        assert!(e.contains("CheckSomethingNew"), "{e}");
    }

    #[test]
    fn an_extension_with_other_types_is_refused() {
        let mut meta = finney();
        let m = v14(&mut meta);
        let spec = m
            .extrinsic
            .signed_extensions
            .iter()
            .find(|e| e.identifier == "CheckSpecVersion")
            .unwrap()
            .additional_signed;
        let nonce = m
            .extrinsic
            .signed_extensions
            .iter_mut()
            .find(|e| e.identifier == "CheckNonce")
            .unwrap();
        // The nonce as an implicit u32 instead of an explicit compact.
        nonce.additional_signed = spec;
        let e = check(&meta).unwrap_err();
        assert!(e.contains("CheckNonce"), "{e}");
    }

    #[test]
    fn a_moved_pallet_is_followed_and_a_missing_call_refused() {
        let mut meta = finney();
        let p = v14(&mut meta)
            .pallets
            .iter_mut()
            .find(|p| p.name == "Commitments")
            .unwrap();
        p.index = 40;
        assert_eq!(check(&meta).unwrap().commitments_pallet, 40);
        v14(&mut meta)
            .pallets
            .iter_mut()
            .find(|p| p.name == "Commitments")
            .unwrap()
            .calls = None;
        assert!(check(&meta).is_err());
    }
}

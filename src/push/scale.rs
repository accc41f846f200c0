//! The SCALE bytes gasguard builds by hand: the `Commitments.set_commitment`
//! call, the mortal era, the signed payload and the v4 signed extrinsic,
//! and the storage keys it reads. What the bytes must look like is checked
//! against the live metadata first ([`super::metadata`]).

use blake2::digest::{Update, VariableOutput};
use parity_scale_codec::{Compact, Encode};

/// The most bytes one `Data::RawN` field holds.
pub const RAW_MAX: usize = 128;
/// The era period gascli and bittensor use.
pub const ERA_PERIOD: u64 = 128;

/// `blake2b` with an `N`-byte output.
pub fn blake2<const N: usize>(data: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut h = blake2::Blake2bVar::new(N).expect("16 and 32 are valid blake2b sizes");
    h.update(data);
    h.finalize_variable(&mut out)
        .expect("the buffer has the requested size");
    out
}

/// Substrate's `twox_64`/`twox_128`: xxHash64 with seeds 0, 1, ...
pub fn twox(data: &[u8], words: usize) -> Vec<u8> {
    (0..words as u64)
        .flat_map(|seed| xxhash_rust::xxh64::xxh64(data, seed).to_le_bytes())
        .collect()
}

/// A mortal era, `period` a power of two in 4..=65536.
pub fn mortal_era(period: u64, current: u64) -> [u8; 2] {
    let period = period.next_power_of_two().clamp(4, 1 << 16);
    let phase = current % period;
    let quantize = (period >> 12).max(1);
    let quantized_phase = phase / quantize * quantize;
    let low = (period.trailing_zeros() - 1).clamp(1, 15) as u64;
    let encoded = low | ((quantized_phase / quantize) << 4);
    (encoded as u16).to_le_bytes()
}

/// The call `Commitments.set_commitment(netuid, {fields: [Raw(bytes)]})`.
pub fn set_commitment_call(pallet: u8, call: u8, netuid: u16, raw: &[u8]) -> Vec<u8> {
    assert!(raw.len() <= RAW_MAX, "checked by the caller");
    let mut out = vec![pallet, call];
    netuid.encode_to(&mut out);
    Compact(1u32).encode_to(&mut out);
    out.push(raw.len() as u8 + 1); // Data::RawN has index N + 1
    out.extend_from_slice(raw);
    out
}

/// The unsigned v4 extrinsic of `call` (what `--dry-run` shows).
pub fn unsigned_extrinsic(call: &[u8]) -> Vec<u8> {
    let mut body = vec![0x04];
    body.extend_from_slice(call);
    let mut out = Compact(body.len() as u32).encode();
    out.extend(body);
    out
}

/// The chain-specific values that go into the signed payload.
pub struct SigningContext {
    pub genesis: [u8; 32],
    pub spec_version: u32,
    pub tx_version: u32,
    /// The era's birth block and its number.
    pub birth_hash: [u8; 32],
    pub birth_number: u64,
    pub nonce: u32,
}

/// One transaction extension's bytes: `extra` goes into the extrinsic,
/// `implicit` only into the signed payload.
pub struct ExtensionBytes {
    pub extra: Vec<u8>,
    pub implicit: Vec<u8>,
}

/// The bytes of each supported extension, by identifier; `None` for an
/// identifier gasguard does not know (the caller refuses it).
pub fn extension_bytes(identifier: &str, ctx: &SigningContext) -> Option<ExtensionBytes> {
    let (extra, implicit) = match identifier {
        "CheckNonZeroSender"
        | "CheckWeight"
        | "SubtensorTransactionExtension"
        | "SudoTransactionExtension"
        | "DrandPriority" => (vec![], vec![]),
        "CheckSpecVersion" => (vec![], ctx.spec_version.encode()),
        "CheckTxVersion" => (vec![], ctx.tx_version.encode()),
        "CheckGenesis" => (vec![], ctx.genesis.to_vec()),
        "CheckMortality" | "CheckEra" => (
            mortal_era(ERA_PERIOD, ctx.birth_number).to_vec(),
            ctx.birth_hash.to_vec(),
        ),
        "CheckNonce" => (Compact(ctx.nonce).encode(), vec![]),
        // Tip 0, the same bytes for a compact u64 or u128.
        "ChargeTransactionPayment" => (Compact(0u64).encode(), vec![]),
        // Mode 0 (disabled) and no metadata hash.
        "CheckMetadataHash" => (vec![0], vec![0]),
        _ => return None,
    };
    Some(ExtensionBytes { extra, implicit })
}

/// The payload the hotkey signs: call ++ extras ++ implicits, hashed with
/// blake2-256 when longer than 256 bytes.
pub fn signing_payload(call: &[u8], extensions: &[ExtensionBytes]) -> Vec<u8> {
    let mut payload = call.to_vec();
    for e in extensions {
        payload.extend_from_slice(&e.extra);
    }
    for e in extensions {
        payload.extend_from_slice(&e.implicit);
    }
    if payload.len() > 256 {
        blake2::<32>(&payload).to_vec()
    } else {
        payload
    }
}

/// A v4 signed extrinsic: `MultiAddress::Id`, `MultiSignature::Sr25519`.
pub fn signed_extrinsic(
    signer: &[u8; 32],
    signature: &[u8; 64],
    extensions: &[ExtensionBytes],
    call: &[u8],
) -> Vec<u8> {
    let mut body = vec![0x84, 0x00];
    body.extend_from_slice(signer);
    body.push(0x01);
    body.extend_from_slice(signature);
    for e in extensions {
        body.extend_from_slice(&e.extra);
    }
    body.extend_from_slice(call);
    let mut out = Compact(body.len() as u32).encode();
    out.extend(body);
    out
}

/// The commitment gascli writes: `{"key":"<r2_key>","hash":"<h>"}` with
/// `h = sha256_hex(file_hash_hex + hotkey_ss58)[:16]`.
pub fn commitment_json(r2_key: &str, file_hash: &str, hotkey_ss58: &str) -> String {
    use sha2::Digest;
    let h = hex::encode(sha2::Sha256::digest(format!("{file_hash}{hotkey_ss58}")));
    // By hand: the key order is part of the bytes (serde_json sorts maps).
    let key = serde_json::Value::String(r2_key.to_string());
    format!("{{\"key\":{key},\"hash\":\"{}\"}}", &h[..16])
}

/// The first field of a `Registration { deposit: u64, block: u32, info }`
/// as stored under `CommitmentOf`, if it is raw bytes.
#[derive(Debug, PartialEq)]
pub struct Registration {
    pub deposit: u64,
    pub block: u32,
    /// Each field: `Some(bytes)` for `Raw`, `None` for other kinds.
    pub fields: Vec<Option<Vec<u8>>>,
}

pub fn decode_registration(bytes: &[u8]) -> Result<Registration, String> {
    use parity_scale_codec::Decode;
    let input = &mut &bytes[..];
    let bad = |what: &str| format!("cannot decode the stored commitment ({what})");
    let deposit = u64::decode(input).map_err(|_| bad("deposit"))?;
    let block = u32::decode(input).map_err(|_| bad("block"))?;
    let count = Compact::<u32>::decode(input)
        .map_err(|_| bad("field count"))?
        .0;
    let mut fields = Vec::new();
    for _ in 0..count.min(16) {
        let tag = u8::decode(input).map_err(|_| bad("field kind"))?;
        match tag {
            0 => fields.push(None),
            1..=129 => {
                let n = (tag - 1) as usize;
                if input.len() < n {
                    return Err(bad("raw field"));
                }
                fields.push(Some(input[..n].to_vec()));
                *input = &input[n..];
            }
            130..=133 => {
                if input.len() < 32 {
                    return Err(bad("hash field"));
                }
                fields.push(None);
                *input = &input[32..];
            }
            // Later kinds (timelocked, ...) have layouts gasguard does not
            // read: stop; what came before is still reported.
            _ => break,
        }
    }
    Ok(Registration {
        deposit,
        block,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn era_matches_substrate_examples() {
        // Checked with PyPI scalecodec: Era (64, 42) encodes as a5 02.
        assert_eq!(mortal_era(64, 42), [0xa5, 0x02]);
        // Period 128 at block 1000: phase 1000 % 128 = 104.
        assert_eq!(u16::from_le_bytes(mortal_era(128, 1000)), 6 | (104 << 4));
    }

    #[test]
    fn twox_128_of_system() {
        // The well-known prefix of the `System` pallet's storage.
        assert_eq!(
            hex::encode(twox(b"System", 2)),
            "26aa394eea5630e07c48ae0c9558cef7"
        );
    }

    #[test]
    fn call_layout() {
        let call = set_commitment_call(18, 0, 34, b"ab");
        assert_eq!(call, vec![18, 0, 34, 0, 4, 3, b'a', b'b']);
    }

    #[test]
    fn commitment_is_key_then_hash() {
        let c = commitment_json("models/a.zip", "00", "5Abc");
        assert!(c.starts_with(r#"{"key":"models/a.zip","hash":""#), "{c}");
        assert_eq!(c.len(), 36 + "models/a.zip".len());
    }

    #[test]
    fn registration_round_trip() {
        let mut bytes = 5u64.to_le_bytes().to_vec();
        bytes.extend(7u32.to_le_bytes());
        bytes.extend([4, 3, b'a', b'b']);
        let r = decode_registration(&bytes).unwrap();
        assert_eq!(r.fields, vec![Some(b"ab".to_vec())]);
        assert_eq!((r.deposit, r.block), (5, 7));
    }
}

//! SS58 addresses (Substrate's base58 account format) for 32-byte account
//! ids with a one-byte prefix.

use blake2::{Blake2b512, Digest};

/// The generic Substrate prefix, which Bittensor uses.
pub const GENERIC_PREFIX: u8 = 42;

fn checksum(body: &[u8]) -> [u8; 2] {
    let mut h = Blake2b512::new();
    h.update(b"SS58PRE");
    h.update(body);
    let out = h.finalize();
    [out[0], out[1]]
}

pub fn encode(public: &[u8; 32], prefix: u8) -> String {
    debug_assert!(prefix < 64, "one-byte SS58 prefixes only");
    let mut body = Vec::with_capacity(35);
    body.push(prefix);
    body.extend_from_slice(public);
    let sum = checksum(&body);
    body.extend_from_slice(&sum);
    bs58::encode(body).into_string()
}

/// The account id and prefix of an address with a one-byte prefix.
pub fn decode(address: &str) -> Result<([u8; 32], u8), String> {
    let bytes = bs58::decode(address)
        .into_vec()
        .map_err(|_| format!("`{address}` is not base58"))?;
    if bytes.len() != 35 || bytes[0] >= 64 {
        return Err(format!("`{address}` is not an SS58 account address"));
    }
    if checksum(&bytes[..33]) != [bytes[33], bytes[34]] {
        return Err(format!("`{address}` has a bad SS58 checksum"));
    }
    let mut public = [0u8; 32];
    public.copy_from_slice(&bytes[1..33]);
    Ok((public, bytes[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alice_round_trips() {
        // //Alice's well-known public key and generic address.
        let alice = hex::decode("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
            .unwrap();
        let alice: [u8; 32] = alice.try_into().unwrap();
        let address = encode(&alice, GENERIC_PREFIX);
        assert_eq!(address, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
        assert_eq!(decode(&address).unwrap(), (alice, 42));
        let mut bad = address.into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert!(decode(std::str::from_utf8(&bad).unwrap()).is_err());
    }
}

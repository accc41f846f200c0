//! Epistula v2 request signing, as the upload server verifies it: the
//! hotkey signs `"<sha256_hex(body)>.<uuid>.<timestamp_ms>.<signed_for>"`;
//! upload calls have no `signed_for`, so the message ends with a `.`.

use sha2::{Digest, Sha256};

use super::keys::Hotkey;

/// The five headers, in the order gascli sends them. A fresh UUID and
/// timestamp for every request: the server rejects replays and clocks more
/// than about 15 s apart.
pub struct Headers {
    pub timestamp_ms: u128,
    pub uuid: String,
    pub signed_by: String,
    pub signature: String,
}

impl Headers {
    pub fn pairs(&self) -> [(&'static str, String); 5] {
        [
            ("Epistula-Version", "2".to_string()),
            ("Epistula-Timestamp", self.timestamp_ms.to_string()),
            ("Epistula-Uuid", self.uuid.clone()),
            ("Epistula-Signed-By", self.signed_by.clone()),
            ("Epistula-Request-Signature", self.signature.clone()),
        ]
    }
}

/// The message that is signed.
pub fn message(body: &[u8], uuid: &str, timestamp_ms: u128, signed_for: &str) -> String {
    format!(
        "{}.{uuid}.{timestamp_ms}.{signed_for}",
        hex::encode(Sha256::digest(body))
    )
}

/// Signs `body` for an upload call (no `signed_for`).
pub fn sign(key: &Hotkey, body: &[u8]) -> Headers {
    let timestamp_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let uuid = uuid::Uuid::new_v4().to_string();
    let signature = key.sign(message(body, &uuid, timestamp_ms, "").as_bytes());
    Headers {
        timestamp_ms,
        uuid,
        signed_by: key.ss58().to_string(),
        signature: format!("0x{}", hex::encode(signature)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_sign_the_documented_message() {
        let key = Hotkey::from_seed(&[1u8; 32]).unwrap();
        let h = sign(&key, b"{}");
        let msg = message(b"{}", &h.uuid, h.timestamp_ms, "");
        assert!(msg.ends_with('.'));
        let sig: [u8; 64] = hex::decode(&h.signature[2..]).unwrap().try_into().unwrap();
        assert!(super::super::keys::verify(
            &key.public(),
            msg.as_bytes(),
            &sig
        ));
        assert_ne!(sign(&key, b"{}").uuid, h.uuid);
    }
}

//! The hotkey: read from a Bittensor wallet's hotkey file, kept in memory
//! only, and used for sr25519 signatures with the `substrate` context.
//!
//! The secret never leaves this module in any printable form: [`Hotkey`]'s
//! `Debug` shows the public address only, and no error message quotes the
//! file's contents.

use std::path::{Path, PathBuf};

use anyhow::Context;
use schnorrkel::{ExpansionMode, Keypair, MiniSecretKey, SecretKey};
use zeroize::Zeroizing;

use super::ss58;

/// Where gascli and btcli look for wallets, and the variables they honour.
pub const DEFAULT_WALLET_PATH: &str = "~/.bittensor/wallets";

/// The signing context every Substrate chain (and Epistula) uses.
const SIGNING_CONTEXT: &[u8] = b"substrate";

pub struct Hotkey {
    pair: Keypair,
    ss58: String,
}

impl std::fmt::Debug for Hotkey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hotkey({})", self.ss58)
    }
}

impl Hotkey {
    /// The account id (the sr25519 public key).
    pub fn public(&self) -> [u8; 32] {
        self.pair.public.to_bytes()
    }

    /// The SS58 address with the generic Substrate prefix 42.
    pub fn ss58(&self) -> &str {
        &self.ss58
    }

    /// An sr25519 signature of `message` (64 bytes).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let ctx = schnorrkel::signing_context(SIGNING_CONTEXT);
        self.pair.sign(ctx.bytes(message)).to_bytes()
    }

    /// A key from a 32-byte mini-secret, expanded as Substrate does.
    pub fn from_seed(seed: &[u8]) -> anyhow::Result<Hotkey> {
        let mini = MiniSecretKey::from_bytes(seed)
            .map_err(|_| anyhow::anyhow!("the secret seed is not 32 bytes"))?;
        Ok(Hotkey::from_pair(
            mini.expand_to_keypair(ExpansionMode::Ed25519),
        ))
    }

    fn from_pair(pair: Keypair) -> Hotkey {
        let ss58 = ss58::encode(&pair.public.to_bytes(), ss58::GENERIC_PREFIX);
        Hotkey { pair, ss58 }
    }
}

/// Verifies a signature made by [`Hotkey::sign`] (for tests and `--dry-run`).
pub fn verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let (Ok(public), Ok(sig)) = (
        schnorrkel::PublicKey::from_bytes(public),
        schnorrkel::Signature::from_bytes(signature),
    ) else {
        return false;
    };
    public
        .verify(
            schnorrkel::signing_context(SIGNING_CONTEXT).bytes(message),
            &sig,
        )
        .is_ok()
}

/// `<wallet_path>/<wallet>/hotkeys/<hotkey>`, with `~` expanded.
pub fn hotkey_file(wallet_path: &str, wallet: &str, hotkey: &str) -> anyhow::Result<PathBuf> {
    let base = match wallet_path.strip_prefix("~/") {
        Some(rest) => {
            let home = std::env::var_os("HOME")
                .context("HOME is not set; give --wallet-path as an absolute path")?;
            PathBuf::from(home).join(rest)
        }
        None => PathBuf::from(wallet_path),
    };
    for (what, name) in [("wallet", wallet), ("hotkey", hotkey)] {
        if name.is_empty() || name.contains('/') || name == ".." || name == "." {
            anyhow::bail!("`{name}` is not a {what} name");
        }
    }
    Ok(base.join(wallet).join("hotkeys").join(hotkey))
}

/// The hotkey file's fields that gasguard reads. Unknown fields are ignored.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct HotkeyFile {
    secret_seed: Option<String>,
    private_key: Option<String>,
    secret_phrase: Option<String>,
    public_key: Option<String>,
    ss58_address: Option<String>,
}

/// Reads a hotkey file. The key comes from `secretSeed` (the mini-secret),
/// else `privateKey` (the 64-byte expanded secret), else `secretPhrase`
/// (the mnemonic); it must match the file's `publicKey` / `ss58Address`
/// when those are present.
pub fn load(path: &Path) -> anyhow::Result<Hotkey> {
    let raw = Zeroizing::new(std::fs::read(path).with_context(|| {
        format!(
            "cannot read the hotkey file {} (check --wallet-path, --wallet-name and --wallet-hotkey)",
            path.display()
        )
    })?);
    if raw.starts_with(b"$NACL") {
        anyhow::bail!(
            "the hotkey file {} is encrypted ($NACL); gasguard does not decrypt keys. \
             Hotkeys are normally stored unencrypted: regenerate this one without a password \
             (`btcli wallet regen-hotkey --no-use-password`), or sign with gascli",
            path.display()
        );
    }
    // Only the error's category is shown: a message could quote the input.
    let file: HotkeyFile = serde_json::from_slice(&raw).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a Bittensor hotkey file (JSON: {}); is it an older or encrypted format?",
            path.display(),
            json_error_kind(&e)
        )
    })?;
    let key = key_from_file(&file).with_context(|| format!("in {}", path.display()))?;
    check_public_fields(&key, &file).with_context(|| format!("in {}", path.display()))?;
    Ok(key)
}

fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected field type",
        serde_json::error::Category::Eof => "truncated",
    }
}

fn key_from_file(file: &HotkeyFile) -> anyhow::Result<Hotkey> {
    if let Some(seed) = &file.secret_seed {
        let bytes = Zeroizing::new(decode_hex_secret(seed, 32, "secretSeed")?);
        return Hotkey::from_seed(&bytes);
    }
    if let Some(private) = &file.private_key {
        let bytes = Zeroizing::new(decode_hex_secret(private, 64, "privateKey")?);
        return from_private_key(&bytes, file.public_key.as_deref());
    }
    if let Some(phrase) = &file.secret_phrase {
        let seed = mini_secret_from_phrase(phrase)?;
        return Hotkey::from_seed(&seed[..]);
    }
    anyhow::bail!(
        "the hotkey file has no secretSeed, privateKey or secretPhrase; it may be a public-only (watch) key"
    )
}

/// The 64-byte secret is written in schnorrkel's own layout by the Rust
/// wallet and in the "ed25519" layout by older Python tools; the public key
/// in the file decides which (fail closed when neither matches).
fn from_private_key(bytes: &[u8], public_hex: Option<&str>) -> anyhow::Result<Hotkey> {
    let candidates = [
        SecretKey::from_bytes(bytes).ok(),
        SecretKey::from_ed25519_bytes(bytes).ok(),
    ];
    let want = public_hex.map(|h| decode_hex_public(h)).transpose()?;
    for secret in candidates.into_iter().flatten() {
        let pair = secret.to_keypair();
        match want {
            Some(want) if pair.public.to_bytes() != want => continue,
            _ => return Ok(Hotkey::from_pair(pair)),
        }
    }
    anyhow::bail!("privateKey does not give the file's publicKey; the file is damaged")
}

/// Substrate's derivation (substrate-bip39): the BIP-39 entropy, not the
/// phrase, is the PBKDF2 password; salt "mnemonic"; 2048 rounds of
/// HMAC-SHA512; the first 32 bytes are the mini-secret.
fn mini_secret_from_phrase(phrase: &str) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    let mnemonic = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, phrase.trim())
        .map_err(|_| anyhow::anyhow!("secretPhrase is not a valid English BIP-39 mnemonic"))?;
    let entropy = Zeroizing::new(mnemonic.to_entropy());
    let mut out = Zeroizing::new([0u8; 64]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(&entropy, b"mnemonic", 2048, &mut out[..]);
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(&out[..32]);
    Ok(seed)
}

fn check_public_fields(key: &Hotkey, file: &HotkeyFile) -> anyhow::Result<()> {
    if let Some(public) = &file.public_key
        && decode_hex_public(public)? != key.public()
    {
        anyhow::bail!("the secret does not match publicKey; the file is damaged or edited");
    }
    if let Some(address) = &file.ss58_address
        && ss58::decode(address).ok().map(|(pk, _)| pk) != Some(key.public())
    {
        anyhow::bail!("the secret does not match ss58Address; the file is damaged or edited");
    }
    Ok(())
}

/// Decodes a secret field; its content never appears in the error.
fn decode_hex_secret(text: &str, len: usize, field: &str) -> anyhow::Result<Vec<u8>> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    match hex::decode(digits) {
        Ok(bytes) if bytes.len() == len => Ok(bytes),
        _ => anyhow::bail!("{field} is not {len} bytes of hex"),
    }
}

fn decode_hex_public(text: &str) -> anyhow::Result<[u8; 32]> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(digits)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .context("publicKey is not 32 bytes of hex")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let key = Hotkey::from_seed(&[7u8; 32]).unwrap();
        let sig = key.sign(b"hello");
        assert!(verify(&key.public(), b"hello", &sig));
        assert!(!verify(&key.public(), b"hellp", &sig));
    }

    #[test]
    fn debug_shows_no_secret() {
        let key = Hotkey::from_seed(&[7u8; 32]).unwrap();
        assert_eq!(format!("{key:?}"), format!("Hotkey({})", key.ss58()));
    }

    #[test]
    fn dev_phrase_gives_alice_seed() {
        // Substrate's well-known development phrase and //Alice's parent
        // mini-secret (documented in `subkey inspect`).
        let seed = mini_secret_from_phrase(
            "bottom drive obey lake curtain smoke basket hold race lonely fit walk",
        )
        .unwrap();
        assert_eq!(
            hex::encode(&seed[..]),
            "fac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e"
        );
    }
}

//! The chain side of a push: connect, read and check the runtime, look up
//! the hotkey's registration, sign and submit `set_commitment`, watch it
//! to finality, and read the commitment back.

use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};

use super::keys::Hotkey;
use super::metadata::{self, Runtime};
use super::rpc::{self, Rpc};
use super::scale::{self, Registration, SigningContext};

/// `--network` names, as gascli and btcli know them.
pub fn endpoint(network: &str) -> String {
    match network {
        "finney" => "wss://entrypoint-finney.opentensor.ai:443".into(),
        "test" => "wss://test.finney.opentensor.ai:443".into(),
        "local" => "ws://127.0.0.1:9944".into(),
        url => url.into(),
    }
}

pub struct Chain {
    rpc: Rpc,
    pub genesis: [u8; 32],
    pub spec_version: u32,
    pub tx_version: u32,
    pub runtime: Runtime,
}

/// Where the extrinsic ended up.
pub struct Included {
    pub extrinsic_hash: String,
    pub block_hash: String,
}

impl Chain {
    /// Connects and checks the runtime's metadata against gasguard's encoding.
    pub fn connect(url: &str) -> anyhow::Result<Chain> {
        let mut rpc = Rpc::connect(url)?;
        let genesis = rpc::hash32(
            &rpc.request("chain_getBlockHash", json!([0]))?,
            "genesis hash",
        )?;
        let version = rpc.request("state_getRuntimeVersion", json!([]))?;
        let number = |k: &str| -> anyhow::Result<u32> {
            version
                .get(k)
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .with_context(|| format!("the chain node's runtime version has no {k}"))
        };
        let (spec_version, tx_version) = (number("specVersion")?, number("transactionVersion")?);
        let bytes = rpc::from_hex(&rpc.request("state_getMetadata", json!([]))?, "metadata")?;
        let runtime = metadata::decode(&bytes)
            .and_then(|m| metadata::check(&m))
            .map_err(|e| anyhow::anyhow!("{e} (runtime spec_version {spec_version})"))?;
        Ok(Chain {
            rpc,
            genesis,
            spec_version,
            tx_version,
            runtime,
        })
    }

    pub fn genesis_hex(&self) -> String {
        hex::encode(self.genesis)
    }

    fn storage(&mut self, key: &[u8], at: Option<&str>) -> anyhow::Result<Option<Vec<u8>>> {
        let key = format!("0x{}", hex::encode(key));
        let params = match at {
            Some(at) => json!([key, at]),
            None => json!([key]),
        };
        let value = self.rpc.request("state_getStorage", params)?;
        if value.is_null() {
            return Ok(None);
        }
        Ok(Some(rpc::from_hex(&value, "storage value")?))
    }

    /// The hotkey's uid on `netuid`, if registered.
    pub fn uid(&mut self, netuid: u16, account: &[u8; 32]) -> anyhow::Result<Option<u16>> {
        let key = self.runtime.uids.key(netuid, account);
        match self.storage(&key, None)? {
            None => Ok(None),
            Some(v) if v.len() == 2 => Ok(Some(u16::from_le_bytes([v[0], v[1]]))),
            Some(_) => anyhow::bail!("the chain's Uids value is not a u16"),
        }
    }

    pub fn commitment(
        &mut self,
        netuid: u16,
        account: &[u8; 32],
        at: Option<&str>,
    ) -> anyhow::Result<Option<Registration>> {
        let key = self.runtime.commitment_of.key(netuid, account);
        match self.storage(&key, at)? {
            None => Ok(None),
            Some(v) => scale::decode_registration(&v)
                .map(Some)
                .map_err(anyhow::Error::msg),
        }
    }

    /// The call bytes for this runtime.
    pub fn call(&self, netuid: u16, raw: &[u8]) -> Vec<u8> {
        scale::set_commitment_call(
            self.runtime.commitments_pallet,
            self.runtime.set_commitment_call,
            netuid,
            raw,
        )
    }

    /// Builds, signs and submits the extrinsic, then watches it until it is
    /// finalized (or fails, or `timeout` passes).
    pub fn submit(
        &mut self,
        key: &Hotkey,
        call: &[u8],
        timeout: Duration,
        on_sent: &mut dyn FnMut(&str) -> anyhow::Result<()>,
    ) -> anyhow::Result<Included> {
        let head = self.rpc.request("chain_getFinalizedHead", json!([]))?;
        let header = self.rpc.request("chain_getHeader", json!([head.clone()]))?;
        let number = header
            .get("number")
            .and_then(Value::as_str)
            .and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
            .context("the chain node's header has no block number")?;
        let nonce = self
            .rpc
            .request("system_accountNextIndex", json!([key.ss58()]))?
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .context("the chain node's account nonce is not a number")?;
        let ctx = SigningContext {
            genesis: self.genesis,
            spec_version: self.spec_version,
            tx_version: self.tx_version,
            birth_hash: rpc::hash32(&head, "finalized head")?,
            birth_number: number,
            nonce,
        };
        let mut extensions = Vec::new();
        for id in &self.runtime.extensions {
            extensions.push(
                scale::extension_bytes(id, &ctx)
                    .with_context(|| format!("no encoding for the transaction extension {id}"))?,
            );
        }
        let payload = scale::signing_payload(call, &extensions);
        let signature = key.sign(&payload);
        let extrinsic = scale::signed_extrinsic(&key.public(), &signature, &extensions, call);
        let extrinsic_hash = format!("0x{}", hex::encode(scale::blake2::<32>(&extrinsic)));
        let subscription = self
            .rpc
            .call(
                "author_submitAndWatchExtrinsic",
                json!([format!("0x{}", hex::encode(&extrinsic))]),
            )?
            .map_err(|e| {
                anyhow::anyhow!(
                    "the chain refused the commitment transaction: {} (code {}){}",
                    e.message,
                    e.code,
                    hint(&e.message)
                )
            })?;
        on_sent(&extrinsic_hash)?;
        let mut in_block = None;
        loop {
            let status = self.rpc.next_notification(&subscription, timeout)?;
            match &status {
                Value::String(s) if s == "ready" || s == "future" => {}
                Value::String(s) => anyhow::bail!(
                    "the chain dropped the commitment transaction ({s}); run the push again with --resume"
                ),
                Value::Object(o) => {
                    if let Some(h) = o.get("inBlock") {
                        in_block = h.as_str().map(str::to_string);
                        eprintln!(
                            "gasguard: commitment in block {}",
                            in_block.as_deref().unwrap_or("?")
                        );
                    } else if let Some(h) = o.get("finalized") {
                        let block_hash = h
                            .as_str()
                            .map(str::to_string)
                            .or(in_block)
                            .context("the finalized notification has no block hash")?;
                        return Ok(Included {
                            extrinsic_hash,
                            block_hash,
                        });
                    } else if o.contains_key("usurped")
                        || o.contains_key("finalityTimeout")
                        || o.contains_key("dropped")
                        || o.contains_key("invalid")
                    {
                        anyhow::bail!(
                            "the commitment transaction did not finalize ({status}); run the push again with --resume"
                        );
                    }
                }
                _ => {}
            }
        }
    }

    /// The number of a block, by hash.
    pub fn block_number(&mut self, hash: &str) -> anyhow::Result<u64> {
        let header = self.rpc.request("chain_getHeader", json!([hash]))?;
        header
            .get("number")
            .and_then(Value::as_str)
            .and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
            .context("the chain node's header has no block number")
    }
}

/// What a known refusal means for the miner.
fn hint(message: &str) -> &'static str {
    if message.contains("AccountNotAllowedCommit") {
        "; the hotkey is not registered on this subnet"
    } else if message.contains("Stale") || message.contains("Future") {
        "; the nonce moved (another transaction from this hotkey?): run the push again with --resume"
    } else if message.contains("BadProof") {
        "; the signature does not match this chain (wrong network or runtime): check --network"
    } else {
        ""
    }
}

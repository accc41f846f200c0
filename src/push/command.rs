//! `gasguard push`: gate every source, then upload and register each one,
//! journaling every completed step.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::args::PushArgs;
use super::chain::Chain;
use super::journal::{self, Journal, Step};
use super::keys::{self, Hotkey};
use super::scale;
use super::upload::{self, Client, PresignRequest, UploadError};
use crate::check::{CheckOptions, SubmissionReport};
use crate::config::Modality;
use crate::pack::{self, PackOutcome};
use crate::policy::Policy;

/// How a push ended; the CLI maps it to the exit code (docs/push.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Everything asked for was done (or shown, with `--dry-run`/`--status`).
    Done,
    /// The gate rejected a submission: nothing was sent.
    Rejected,
    /// A submission was not uploaded (refused or unreachable).
    UploadFailed,
    /// Uploaded and confirmed, but not registered on chain.
    ChainFailed,
}

/// A source that passed the gate, packed.
pub struct Gated {
    pub modality: Modality,
    pub packed: PathBuf,
    pub file_name: String,
    pub size: u64,
    pub file_hash: String,
}

/// How a push ended, for the exit code.
#[derive(Debug)]
pub enum Failure {
    /// Nothing was uploaded for this source (or the server refused it).
    Upload(anyhow::Error),
    /// The file is uploaded and confirmed; the chain step failed.
    Chain(anyhow::Error),
}

pub fn run(
    args: &PushArgs,
    policy: &Policy,
    options: &CheckOptions,
    print_report: &mut dyn FnMut(&SubmissionReport),
) -> anyhow::Result<Outcome> {
    let key = load_key(args)?;
    if args.status {
        return super::status::run(args, &key);
    }
    let sources = args.sources();
    if sources.is_empty() {
        anyhow::bail!(
            "nothing to push: give a submission (SRC, --image-model, --video-model or --audio-model)"
        );
    }
    if options.modality.is_some() {
        anyhow::bail!(
            "push takes the slot from --image-model/--video-model/--audio-model or the config, not --modality"
        );
    }
    let data = journal::data_dir()?;
    // The gate first, for every source: nothing is sent unless all pass.
    let mut gated = Vec::new();
    let mut rejected = false;
    for (modality, source) in &sources {
        match gate(source, *modality, policy, options, &data, print_report)? {
            Some(g) => gated.push(g),
            None => rejected = true,
        }
    }
    if rejected {
        eprintln!(
            "gasguard: nothing was pushed: fix the rejected submission(s) above and push again"
        );
        return Ok(Outcome::Rejected);
    }
    for g in &gated {
        upload::check_vertical(args.vertical.as_str(), g.modality.as_str())?;
    }
    let mut modalities: Vec<&str> = gated.iter().map(|g| g.modality.as_str()).collect();
    modalities.sort();
    if modalities.windows(2).any(|w| w[0] == w[1]) {
        anyhow::bail!("two submissions for the same modality; push one per modality");
    }
    if args.dry_run {
        return super::dry_run::print(args, &key, &gated);
    }
    if gated.len() > 1 && !args.skip_chain {
        eprintln!(
            "gasguard: warning: the chain keeps one commitment per hotkey: each modality pushed replaces the previous one; {} is registered last",
            gated[gated.len() - 1].modality.as_str()
        );
    }
    let mut chain = if args.skip_chain {
        None
    } else {
        let url = args.chain_url();
        eprintln!("gasguard: connecting to {url}");
        let mut chain = Chain::connect(&url).map_err(|e| e.context("before uploading anything"))?;
        match chain.uid(args.netuid, &key.public())? {
            Some(uid) => eprintln!(
                "gasguard: {} is uid {uid} on subnet {}",
                key.ss58(),
                args.netuid
            ),
            None => anyhow::bail!(
                "{} is not registered on subnet {}: the chain would refuse its commitment (AccountNotAllowedCommit); \
                 register the hotkey first (`btcli subnet register`); nothing was uploaded",
                key.ss58(),
                args.netuid
            ),
        }
        Some(chain)
    };
    let genesis = chain
        .as_ref()
        .map(Chain::genesis_hex)
        .unwrap_or_else(|| journal::NO_CHAIN.to_string());
    let client = Client::new(&args.upload_endpoint, upload::Backoff::default());
    let mut worst = Outcome::Done;
    for g in &gated {
        let result = push_one(args, &key, g, &data, &genesis, &client, chain.as_mut());
        match result {
            Ok(()) => {}
            Err(Failure::Upload(e)) => {
                eprintln!("gasguard: error: {} not uploaded: {e:#}", g.file_name);
                worst = worst.max(Outcome::UploadFailed);
            }
            Err(Failure::Chain(e)) => {
                eprintln!(
                    "gasguard: error: {} is uploaded, but not registered on chain: {e:#}\n\
                     gasguard: the upload is kept: `gasguard push --resume` with the same arguments retries only the chain step",
                    g.file_name
                );
                worst = worst.max(Outcome::ChainFailed);
            }
        }
    }
    Ok(worst)
}

fn load_key(args: &PushArgs) -> anyhow::Result<Hotkey> {
    let path = keys::hotkey_file(&args.wallet_path, &args.wallet_name, &args.wallet_hotkey)?;
    keys::load(&path)
}

/// Checks and packs one source into `<data>/packed/<sha256>.zip`.
fn gate(
    source: &Path,
    modality: Option<Modality>,
    policy: &Policy,
    options: &CheckOptions,
    data: &Path,
    print_report: &mut dyn FnMut(&SubmissionReport),
) -> anyhow::Result<Option<Gated>> {
    let dir = data.join("packed");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let staging = dir.join(format!("staging-{}.zip", std::process::id()));
    let _ = std::fs::remove_file(&staging);
    let options = CheckOptions {
        modality,
        ..options.clone()
    };
    match pack::pack_path(source, &staging, policy, &options)? {
        PackOutcome::Rejected(mut report) => {
            report.path = source.display().to_string();
            print_report(&report);
            eprintln!("gasguard: {} was rejected by the gate", source.display());
            Ok(None)
        }
        PackOutcome::Packed {
            mut report,
            size,
            sha256,
            ..
        } => {
            report.path = source.display().to_string();
            print_report(&report);
            let modality = report
                .config
                .as_ref()
                .and_then(|c| c.modality)
                .or(modality)
                .with_context(|| format!("{}: cannot tell its modality", source.display()))?;
            let packed = dir.join(format!("{sha256}.zip"));
            std::fs::rename(&staging, &packed)
                .with_context(|| format!("cannot move the packed ZIP to {}", packed.display()))?;
            Ok(Some(Gated {
                modality,
                packed,
                file_name: zip_name(source),
                size,
                file_hash: sha256,
            }))
        }
    }
}

/// The file name the server records: the ZIP's, or the folder's + `.zip`.
fn zip_name(source: &Path) -> String {
    let name = source
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "submission".to_string());
    if name.to_ascii_lowercase().ends_with(".zip") {
        name
    } else {
        format!("{name}.zip")
    }
}

fn push_one(
    args: &PushArgs,
    key: &Hotkey,
    g: &Gated,
    data: &Path,
    genesis: &str,
    client: &Client,
    chain: Option<&mut Chain>,
) -> Result<(), Failure> {
    let up = Failure::Upload;
    let found = Journal::find(data, genesis, args.netuid, key.ss58(), &g.file_hash).map_err(up)?;
    let mut j = match found {
        Some(j) if j.step.is_some() && !args.resume => {
            return Err(Failure::Upload(anyhow::anyhow!(
                "a push of this file by this hotkey was already started (last step: {}); \
                 run with --resume to continue it without asking for a new slot ({})",
                j.step.map(Step::as_str).unwrap_or("none"),
                j.path(data).display()
            )));
        }
        Some(j) => j,
        None => Journal {
            genesis: genesis.to_string(),
            netuid: args.netuid,
            hotkey: key.ss58().to_string(),
            file_hash: g.file_hash.clone(),
            file_size: g.size,
            file_name: g.file_name.clone(),
            packed: g.packed.clone(),
            modality: g.modality.as_str().to_string(),
            vertical: args.vertical.as_str().to_string(),
            upload_endpoint: args.upload_endpoint.clone(),
            step: None,
            slot: None,
            commitment: None,
            extrinsic_hash: None,
            block_hash: None,
            block_number: None,
            updated: 0,
        },
    };
    if j.step == Some(Step::CommitmentVerified) {
        eprintln!(
            "gasguard: {} was already pushed and verified on chain (block {}); nothing to do",
            g.file_name,
            j.block_number.map(|n| n.to_string()).unwrap_or_default()
        );
        return Ok(());
    }
    if let Some(step) = j.step {
        eprintln!(
            "gasguard: resuming {} after step {}",
            g.file_name,
            step.as_str()
        );
    }
    upload_steps(key, g, data, client, &mut j).map_err(up)?;
    let commitment = j.commitment.clone().unwrap_or_default();
    let Some(chain) = chain else {
        eprintln!(
            "gasguard: {} uploaded and confirmed (hash {}); --skip-chain: not registered on chain. \
             Register it later with `gasguard push --resume` and the same arguments without --skip-chain",
            g.file_name, g.file_hash
        );
        return Ok(());
    };
    chain_step(args, key, data, chain, &mut j, commitment.as_bytes()).map_err(Failure::Chain)?;
    println!(
        "gasguard: pushed {} ({}, sha256 {}): uploaded, registered in block {} and verified",
        g.file_name,
        g.modality.as_str(),
        g.file_hash,
        j.block_number.map(|n| n.to_string()).unwrap_or_default()
    );
    Ok(())
}

fn upload_steps(
    key: &Hotkey,
    g: &Gated,
    data: &Path,
    client: &Client,
    j: &mut Journal,
) -> anyhow::Result<()> {
    if j.step.is_none() {
        let request = PresignRequest {
            filename: g.file_name.clone(),
            file_size: g.size,
            expected_hash: g.file_hash.clone(),
            content_type: "application/octet-stream",
            modality: g.modality.as_str().to_string(),
            vertical: j.vertical.clone(),
        };
        let slot = match client.presign(key, &request) {
            Ok(slot) => slot,
            Err(UploadError::AlreadyExists) => {
                // Uploaded before for another chain or subnet: the slot and
                // storage key are in that journal.
                let Some(earlier) =
                    Journal::confirmed_upload(data, key.ss58(), &g.file_hash, &j.upload_endpoint)
                else {
                    anyhow::bail!(
                        "the upload server already has this exact file (sha256 {}), and this machine has no journal of that upload, \
                         so its storage key is unknown; if you uploaded it with gascli, register it with gascli; \
                         to upload anew, change the submission (any byte) and push again",
                        g.file_hash
                    )
                };
                eprintln!(
                    "gasguard: the server already has {}; continuing from the journal of that upload ({})",
                    g.file_name,
                    earlier.path(data).display()
                );
                j.slot = earlier.slot;
                j.commitment = earlier.commitment;
                j.record(data, Step::Confirmed)?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        eprintln!(
            "gasguard: presigned {} ({}; storage key {})",
            g.file_name,
            upload::describe_slot(&slot),
            slot.r2_key
        );
        let commitment = scale::commitment_json(&slot.r2_key, &g.file_hash, key.ss58());
        j.slot = Some(slot);
        j.commitment = Some(commitment);
        j.record(data, Step::Presigned)?;
    }
    let slot = j
        .slot
        .clone()
        .context("the journal has no upload slot; move it away and push again")?;
    let commitment = j.commitment.clone().unwrap_or_default();
    if commitment.len() > scale::RAW_MAX {
        anyhow::bail!(
            "the commitment {commitment} is {} bytes, over the chain's {}-byte limit (the server's storage key is {} bytes); \
             nothing was uploaded; report this to BitMind",
            commitment.len(),
            scale::RAW_MAX,
            slot.r2_key.len()
        );
    }
    if j.step < Some(Step::Uploaded) {
        // What is uploaded is what was checked: the packed file's hash is
        // verified before and (by the client, as it streams) during the PUT.
        let (size, hash) = pack::sha256_file(&j.packed)?;
        if hash != j.file_hash || size != j.file_size {
            anyhow::bail!(
                "{} no longer holds the checked bytes (sha256 {hash}); push the source again",
                j.packed.display()
            );
        }
        eprintln!("gasguard: uploading {} ({} bytes)", g.file_name, size);
        client.put(&slot.presigned_url, &j.packed, &j.file_hash)?;
        j.record(data, Step::Uploaded)?;
    }
    if j.step < Some(Step::Confirmed) {
        match client.confirm(key, &slot.model_id, &j.file_hash) {
            // A confirm whose answer was lost (killed, dropped) is already done.
            Ok(()) | Err(UploadError::AlreadyExists) => {}
            Err(e) => return Err(e.into()),
        }
        j.record(data, Step::Confirmed)?;
        eprintln!("gasguard: upload of {} confirmed", g.file_name);
    }
    Ok(())
}

fn chain_step(
    args: &PushArgs,
    key: &Hotkey,
    data: &Path,
    chain: &mut Chain,
    j: &mut Journal,
    commitment: &[u8],
) -> anyhow::Result<()> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match commit_once(args, key, data, chain, j, commitment) {
            Ok(()) => return Ok(()),
            Err(e) if args.max_retries == 0 || attempt < args.max_retries => {
                eprintln!(
                    "gasguard: chain step failed (attempt {attempt}): {e:#}; retrying in {} s",
                    args.retry_delay
                );
                std::thread::sleep(Duration::from_secs(args.retry_delay));
            }
            Err(e) => return Err(e),
        }
    }
}

fn commit_once(
    args: &PushArgs,
    key: &Hotkey,
    data: &Path,
    chain: &mut Chain,
    j: &mut Journal,
    commitment: &[u8],
) -> anyhow::Result<()> {
    // After a kill between submitting and verifying, the commitment may
    // already be there: never send it twice.
    if j.step == Some(Step::ExtrinsicSent)
        && let Some(r) = chain.commitment(args.netuid, &key.public(), None)?
        && r.fields.first() == Some(&Some(commitment.to_vec()))
    {
        j.block_number = Some(r.block as u64);
        j.record(data, Step::CommitmentVerified)?;
        return Ok(());
    }
    let call = chain.call(args.netuid, commitment);
    let included = chain.submit(key, &call, Duration::from_secs(180), &mut |hash| {
        j.extrinsic_hash = Some(hash.to_string());
        j.record(data, Step::ExtrinsicSent)
    })?;
    j.block_hash = Some(included.block_hash.clone());
    let stored = chain.commitment(args.netuid, &key.public(), Some(&included.block_hash))?;
    match stored {
        Some(r) if r.fields.first() == Some(&Some(commitment.to_vec())) => {
            j.block_number = Some(chain.block_number(&included.block_hash)?);
            j.record(data, Step::CommitmentVerified)
        }
        other => anyhow::bail!(
            "the extrinsic {} was finalized in block {}, but the commitment stored there is {}, not ours; \
             the runtime refused it (not registered, space budget per epoch exhausted?)",
            included.extrinsic_hash,
            included.block_hash,
            match other {
                None => "absent".to_string(),
                Some(r) => describe_fields(&r),
            }
        ),
    }
}

pub fn describe_fields(r: &scale::Registration) -> String {
    let parts: Vec<String> = r
        .fields
        .iter()
        .map(|f| match f {
            Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            None => "(not raw bytes)".to_string(),
        })
        .collect();
    parts.join(" | ")
}

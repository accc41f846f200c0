//! `push --status`: what is on chain for this hotkey now, and which local
//! journal entry or given file it is.

use super::args::PushArgs;
use super::chain::Chain;
use super::command::{Outcome, describe_fields};
use super::journal::{self, Journal};
use super::keys::Hotkey;
use super::scale;

pub fn run(args: &PushArgs, key: &Hotkey) -> anyhow::Result<Outcome> {
    let url = args.chain_url();
    let mut chain = Chain::connect(&url)?;
    println!("hotkey: {} (netuid {}, {url})", key.ss58(), args.netuid);
    match chain.uid(args.netuid, &key.public())? {
        Some(uid) => println!("registered: uid {uid}"),
        None => println!("registered: no"),
    }
    let Some(r) = chain.commitment(args.netuid, &key.public(), None)? else {
        println!("commitment: none");
        return Ok(Outcome::Done);
    };
    println!(
        "commitment: {} (set in block {})",
        describe_fields(&r),
        r.block
    );
    let committed = r
        .fields
        .first()
        .cloned()
        .flatten()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let hash = committed
        .as_ref()
        .and_then(|c| c.get("hash"))
        .and_then(|h| h.as_str())
        .map(str::to_string);
    let Some(hash) = hash else {
        println!("match: the commitment is not gasguard's/gascli's JSON");
        return Ok(Outcome::Done);
    };
    let matches = |file_hash: &str| {
        scale::commitment_json("", file_hash, key.ss58()).contains(&format!("\"hash\":\"{hash}\""))
    };
    let mut found = false;
    let data = journal::data_dir()?;
    for j in Journal::all_for(&data, args.netuid, key.ss58()) {
        if matches(&j.file_hash) {
            found = true;
            println!(
                "match: journal {} ({}, {}, last step {}, sha256 {})",
                j.path(&data).display(),
                j.file_name,
                j.modality,
                j.step.map(|s| s.as_str()).unwrap_or("none"),
                j.file_hash
            );
        }
    }
    for (_, source) in args.sources() {
        if source.is_file() {
            let (_, file_hash) = crate::pack::sha256_file(&source)?;
            if matches(&file_hash) {
                found = true;
                println!("match: {} (sha256 {file_hash})", source.display());
            }
        }
    }
    if !found {
        println!(
            "match: no local journal or given file (pushed from another machine, or with gascli)"
        );
    }
    Ok(Outcome::Done)
}

//! `push --dry-run`: everything up to the network, printed; nothing sent.
//! The storage key and the chain's nonce and era come from the network, so
//! the commitment uses a placeholder key and the extrinsic is unsigned.

use super::args::PushArgs;
use super::command::{Gated, Outcome};
use super::keys::Hotkey;
use super::upload::PresignRequest;
use super::{epistula, scale};

/// What a storage key looks like (a guess from gascli's logs: the server
/// chooses it). Its length bounds the commitment's size.
const PLACEHOLDER_KEY: &str = "<r2_key from the server>";
/// The indices in the runtimes gasguard was tested against; a real push
/// reads them from the live metadata.
const COMMITMENTS_PALLET: u8 = 18;
const SET_COMMITMENT: u8 = 0;

pub fn print(args: &PushArgs, key: &Hotkey, gated: &[Gated]) -> anyhow::Result<Outcome> {
    println!("dry run: nothing is sent");
    println!("hotkey: {}", key.ss58());
    println!("upload endpoint: {}", args.upload_endpoint);
    if args.skip_chain {
        println!("chain: skipped (--skip-chain)");
    } else {
        println!("chain: {} (netuid {})", args.chain_url(), args.netuid);
    }
    for g in gated {
        let request = PresignRequest {
            filename: g.file_name.clone(),
            file_size: g.size,
            expected_hash: g.file_hash.clone(),
            content_type: "application/octet-stream",
            modality: g.modality.as_str().to_string(),
            vertical: args.vertical.as_str().to_string(),
        };
        let body = request.body();
        println!();
        println!("== {} ({}) ==", g.file_name, g.modality.as_str());
        println!("packed: {} ({} bytes)", g.packed.display(), g.size);
        println!(
            "POST {}/presigned",
            args.upload_endpoint.trim_end_matches('/')
        );
        println!("Content-Type: application/json");
        for (name, value) in epistula::sign(key, &body).pairs() {
            println!("{name}: {value}");
        }
        println!("{}", String::from_utf8_lossy(&body));
        println!(
            "PUT <presigned_url> with Content-Type: application/octet-stream, Content-Length: {}",
            g.size
        );
        println!(
            "POST {}/confirm {{\"model_id\":<from presign>,\"file_hash\":\"{}\"}}",
            args.upload_endpoint.trim_end_matches('/'),
            g.file_hash
        );
        let commitment = scale::commitment_json(PLACEHOLDER_KEY, &g.file_hash, key.ss58());
        let fixed = commitment.len() - PLACEHOLDER_KEY.len();
        println!(
            "commitment: {commitment} ({fixed} bytes + the storage key; the limit is {}, so the key may have up to {} bytes)",
            scale::RAW_MAX,
            scale::RAW_MAX - fixed
        );
        let call = scale::set_commitment_call(
            COMMITMENTS_PALLET,
            SET_COMMITMENT,
            args.netuid,
            commitment.as_bytes(),
        );
        println!(
            "unsigned extrinsic (placeholder key; Commitments {COMMITMENTS_PALLET}.{SET_COMMITMENT}, checked against the live metadata on a real push): 0x{}",
            hex::encode(scale::unsigned_extrinsic(&call))
        );
    }
    Ok(Outcome::Done)
}

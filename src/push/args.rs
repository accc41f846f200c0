//! `gasguard push`'s flags: gascli's, with its defaults and variables, plus
//! gasguard's own (`--dry-run`, `--resume`, `--status`).

use std::path::PathBuf;

use super::keys::DEFAULT_WALLET_PATH;
use super::upload::DEFAULT_ENDPOINT;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Vertical {
    General,
    Human,
}

impl Vertical {
    pub fn as_str(self) -> &'static str {
        match self {
            Vertical::General => "general",
            Vertical::Human => "human",
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct PushArgs {
    /// Submissions (folders or ZIPs); each one's modality comes from its
    /// model_config.yaml.
    pub sources: Vec<PathBuf>,
    /// The image submission (its config must say image).
    #[arg(long, value_name = "SRC")]
    pub image_model: Option<PathBuf>,
    #[arg(long, value_name = "SRC")]
    pub video_model: Option<PathBuf>,
    #[arg(long, value_name = "SRC")]
    pub audio_model: Option<PathBuf>,

    #[arg(long, env = "BT_WALLET_NAME", default_value = "default")]
    pub wallet_name: String,
    #[arg(long, env = "BT_WALLET_HOTKEY", default_value = "default")]
    pub wallet_hotkey: String,
    #[arg(long, env = "BT_WALLET_PATH", default_value = DEFAULT_WALLET_PATH)]
    pub wallet_path: String,

    #[arg(long, default_value_t = 34)]
    pub netuid: u16,
    /// finney, test, local or a ws:// / wss:// URL (default: finney for
    /// netuid 34, else test).
    #[arg(long, visible_alias = "chain-endpoint", value_name = "NETWORK|URL")]
    pub network: Option<String>,
    #[arg(long, default_value = DEFAULT_ENDPOINT)]
    pub upload_endpoint: String,
    #[arg(long, value_enum, default_value = "general")]
    pub vertical: Vertical,
    /// Seconds between attempts of the chain step.
    #[arg(long, default_value_t = 60)]
    pub retry_delay: u64,
    /// Attempts of the chain step (0: until it succeeds).
    #[arg(long, default_value_t = 3)]
    pub max_retries: u32,
    /// Upload only; register on chain later with `--resume`.
    #[arg(long)]
    pub skip_chain: bool,

    /// Gate and pack, then print what would be sent (the presign body, the
    /// signed Epistula headers, the commitment and the unsigned
    /// extrinsic); send nothing.
    #[arg(long, conflicts_with_all = ["resume", "status"])]
    pub dry_run: bool,
    /// Continue an interrupted push from its journal.
    #[arg(long)]
    pub resume: bool,
    /// Show what is on chain for this hotkey and which local push it is.
    #[arg(long)]
    pub status: bool,
}

impl PushArgs {
    /// (declared modality, source), flagged ones first.
    pub fn sources(&self) -> Vec<(Option<crate::config::Modality>, PathBuf)> {
        use crate::config::Modality;
        let mut out = Vec::new();
        for (m, p) in [
            (Modality::Image, &self.image_model),
            (Modality::Video, &self.video_model),
            (Modality::Audio, &self.audio_model),
        ] {
            if let Some(p) = p {
                out.push((Some(m), p.clone()));
            }
        }
        out.extend(self.sources.iter().map(|p| (None, p.clone())));
        out
    }

    pub fn chain_url(&self) -> String {
        let network = match &self.network {
            Some(n) if !n.is_empty() => n.as_str(),
            _ if self.netuid == 34 => "finney",
            _ => "test",
        };
        super::chain::endpoint(network)
    }
}

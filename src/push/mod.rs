//! `gasguard push`: the gated hand-off to BitMind's upload server and the
//! on-chain commitment (see docs/push.md).
//!
//! keys / ss58 / epistula sign; upload talks to the upload server;
//! scale / metadata / rpc / chain build, check and submit the commitment;
//! journal makes a push resumable; command runs the steps, with dry_run
//! and status beside it.

pub mod args;
pub mod chain;
pub mod command;
pub mod dry_run;
pub mod epistula;
pub mod journal;
pub mod keys;
pub mod metadata;
pub mod rpc;
pub mod scale;
pub mod ss58;
pub mod status;
pub mod upload;

pub use args::PushArgs;
pub use command::{Outcome, run};

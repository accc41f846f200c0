//! gasguard: a local, strict gate for BitMind SN34 model submissions.
//!
//! The pipeline reads as the modules do: [`submission`] (intake and layout)
//! → [`config`] → [`python`] → [`weights`] → [`report`], driven by
//! [`check`]; then [`pack`] and [`push`]. [`policy`] is the data every
//! stage consults and [`rules`] the registry of every diagnostic.

pub mod check;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod init;
pub mod pack;
pub mod plugins;
pub mod policy;
pub mod progress;
pub mod push;
pub mod python;
pub mod report;
pub mod rules;
pub mod runtime;
pub mod sanitize;
pub mod settings;
pub mod submission;
pub mod suppression;
pub mod weights;
pub mod yaml;

//! Landlock: the filesystem and TCP view of the sandboxed child.
//! A fixed ABI is requested, and anything short of full enforcement is an
//! error (fail closed), never a silently weaker sandbox.

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope, path_beneath_rules,
};

use super::sandbox_policy::SandboxPolicy;

/// The ABI gasguard is written against (Linux 6.15+: filesystem, TCP, scopes).
pub const LANDLOCK_ABI: ABI = ABI::V6;

/// Restricts the calling thread (and everything it later executes).
pub fn apply(policy: &SandboxPolicy) -> Result<(), String> {
    let abi = LANDLOCK_ABI;
    let read = AccessFs::from_read(abi);
    let all = AccessFs::from_all(abi);
    let existing = |paths: &[std::path::PathBuf]| {
        paths
            .iter()
            .filter(|p| p.exists())
            .cloned()
            .collect::<Vec<_>>()
    };
    let status = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(all)
        .and_then(|r| r.handle_access(AccessNet::from_all(abi)))
        .and_then(|r| r.scope(Scope::AbstractUnixSocket | Scope::Signal))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(existing(&policy.read_exec), read)))
        .and_then(|r| {
            r.add_rules(path_beneath_rules(
                existing(&policy.read_only),
                read & !AccessFs::Execute,
            ))
        })
        .and_then(|r| {
            r.add_rules(path_beneath_rules(
                existing(&policy.devices),
                AccessFs::ReadFile | AccessFs::WriteFile,
            ))
        })
        .and_then(|r| {
            r.add_rules(path_beneath_rules(
                existing(&policy.read_write),
                all & !AccessFs::Execute,
            ))
        })
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("landlock: {e}"))?;
    if status.ruleset != RulesetStatus::FullyEnforced {
        return Err(format!(
            "landlock is not fully enforced ({:?}); refusing to run with less protection",
            status.ruleset
        ));
    }
    Ok(())
}

//! The policy: what modules, calls and sizes a submission may use.
//!
//! It is data (`rules/sn34.yaml`, embedded at build time, replaceable with
//! `--policy FILE`). This module holds its types and the questions the
//! analyzer asks of it; `read.rs` loads and validates it.

mod read;

pub use read::{BUILTIN_POLICY, BUILTIN_POLICY_NAME, PolicyError};

use crate::yaml::YamlLimits;

#[derive(Clone, Debug)]
pub struct Policy {
    pub name: String,
    pub allowed_modules: Vec<String>,
    pub blocked_modules: Vec<BlockedModule>,
    pub blocked_calls: Vec<Reasoned>,
    pub blocked_submodules: Vec<Reasoned>,
    pub apis: Vec<Api>,
    pub methods: Vec<Reasoned>,
    /// Library modules whose attributes are switches a model may set
    /// (`torch.backends.cudnn.benchmark = True`); every other assignment to a
    /// library attribute is P113.
    pub settings: Vec<Reasoned>,
    pub limits: Limits,
}

/// A dangerous API of an allowed library, and when a use of it counts.
#[derive(Clone, Debug)]
pub struct Api {
    pub name: String,
    pub when: ApiCondition,
    pub reason: String,
    /// When the deciding argument cannot be proven, a warning (the call can
    /// only reach the network) rather than an error (`unproven: warning`).
    pub unproven_warns: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ApiCondition {
    Always,
    KwargTrue(String),
    KwargNotFalse(String),
    /// Dangerous unless the argument is proven true; then a warning remains
    /// (`torch.load(p, weights_only=True)`: a restricted unpickler).
    UnlessTrue(String),
    /// A path argument not proven to name a file inside the submission.
    LocalPath(String),
    /// A string argument starting with one of the prefixes.
    ArgPrefix {
        param: String,
        prefixes: Vec<String>,
    },
    RemoteSource,
    UrlArgument,
    Workers,
    WriteMode,
    /// Evaluates string annotations (checked where they are written) in
    /// the namespaces these parameters give: safe when each is absent or
    /// proven None (`typing.get_type_hints`).
    Namespaces(Vec<String>),
    /// Evaluates the string this parameter holds as code, in a namespace
    /// this other parameter may name (`typing.ForwardRef(arg, module=)`):
    /// safe when every string is listed and its expression is proven safe.
    StringCode {
        param: String,
        namespace: String,
    },
    /// Safe when this argument is proven to be a function or class of
    /// model.py (`functools.update_wrapper(wrapper, wrapped)`: the wrapper's
    /// annotations are evaluated in the globals of `wrapped`).
    OwnCode(String),
}

#[derive(Clone, Debug)]
pub struct BlockedModule {
    pub name: String,
    pub category: String,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct Reasoned {
    pub name: String,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct Limits {
    pub archive_max_total_bytes: u64,
    pub archive_max_entries: u64,
    pub archive_max_ratio: u64,
    pub max_text_file_bytes: u64,
    pub config_max_bytes: u64,
    pub config_max_depth: u64,
    pub config_max_alias_expansion: u64,
    pub max_side: u64,
    pub max_frames: u64,
    pub weights_max_header_bytes: u64,
    pub python_max_bytes: u64,
    pub python_max_depth: u64,
}

impl Policy {
    /// Top-level name of the blocked entry that covers `module`, if any.
    pub fn blocked_module(&self, module: &str) -> Option<&BlockedModule> {
        self.blocked_modules
            .iter()
            .find(|b| covers(&b.name, module))
    }

    /// Whether `module` is on the allowlist (itself or a containing package).
    pub fn is_allowed_module(&self, module: &str) -> bool {
        self.allowed_modules.iter().any(|a| covers(a, module))
            && self.blocked_module(module).is_none()
    }

    pub fn blocked_submodule(&self, dotted: &str) -> Option<&Reasoned> {
        self.blocked_submodules
            .iter()
            .find(|b| covers(&b.name, dotted))
    }

    /// Top-level package names the policy mentions (allowed or blocked).
    pub fn module_roots(&self) -> impl Iterator<Item = &str> {
        self.allowed_modules
            .iter()
            .map(String::as_str)
            .chain(self.blocked_modules.iter().map(|b| b.name.as_str()))
            .map(|m| m.split('.').next().unwrap_or(m))
    }

    pub fn yaml_limits(&self) -> YamlLimits {
        YamlLimits {
            max_depth: self.limits.config_max_depth as usize,
            max_nodes: self.limits.config_max_alias_expansion as usize,
        }
    }
}

/// `package` covers `module` when equal or a dotted prefix of it.
pub fn covers(package: &str, module: &str) -> bool {
    module == package
        || (module.len() > package.len()
            && module.starts_with(package)
            && module.as_bytes()[package.len()] == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policy_loads_with_the_published_lists() {
        let p = Policy::builtin();
        assert!(p.is_allowed_module("torch"));
        assert!(p.is_allowed_module("torch.nn.init"));
        assert!(p.is_allowed_module("timm.models.layers"));
        assert!(!p.is_allowed_module("os"));
        assert!(!p.is_allowed_module("torchvisionx"));
        assert!(!p.is_allowed_module("google.cloud.storage"));
        assert_eq!(
            p.blocked_module("urllib.request")
                .map(|b| b.category.as_str()),
            Some("network")
        );
        assert!(
            p.blocked_submodule("torch.utils.cpp_extension.load_inline")
                .is_some()
        );
        let calls: Vec<&str> = p.blocked_calls.iter().map(|c| c.name.as_str()).collect();
        for published in [
            "eval",
            "exec",
            "compile",
            "__import__",
            "getattr",
            "setattr",
            "globals",
            "locals",
        ] {
            assert!(
                calls.contains(&published),
                "{published} missing from {calls:?}"
            );
        }
        assert_eq!(calls.len(), 18, "{calls:?}");
    }
}

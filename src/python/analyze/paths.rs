//! What a resolved dotted path is (a module, a policy API, under which
//! other spellings), and the policy checks on imports and paths.

use std::ops::Range;

use super::Analyzer;
use crate::diagnostic::Diagnostic;
use crate::policy::{Api, ApiCondition};
use crate::rules::code as rules;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/module_attributes.rs"));
    include!(concat!(env!("OUT_DIR"), "/api_objects.rs"));
}

/// The real module behind `container.attribute`, from the table generated
/// from the evaluator's libraries (`rules/module-attributes.txt`).
pub fn module_attribute(container: &str, attribute: &str) -> Option<&'static str> {
    generated::MODULE_ATTRIBUTES
        .binary_search_by(|(c, a, _)| (*c, *a).cmp(&(container, attribute)))
        .ok()
        .map(|i| generated::MODULE_ATTRIBUTES[i].2)
}

/// The policy API that `path` is the very same object as, under another
/// name (`timm.models.create_model` is `timm.create_model`), from
/// `rules/api-objects.txt`.
fn api_alias(path: &str) -> Option<&'static str> {
    generated::API_ALIASES
        .binary_search_by(|(p, _)| (*p).cmp(path))
        .ok()
        .map(|i| generated::API_ALIASES[i].1)
}

/// The parameters of a policy API, in order, when known.
pub fn api_signature(path: &str) -> Option<&'static str> {
    generated::API_SIGNATURES
        .binary_search_by(|(p, _)| (*p).cmp(path))
        .ok()
        .map(|i| generated::API_SIGNATURES[i].1)
}

/// Whether `path` is a module: an imported root and then only
/// module-valued attributes (from the generated table).
pub fn is_module_path(path: &str) -> bool {
    if path.starts_with("builtins.") {
        return false;
    }
    let mut parts = path.split('.');
    let Some(root) = parts.next() else {
        return false;
    };
    let mut current = root.to_string();
    for attr in parts {
        match module_attribute(&current, attr) {
            Some(real) => current = real.to_string(),
            None => return false,
        }
    }
    true
}

/// Every name of the object at `path`: as spelt, with each module-valued
/// attribute replaced by the real module (`torch.serialization` reached as
/// `x.serialization`), and with any prefix that is another path to a
/// policy API replaced by that API's path.
pub fn spellings(path: &str) -> Vec<String> {
    thread_local! {
        // The same few paths are met at every reference: work them out once.
        static KNOWN: std::cell::RefCell<std::collections::HashMap<String, Vec<String>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(hit) = KNOWN.with(|k| k.borrow().get(path).cloned()) {
        return hit;
    }
    let out = spellings_uncached(path);
    KNOWN.with(|k| {
        let mut k = k.borrow_mut();
        if k.len() > 100_000 {
            k.clear(); // bound memory on pathological files
        }
        k.insert(path.to_string(), out.clone());
    });
    out
}

fn spellings_uncached(path: &str) -> Vec<String> {
    let mut out = vec![path.to_string()];
    let mut parts = path.split('.');
    if let Some(root) = parts.next() {
        let mut current = root.to_string();
        let rest: Vec<&str> = parts.collect();
        let mut i = 0;
        while i < rest.len() {
            match module_attribute(&current, rest[i]) {
                Some(real) => current = real.to_string(),
                None => break,
            }
            i += 1;
        }
        let mut canonical = current;
        for attr in &rest[i..] {
            canonical.push('.');
            canonical.push_str(attr);
        }
        out.push(canonical);
    }
    for p in out.clone() {
        let parts: Vec<&str> = p.split('.').collect();
        for n in (1..=parts.len()).rev() {
            let prefix = parts[..n].join(".");
            if let Some(api) = api_alias(&prefix) {
                let mut aliased = api.to_string();
                for attr in &parts[n..] {
                    aliased.push('.');
                    aliased.push_str(attr);
                }
                out.push(aliased);
                break;
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The policy APIs `path` falls under, by any of its spellings.
pub fn apis_covering<'p>(apis: &'p [Api], path: &str) -> Vec<(&'p Api, String)> {
    let names = spellings(path);
    let mut out = Vec::new();
    for api in apis {
        let hit = names.iter().find(|n| {
            crate::policy::covers(&api.name, n)
                || (api.name == "open" && n.as_str() == "builtins.open")
        });
        if let Some(n) = hit {
            out.push((api, n.clone()));
        }
    }
    out
}

impl Analyzer<'_, '_> {
    pub(super) fn check_import_path(&mut self, module: &str, at: Range<usize>) {
        if let Some(b) = self.policy.blocked_module(module) {
            let (cat, reason) = (b.category.clone(), b.reason.clone());
            self.report(
                Diagnostic::new(
                    &rules::IMPORT_NOT_ALLOWED,
                    format!("`{module}` is blocked ({cat}): {reason}"),
                )
                .help("the network's analyzer rejects it; remove the import and what uses it"),
                at,
            );
        } else if !self.policy.is_allowed_module(module) {
            self.report(
                Diagnostic::new(
                    &rules::IMPORT_NOT_ALLOWED,
                    format!("`{module}` is not on the allowlist"),
                )
                .help(
                    "only the modules listed in the policy may be imported (`gasguard rules P101`)",
                ),
                at,
            );
        } else {
            self.check_path(module, at);
        }
    }

    /// Checks a fully resolved dotted path (an import or a reference).
    pub(super) fn check_path(&mut self, path: &str, at: Range<usize>) {
        let Some(rest) = path.strip_prefix("builtins.") else {
            return self.check_module_path(path, at);
        };
        if let Some(call) = self.policy.blocked_calls.iter().find(|c| c.name == rest) {
            let reason = call.reason.clone();
            self.report(
                Diagnostic::new(
                    &rules::BLOCKED_BUILTIN,
                    format!("`{rest}` is blocked: {reason}"),
                )
                .help(
                    "use the object directly (a dict of layers instead of getattr, for instance)",
                ),
                at,
            );
        }
    }

    pub(super) fn check_module_path(&mut self, path: &str, at: Range<usize>) {
        for name in spellings(path) {
            if let Some(b) = self.policy.blocked_submodule(&name) {
                let (blocked, reason) = (b.name.clone(), b.reason.clone());
                self.report(
                    Diagnostic::new(
                        &rules::BLOCKED_SUBMODULE,
                        format!("`{path}` reaches the blocked `{blocked}`: {reason}"),
                    )
                    .help("remove it; the network's analyzer rejects it"),
                    at.clone(),
                );
                break;
            }
        }
        let mut parts = path.split('.');
        let Some(root) = parts.next() else { return };
        if !self.policy.is_allowed_module(root) {
            return; // its import is what gets reported
        }
        let mut current = root.to_string();
        for attr in parts {
            match module_attribute(&current, attr).map(str::to_string) {
                Some(real) if !self.policy.is_allowed_module(&real) => {
                    self.report(
                        Diagnostic::new(&rules::MODULE_VIA_ATTRIBUTE, format!("`{current}.{attr}` is the module `{real}`, which is not allowed"))
                            .help("an allowed module's attribute is still the blocked module; do not reach through it"),
                        at,
                    );
                    return;
                }
                Some(real) => current = real,
                // Not a module attribute in the pinned libraries, yet named like
                // a blocked module: a newer version's rename or a crafted path.
                None if self.policy.blocked_module(attr).is_some() => {
                    self.report(
                        Diagnostic::new(
                            &rules::MODULE_VIA_ATTRIBUTE,
                            format!("`{current}.{attr}` names the blocked module `{attr}`"),
                        )
                        .help("do not reach modules through another module's attributes"),
                        at,
                    );
                    return;
                }
                None => current = format!("{current}.{attr}"),
            }
        }
        let always: Vec<(String, String, String)> = apis_covering(&self.policy.apis, path)
            .into_iter()
            .filter(|(a, _)| a.when == ApiCondition::Always)
            .map(|(a, n)| (a.name.clone(), a.reason.clone(), n))
            .collect();
        for (name, reason, spelt) in always {
            let via = if spelt == path || spelt.starts_with(&name) && path.starts_with(&name) {
                String::new()
            } else {
                format!(" (the same object as `{spelt}`)")
            };
            self.report(
                Diagnostic::new(
                    &rules::DANGEROUS_API,
                    format!("`{path}` uses `{name}`{via}: {reason}"),
                )
                .help("load weights with safetensors and build everything from local files"),
                at.clone(),
            );
        }
    }
}

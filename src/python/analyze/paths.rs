//! What a resolved dotted path is (a module, a policy API, under which
//! other spellings), and the policy checks on imports and paths.

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

use foldhash::{HashMap, HashSet};

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
pub fn spellings(path: &str) -> Rc<[String]> {
    thread_local! {
        // The same few paths are met at every reference: work them out
        // once (shared, so that a hit copies nothing).
        static KNOWN: RefCell<HashMap<String, Rc<[String]>>> = RefCell::default();
    }
    if let Some(hit) = KNOWN.with(|k| k.borrow().get(path).cloned()) {
        return hit;
    }
    let out: Rc<[String]> = spellings_uncached(path).into();
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

/// The policy APIs `path` falls under, by any of its spellings, asking
/// every API (what `apis_covering_indexed` must agree with).
#[cfg(test)]
fn apis_covering<'p>(apis: &'p [Api], path: &str) -> Vec<(&'p Api, String)> {
    let names = spellings(path);
    covering_of(apis.iter(), &names)
}

/// Of `apis`, in order, those one of `names` falls under, with the first
/// such name.
fn covering_of<'p>(
    apis: impl Iterator<Item = &'p Api>,
    names: &[String],
) -> Vec<(&'p Api, String)> {
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

/// Indices of the policy's APIs by name (`apis_covering_indexed`).
type ApiIndex<'p> = HashMap<&'p str, Vec<usize>>;

/// `apis_covering`, asking only the APIs named by a prefix of a spelling
/// (what `covers` can match) instead of every API for every path.
fn apis_covering_indexed<'p>(
    apis: &'p [Api],
    index: &ApiIndex<'p>,
    path: &str,
) -> Vec<(&'p Api, String)> {
    let names = spellings(path);
    let mut candidates: Vec<usize> = Vec::new();
    for n in names.iter() {
        let prefixes = (n.match_indices('.').map(|(i, _)| &n[..i])).chain([n.as_str()]);
        for prefix in prefixes {
            candidates.extend(index.get(prefix).into_iter().flatten());
        }
        if n == "builtins.open" {
            candidates.extend(index.get("open").into_iter().flatten());
        }
    }
    candidates.sort_unstable();
    candidates.dedup();
    covering_of(candidates.into_iter().map(|i| &apis[i]), &names)
}

/// What the policy says of each resolved path, kept for one file across
/// the escape rounds: it depends only on the path and the policy, and the
/// same few paths are met at every reference.
#[derive(Default)]
pub(super) struct PathMemo<'p> {
    covering: RefCell<HashMap<String, Rc<[(&'p Api, String)]>>>,
    /// The policy's APIs by name, made on the first `apis_covering`.
    api_index: std::cell::OnceCell<ApiIndex<'p>>,
    /// Whether a path standing as a value escapes (`escaping_path`).
    escaping: HashMap<String, Option<EscapingPath>>,
    /// Paths the policy checks found nothing on (`report_path_findings`).
    clean: HashSet<String>,
    /// Why an import is refused, per module (`check_import_path`).
    imports: HashMap<String, Option<Diagnostic>>,
}

/// Why a library path may not stand where its value escapes.
#[derive(Clone, Copy)]
pub(super) enum EscapingPath {
    Module,
    /// An API judged by its arguments, or an object that carries one.
    Conditional,
}

impl<'m> Analyzer<'m, '_> {
    /// `apis_covering` for the analyzer's policy, remembered per path.
    pub(super) fn apis_covering(&self, path: &str) -> Rc<[(&'m Api, String)]> {
        if let Some(hit) = self.path_memo.covering.borrow().get(path) {
            return hit.clone();
        }
        let apis = &self.policy.apis;
        let index = self.path_memo.api_index.get_or_init(|| {
            let mut index = ApiIndex::default();
            for (i, api) in apis.iter().enumerate() {
                index.entry(api.name.as_str()).or_default().push(i);
            }
            index
        });
        let found: Rc<[(&'m Api, String)]> = apis_covering_indexed(apis, index, path).into();
        self.path_memo
            .covering
            .borrow_mut()
            .insert(path.to_string(), found.clone());
        found
    }

    /// Whether `path`, standing where its value escapes, is a module or
    /// an API judged by its arguments (or an object that carries a policy
    /// API: `transformers.AutoConfig` carries `.from_pretrained`,
    /// `torch.ops` carries `.load_library`), remembered per path.
    pub(super) fn escaping_path(&mut self, path: &str) -> Option<EscapingPath> {
        if let Some(hit) = self.path_memo.escaping.get(path) {
            return *hit;
        }
        let found = if is_module_path(path) {
            Some(EscapingPath::Module)
        } else if self
            .apis_covering(path)
            .iter()
            .any(|(a, _)| a.when != ApiCondition::Always)
            || self.policy.apis.iter().any(|a| {
                a.name
                    .strip_prefix(path)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
        {
            Some(EscapingPath::Conditional)
        } else {
            None
        };
        self.path_memo.escaping.insert(path.to_string(), found);
        found
    }
}

impl Analyzer<'_, '_> {
    pub(super) fn check_import_path(&mut self, module: &str, at: Range<usize>) {
        let refused = match self.path_memo.imports.get(module) {
            Some(known) => known.clone(),
            None => {
                let found = self.import_refusal(module);
                (self.path_memo.imports).insert(module.to_string(), found.clone());
                found
            }
        };
        match refused {
            Some(d) => self.report(d, at),
            None => self.check_path(module, at),
        }
    }

    /// Why importing `module` is refused, if it is (blocked, or not on
    /// the allowlist).
    fn import_refusal(&self, module: &str) -> Option<Diagnostic> {
        if let Some(b) = self.policy.blocked_module(module) {
            let (cat, reason) = (&b.category, &b.reason);
            Some(
                Diagnostic::new(
                    &rules::IMPORT_NOT_ALLOWED,
                    format!("`{module}` is blocked ({cat}): {reason}"),
                )
                .help("the network's analyzer rejects it; remove the import and what uses it"),
            )
        } else if !self.policy.is_allowed_module(module) {
            Some(
                Diagnostic::new(
                    &rules::IMPORT_NOT_ALLOWED,
                    format!("`{module}` is not on the allowlist"),
                )
                .help(
                    "only the modules listed in the policy may be imported (`gasguard rules P101`)",
                ),
            )
        } else {
            None
        }
    }

    /// Checks a fully resolved dotted path (an import or a reference).
    pub(super) fn check_path(&mut self, path: &str, at: Range<usize>) {
        self.report_path_findings(path, at, false);
    }

    pub(super) fn check_module_path(&mut self, path: &str, at: Range<usize>) {
        self.report_path_findings(path, at, true);
    }

    /// Reports what `path_findings` finds. The findings depend only on the
    /// path and the policy, and the same few paths are met at every
    /// reference: a path found clean once is not worked out again. (For a
    /// path outside `builtins`, both checks are the same check.)
    fn report_path_findings(&mut self, path: &str, at: Range<usize>, module: bool) {
        let builtin = path.starts_with("builtins.");
        let memo = !(module && builtin);
        if memo && self.path_memo.clean.contains(path) {
            return;
        }
        let found = if module {
            self.module_path_findings(path)
        } else {
            self.path_findings(path)
        };
        if memo && found.is_empty() {
            self.path_memo.clean.insert(path.to_string());
        }
        for d in found {
            self.report(d, at.clone());
        }
    }

    fn path_findings(&self, path: &str) -> Vec<Diagnostic> {
        let Some(rest) = path.strip_prefix("builtins.") else {
            return self.module_path_findings(path);
        };
        let mut found = Vec::new();
        if let Some(call) = self.policy.blocked_calls.iter().find(|c| c.name == rest) {
            let reason = &call.reason;
            found.push(
                Diagnostic::new(
                    &rules::BLOCKED_BUILTIN,
                    format!("`{rest}` is blocked: {reason}"),
                )
                .help(
                    "use the object directly (a dict of layers instead of getattr, for instance)",
                ),
            );
        }
        found
    }

    fn module_path_findings(&self, path: &str) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        for name in spellings(path).iter() {
            if let Some(b) = self.policy.blocked_submodule(&name) {
                let (blocked, reason) = (&b.name, &b.reason);
                found.push(
                    Diagnostic::new(
                        &rules::BLOCKED_SUBMODULE,
                        format!("`{path}` reaches the blocked `{blocked}`: {reason}"),
                    )
                    .help("remove it; the network's analyzer rejects it"),
                );
                break;
            }
        }
        let mut parts = path.split('.');
        let Some(root) = parts.next() else {
            return found;
        };
        if !self.policy.is_allowed_module(root) {
            return found; // its import is what gets reported
        }
        let mut current = root.to_string();
        for attr in parts {
            match module_attribute(&current, attr).map(str::to_string) {
                Some(real) if !self.policy.is_allowed_module(&real) => {
                    found.push(
                        Diagnostic::new(&rules::MODULE_VIA_ATTRIBUTE, format!("`{current}.{attr}` is the module `{real}`, which is not allowed"))
                            .help("an allowed module's attribute is still the blocked module; do not reach through it"),
                    );
                    return found;
                }
                Some(real) => current = real,
                // Not a module attribute in the pinned libraries, yet named like
                // a blocked module: a newer version's rename or a crafted path.
                None if self.policy.blocked_module(attr).is_some() => {
                    found.push(
                        Diagnostic::new(
                            &rules::MODULE_VIA_ATTRIBUTE,
                            format!("`{current}.{attr}` names the blocked module `{attr}`"),
                        )
                        .help("do not reach modules through another module's attributes"),
                    );
                    return found;
                }
                None => current = format!("{current}.{attr}"),
            }
        }
        for (api, spelt) in self.apis_covering(path).iter() {
            if api.when != ApiCondition::Always {
                continue;
            }
            let (name, reason) = (&api.name, &api.reason);
            let via = if spelt == path
                || spelt.starts_with(name.as_str()) && path.starts_with(name.as_str())
            {
                String::new()
            } else {
                format!(" (the same object as `{spelt}`)")
            };
            found.push(
                Diagnostic::new(
                    &rules::DANGEROUS_API,
                    format!("`{path}` uses `{name}`{via}: {reason}"),
                )
                .help("load weights with safetensors and build everything from local files"),
            );
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index only narrows which APIs are asked: on every policy API's
    /// name, its parents, children and near misses, and `open`'s builtin
    /// spelling, it finds what asking every API finds, in the same order.
    #[test]
    fn indexed_covering_matches_asking_every_api() {
        let policy = crate::policy::Policy::builtin();
        let apis = &policy.apis;
        let mut index = ApiIndex::default();
        for (i, api) in apis.iter().enumerate() {
            index.entry(api.name.as_str()).or_default().push(i);
        }
        let mut paths = vec!["builtins.open".to_string(), "open".into(), "torch".into()];
        for api in apis {
            let name = &api.name;
            paths.push(name.clone());
            paths.push(format!("{name}.x.y"));
            paths.push(format!("{name}x"));
            if let Some((parent, _)) = name.rsplit_once('.') {
                paths.push(parent.to_string());
            }
        }
        let mut hits = 0;
        for path in &paths {
            let every: Vec<_> = (apis_covering(apis, path).into_iter())
                .map(|(a, n)| (a.name.clone(), n))
                .collect();
            let indexed: Vec<_> = (apis_covering_indexed(apis, &index, path).into_iter())
                .map(|(a, n)| (a.name.clone(), n))
                .collect();
            assert_eq!(every, indexed, "{path}");
            hits += every.len();
        }
        assert!(hits > apis.len(), "the paths reach the APIs ({hits} hits)");
    }
}

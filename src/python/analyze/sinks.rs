//! Calls of policy APIs whose danger depends on their arguments, judged on
//! the arguments' abstract values, bound to the API's real parameters
//! (`arguments.rs`).

use std::ops::Range;

use ruff_python_ast::{self as ast, Expr};

use super::annotations::is_no_namespace;
use super::paths::api_signature;
use super::{Analyzer, span};
use crate::diagnostic::{Diagnostic, Severity};
use crate::policy::ApiCondition;
use crate::python::semantic::{ClassId, ScopeId};
use crate::python::values::{ArgList, BoundCall, Value, Values};
use crate::rules::code as rules;

/// How one condition came out on a call's abstract arguments.
enum Verdict {
    Safe,
    /// Made safe enough by an argument, with a warning that says why not fully.
    Softened(String),
    /// Proven to meet the condition: why.
    Proven(String),
    /// Not proven either way: which value could not be proven and why.
    Unproven(String),
}

fn is_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    [
        "http://", "https://", "ftp://", "rtsp://", "rtmp://", "s3://", "gs://", "hf://",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// A string prefix that could still grow into a URL.
fn may_become_url(prefix: &str) -> bool {
    let lower = prefix.to_ascii_lowercase();
    is_url(&lower)
        || [
            "http://", "https://", "ftp://", "rtsp://", "rtmp://", "s3://", "gs://", "hf://",
        ]
        .iter()
        .any(|p| p.starts_with(&lower))
}

/// A path string that names something outside the submission.
fn is_outside(s: &str) -> bool {
    s.starts_with('/') || s.starts_with('~') || s.split(['/', '\\']).any(|part| part == "..")
}

fn looks_local(s: &str) -> bool {
    s.starts_with("./") || s.starts_with("../") || s.starts_with('/')
}

fn describe_all(values: &[Value]) -> String {
    let mut d: Vec<String> = values.iter().map(Value::describe).collect();
    d.dedup();
    d.join(" or ")
}

impl<'m, 'a> Analyzer<'m, 'a> {
    fn judge_flag(&self, call: &[ArgList<'a>], path: &str, name: &str) -> Verdict {
        let Some((values, origin)) = self.bound_arg_values(call, path, name, None) else {
            return Verdict::Safe;
        };
        let truths: Vec<Option<bool>> = values.iter().map(Value::truth).collect();
        if truths.iter().all(|t| *t == Some(false)) {
            return Verdict::Safe;
        }
        if let Some(v) = values.iter().find(|v| v.truth() == Some(true)) {
            return Verdict::Proven(format!(
                "is called with `{name}` = {} ({origin})",
                v.describe()
            ));
        }
        Verdict::Unproven(format!(
            "`{name}` may be {} ({origin})",
            describe_all(&values)
        ))
    }

    fn judge(&self, when: &ApiCondition, call: &[ArgList<'a>], path: &str) -> Verdict {
        match when {
            ApiCondition::Always => Verdict::Proven("is used".into()),
            ApiCondition::KwargTrue(k) | ApiCondition::KwargNotFalse(k) => {
                self.judge_flag(call, path, k)
            }
            ApiCondition::UnlessTrue(k) => match self.bound_arg_values(call, path, k, None) {
                Some((values, origin)) if values.iter().all(|v| v.truth() == Some(true)) => {
                    Verdict::Softened(format!("is called with `{k}` = True ({origin})"))
                }
                Some((values, origin)) if values.iter().any(|v| v.truth() == Some(false)) => {
                    Verdict::Proven(format!(
                        "is called with `{k}` = {} ({origin})",
                        describe_all(&values)
                    ))
                }
                Some((values, origin)) => {
                    Verdict::Unproven(format!("`{k}` may be {} ({origin})", describe_all(&values)))
                }
                None => Verdict::Proven(format!("is called without `{k}=True`")),
            },
            ApiCondition::LocalPath(param) => {
                let Some((values, origin)) = self.bound_arg_values(call, path, param, Some(0))
                else {
                    return Verdict::Safe;
                };
                let mut unproven = Vec::new();
                for v in &values {
                    match v {
                        Value::LocalStr | Value::LocalPath => {}
                        Value::Str { text, .. } if is_outside(text) => {
                            return Verdict::Proven(format!(
                                "reads {}, outside the submission ({origin})",
                                v.describe()
                            ));
                        }
                        // A relative name: the submission's own file.
                        Value::Str { exact: true, .. } => {}
                        // File objects and buffers opened elsewhere.
                        Value::Bytes | Value::Int(_) => {}
                        // An in-memory file object of model.py: what it
                        // reads is model.py's own code, checked as such.
                        Value::Instance(k) if self.is_plain_file_object(*k) => {}
                        other => unproven.push(other.clone()),
                    }
                }
                if unproven.is_empty() {
                    Verdict::Safe
                } else {
                    Verdict::Unproven(format!(
                        "the file it reads may be {} ({origin}), not proven inside the submission",
                        describe_all(&unproven)
                    ))
                }
            }
            ApiCondition::ArgPrefix { param, prefixes } => {
                let Some((values, origin)) = self.bound_arg_values(call, path, param, Some(0))
                else {
                    return Verdict::Safe;
                };
                // Only a proven prefix counts: model names are routinely
                // variables, and the sandbox run sees the rest.
                for v in &values {
                    if let Value::Str { text, .. } = v
                        && let Some(p) = prefixes.iter().find(|p| text.starts_with(p.as_str()))
                    {
                        return Verdict::Proven(format!(
                            "is called with `{param}` = {} ({origin}), a `{p}` name",
                            v.describe()
                        ));
                    }
                }
                Verdict::Safe
            }
            ApiCondition::Workers => match self.bound_arg_values(call, path, "num_workers", None) {
                None => Verdict::Safe,
                Some((values, origin)) => {
                    if values.iter().all(|v| v.truth() == Some(false)) {
                        Verdict::Safe
                    } else if let Some(v) = values.iter().find(|v| v.truth() == Some(true)) {
                        Verdict::Proven(format!(
                            "is called with {} worker processes ({origin})",
                            v.describe()
                        ))
                    } else {
                        Verdict::Unproven(format!(
                            "`num_workers` may be {} ({origin})",
                            describe_all(&values)
                        ))
                    }
                }
            },
            ApiCondition::UrlArgument => {
                let first = api_signature(path)
                    .and_then(|s| s.split(',').next())
                    .filter(|p| !p.starts_with('*'))
                    .unwrap_or("");
                let Some((values, origin)) = self.bound_arg_values(call, path, first, Some(0))
                else {
                    return Verdict::Safe;
                };
                let mut unproven = Vec::new();
                for v in &values {
                    match v {
                        Value::Str { text, exact: true } if is_url(text) => {
                            return Verdict::Proven(format!("opens the URL {text:?} ({origin})"));
                        }
                        Value::Str { text, exact: false } if is_url(text) => {
                            return Verdict::Proven(format!(
                                "opens a URL starting {text:?} ({origin})"
                            ));
                        }
                        Value::Str { exact: true, .. }
                        | Value::LocalStr
                        | Value::LocalPath
                        | Value::Path
                        | Value::Bytes => {}
                        Value::Str { text, exact: false } if !may_become_url(text) => {}
                        other => unproven.push(other.clone()),
                    }
                }
                if unproven.is_empty() {
                    Verdict::Safe
                } else {
                    Verdict::Unproven(format!(
                        "its source may be {} ({origin}), a URL",
                        describe_all(&unproven)
                    ))
                }
            }
            ApiCondition::RemoteSource => {
                if !path.ends_with(".from_pretrained") {
                    return Verdict::Safe;
                }
                if let Some((local, _)) =
                    self.bound_arg_values(call, path, "local_files_only", None)
                    && local.iter().all(|v| v.truth() == Some(true))
                {
                    return Verdict::Safe;
                }
                let Some((values, origin)) =
                    self.bound_arg_values(call, path, "pretrained_model_name_or_path", Some(0))
                else {
                    return Verdict::Safe;
                };
                let mut unproven = Vec::new();
                for v in &values {
                    match v {
                        Value::LocalStr | Value::LocalPath | Value::Path => {}
                        Value::Str { text, exact: true } if looks_local(text) => {}
                        Value::Str { text, exact: false } if looks_local(text) => {}
                        Value::Str { text, exact: true } => {
                            return Verdict::Proven(format!(
                                "loads {text:?}, a Hub name, without local_files_only=True ({origin})"
                            ));
                        }
                        // A prefix that can no longer become a local path.
                        Value::Str { text, exact: false }
                            if !text.is_empty() && !text.starts_with('.') =>
                        {
                            return Verdict::Proven(format!(
                                "loads a name starting {text:?}, a Hub name, without local_files_only=True ({origin})"
                            ));
                        }
                        other => unproven.push(other.clone()),
                    }
                }
                if unproven.is_empty() {
                    Verdict::Safe
                } else {
                    Verdict::Unproven(format!(
                        "the model to load may be {} ({origin}): a Hub name would be downloaded",
                        describe_all(&unproven)
                    ))
                }
            }
            ApiCondition::Namespaces(params) => self.judge_namespaces(call, path, params),
            ApiCondition::OwnCode(param) => {
                let Some((values, origin)) = self.bound_arg_values(call, path, param, None) else {
                    return Verdict::Safe;
                };
                // A value gasguard cannot see (a decorator's parameter
                // when it decorates methods) is left to the stores into
                // `__annotations__`, which fail closed on such a wrapper
                // (`wrappers.rs`).
                let foreign: Values = values
                    .iter()
                    .filter(|v| !matches!(v, Value::Function(_) | Value::Class(_) | Value::Unknown))
                    .cloned()
                    .collect();
                if foreign.is_empty() {
                    Verdict::Safe
                } else {
                    Verdict::Proven(format!(
                        "`{param}` may be {} ({origin}): annotations written into the wrapper are then evaluated in that object's globals, where names mean something else",
                        describe_all(&foreign)
                    ))
                }
            }
            ApiCondition::StringCode { param, namespace } => {
                if let Verdict::Unproven(why) =
                    self.judge_namespaces(call, path, std::slice::from_ref(namespace))
                {
                    return Verdict::Unproven(why);
                }
                let Some((values, origin)) = self.bound_arg_values(call, path, param, Some(0))
                else {
                    return Verdict::Safe;
                };
                // The listed strings themselves are checked as annotations
                // (`check_call_conditions`).
                let unlisted: Vec<Value> = values
                    .iter()
                    .filter(|v| !matches!(v, Value::Str { exact: true, .. }))
                    .cloned()
                    .collect();
                if unlisted.is_empty() {
                    Verdict::Safe
                } else {
                    Verdict::Unproven(format!(
                        "the string it evaluates may be {} ({origin}), which gasguard cannot list",
                        describe_all(&unlisted)
                    ))
                }
            }
            ApiCondition::WriteMode => {
                let Some((values, origin)) = self.bound_arg_values(call, path, "mode", Some(1))
                else {
                    return Verdict::Safe;
                };
                let mut unproven = Vec::new();
                for v in &values {
                    match v {
                        Value::Str { text, exact: true } if text.contains(['w', 'a', 'x', '+']) => {
                            return Verdict::Proven(format!(
                                "opens a file in mode {text:?} ({origin})"
                            ));
                        }
                        Value::Str { exact: true, .. } => {}
                        other => unproven.push(other.clone()),
                    }
                }
                if unproven.is_empty() {
                    Verdict::Safe
                } else {
                    Verdict::Unproven(format!(
                        "its mode may be {} ({origin})",
                        describe_all(&unproven)
                    ))
                }
            }
        }
    }

    /// A class of model.py whose instances a reader cannot turn into a
    /// path: every base is a class of model.py (or `object`), and none
    /// defines `__fspath__` (`os.fspath` would open what it returns).
    fn is_plain_file_object(&self, class: ClassId) -> bool {
        let mut todo = vec![class];
        let mut seen = Vec::new();
        while let Some(k) = todo.pop() {
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            let c = &self.model.classes[k];
            if self.model.scopes[c.scope]
                .bindings
                .contains_key("__fspath__")
            {
                return false;
            }
            for base in &c.bases {
                self.interp.begin();
                for v in self.interp.eval(base, c.parent) {
                    match v {
                        Value::Class(b) => todo.push(b),
                        Value::Builtin(b) if b == "object" => {}
                        _ => return false,
                    }
                }
            }
        }
        true
    }

    /// Annotations are checked where they are written; a namespace other
    /// than None changes what their names mean.
    fn judge_namespaces(&self, call: &[ArgList<'a>], path: &str, params: &[String]) -> Verdict {
        for p in params {
            if let Some((values, origin)) = self.bound_arg_values(call, path, p, None)
                && !is_no_namespace(&values)
            {
                return Verdict::Unproven(format!(
                    "it evaluates strings in the namespace `{p}`, which may be {} ({origin}), where names mean what gasguard cannot check",
                    describe_all(&values)
                ));
            }
        }
        Verdict::Safe
    }

    /// The strings a `string_code` API evaluates, when listed: each is
    /// checked as the expression it is.
    fn check_code_strings(
        &mut self,
        call: &'a ast::ExprCall,
        lists: &[ArgList<'a>],
        path: &str,
        param: &str,
    ) {
        if let Some((values, _)) = self.bound_arg_values(lists, path, param, Some(0)) {
            for v in &values {
                if let Value::Str { text, exact: true } = v {
                    self.check_string_annotation(text, span(call), 0);
                }
            }
        }
    }

    /// Judges a call's conditional policy APIs on its abstract arguments.
    /// A partial among the callees is a call of its callee with the
    /// arguments it bound first (`values/partial.rs`).
    pub(super) fn check_call_conditions(&mut self, call: &'a ast::ExprCall, callees: &Values) {
        let at = span(call);
        let own = ArgList::of(call, self.scope);
        let mut calls: Vec<BoundCall<'a>> = Vec::new();
        for callee in callees {
            if let Value::Partial(..) = callee {
                self.interp.begin();
                calls.extend(self.interp.unfold_call(callee, own));
                if self.interp.truncated.get() {
                    self.report(
                        Diagnostic::new(&rules::UNRESOLVABLE_NAME, "this call goes through more functools.partial objects than gasguard follows")
                            .help("call the function directly"),
                        at.clone(),
                    );
                }
            } else {
                calls.push(BoundCall {
                    callee: callee.clone(),
                    lists: vec![own],
                });
            }
        }
        for BoundCall { callee, lists } in &calls {
            let lists = lists.as_slice();
            let path = match callee {
                Value::Lib(p) => p.to_string(),
                Value::Builtin(b) => format!("builtins.{b}"),
                _ => continue,
            };
            let conditional: Vec<_> = (self.apis_covering(&path).iter())
                .filter(|(a, _)| a.when != ApiCondition::Always)
                .map(|(a, spelt)| ((*a).clone(), spelt.clone()))
                .collect();
            for (api, spelt) in conditional {
                let is_open = api.name == "open";
                if let ApiCondition::StringCode { param, .. } = &api.when {
                    self.check_code_strings(call, lists, &spelt, param);
                }
                match self.judge(&api.when, lists, &spelt) {
                    Verdict::Safe => {}
                    Verdict::Softened(why) => self.report(
                        Diagnostic::new(&rules::DANGEROUS_API, format!("`{path}` {why}: {}", api.reason))
                            .severity(Severity::Warning)
                            .help("ship the weights as safetensors and load them with safetensors.torch.load_file"),
                        at.clone(),
                    ),
                    Verdict::Proven(why) if is_open => self.report(
                        Diagnostic::new(&rules::OPEN_CALL, format!("open() {why}: {}", api.reason))
                            .severity(Severity::Error)
                            .help("the model must not write files; read-only access needs a literal mode such as \"r\""),
                        at.clone(),
                    ),
                    Verdict::Proven(why) => self.report(
                        Diagnostic::new(&rules::DANGEROUS_API, format!("`{path}` {why}: {}", api.reason))
                            .help("build the model from files inside the submission (weights in the safetensors file)"),
                        at.clone(),
                    ),
                    Verdict::Unproven(why) if is_open => self.report(
                        Diagnostic::new(&rules::OPEN_CALL, format!("open(): {why}; {}", api.reason))
                            .severity(Severity::Error)
                            .help("the model must not write files; read-only access needs a literal mode such as \"r\""),
                        at.clone(),
                    ),
                    Verdict::Unproven(why) => {
                        let (rule, help) = if api.unproven_warns {
                            (&rules::UNPROVEN_NETWORK, "the sandbox run will confirm it; make the value a literal (or local_files_only=True) to settle it statically")
                        } else {
                            (&rules::UNPROVEN_VALUE, "pass a literal value, so that what the call does can be read from the file")
                        };
                        self.report(
                            Diagnostic::new(rule, format!("`{path}`: {why}; {}", api.reason)).help(help),
                            at.clone(),
                        );
                    }
                }
            }
            if path == "builtins.open"
                && matches!(
                    self.judge(&ApiCondition::WriteMode, lists, &path),
                    Verdict::Safe
                )
            {
                self.report(
                    Diagnostic::new(&rules::OPEN_CALL, "open() reads a file")
                        .help("fine for a config.json inside the submission; the sandbox allows nothing else"),
                    at.clone(),
                );
            }
        }
    }

    /// `pathlib.Path` methods judged by the receiver's inferred type, called
    /// or only referenced: writes, renames and deletes always; reads when
    /// the path is not proven inside the submission.
    pub(super) fn check_path_method(&mut self, a: &'a ast::ExprAttribute) {
        const PATH_CHANGES: &[&str] = &[
            "rename",
            "replace",
            "touch",
            "mkdir",
            "symlink_to",
            "hardlink_to",
            "write_text",
            "write_bytes",
            "unlink",
            "rmdir",
            "chmod",
            "lchmod",
        ];
        const PATH_READS: &[&str] = &[
            "read_text",
            "read_bytes",
            "open",
            "iterdir",
            "glob",
            "rglob",
            "readlink",
        ];
        let method = a.attr.as_str();
        if !PATH_CHANGES.contains(&method) && !PATH_READS.contains(&method) {
            return;
        }
        self.interp.begin();
        let receiver = self.interp.eval(&a.value, self.scope);
        let may_be_outside = receiver.iter().any(|v| matches!(v, Value::Path));
        let is_path = may_be_outside || receiver.iter().any(|v| matches!(v, Value::LocalPath));
        if is_path && PATH_CHANGES.contains(&method) {
            self.report(
                Diagnostic::new(
                    &rules::DANGEROUS_API,
                    format!("`Path.{method}()` changes the file system"),
                )
                .help("the model must not write, move or delete files"),
                span(a),
            );
        } else if may_be_outside && PATH_READS.contains(&method) && method != "open" {
            self.report(
                Diagnostic::new(&rules::UNPROVEN_VALUE, format!("`Path.{method}()` reads a path gasguard cannot place inside the submission"))
                    .help("build paths from `weights_path` or `__file__` (`Path(weights_path).parent / \"config.json\"`)"),
                span(a),
            );
        }
    }

    /// Methods judged by their receiver: `.open(mode)` of any receiver by
    /// its mode.
    pub(super) fn check_method_call(&mut self, call: &'a ast::ExprCall, scope: ScopeId) {
        let Expr::Attribute(a) = call.func.as_ref() else {
            return;
        };
        let method = a.attr.as_str();
        if method == "_evaluate" {
            self.check_forward_ref_evaluate(call, scope);
        }
        self.interp.begin();
        let receiver = self.interp.eval(&a.value, scope);
        let is_path = receiver
            .iter()
            .any(|v| matches!(v, Value::Path | Value::LocalPath));
        if method == "open"
            && !receiver
                .iter()
                .any(|v| matches!(v, Value::Lib(_) | Value::Builtin(_)))
        {
            // A positional argument may be a path (`Image.open(p)`) on an
            // untyped receiver: there only a literal mode counts.
            let first_is_mode =
                |e: &Expr| matches!(e, Expr::StringLiteral(m) if is_open_mode(m.value.to_str()));
            let mode_expr = match (call.arguments.args.first(), keyword(call, "mode")) {
                (_, Some(k)) => Some(k),
                (Some(p), None) if is_path || first_is_mode(p) => Some(p),
                _ => None,
            };
            let Some(mode_expr) = mode_expr else { return };
            self.interp.begin();
            let values = self.interp.eval(mode_expr, scope);
            let why = if let Some(Value::Str { text, .. }) = values
                .iter()
                .find(|v| matches!(v, Value::Str { text, exact: true } if text.contains(['w', 'a', 'x', '+'])))
            {
                Some(format!("opens a file in mode {text:?}"))
            } else if values.iter().all(|v| matches!(v, Value::Str { exact: true, .. })) {
                None
            } else {
                Some("opens a file in a mode that is not a literal".to_string())
            };
            if let Some(why) = why {
                self.report(
                    Diagnostic::new(&rules::OPEN_CALL, format!(".open() {why}: writes files outside the submission"))
                        .severity(Severity::Error)
                        .help("the model must not write files; read-only access needs a literal mode such as \"r\""),
                    span(call),
                );
            }
        }
    }

    /// `ref._evaluate(globalns, localns, ...)` on any receiver (a
    /// `typing.ForwardRef` is not followed as a value): its string was
    /// checked in model.py's globals, so other namespaces fail closed.
    fn check_forward_ref_evaluate(&mut self, call: &'a ast::ExprCall, scope: ScopeId) {
        // The first two positions (a `*[...]` literal gives its elements),
        // and the namespace keywords or any `**` unpacking.
        let mut namespaces: Vec<(Values, Range<usize>)> = Vec::new();
        let mut position = 0;
        for e in &call.arguments.args {
            if position >= 2 {
                break;
            }
            self.interp.begin();
            if let Expr::Starred(st) = e {
                match self.interp.positional_elements(&st.value, scope) {
                    Some(elts) => {
                        for v in elts.into_iter().take(2 - position) {
                            namespaces.push((v, span(e)));
                            position += 1;
                        }
                    }
                    None => {
                        namespaces.push((smallvec::smallvec![Value::Unknown], span(e)));
                        break;
                    }
                }
                continue;
            }
            namespaces.push((self.interp.eval(e, scope), span(e)));
            position += 1;
        }
        for k in &call.arguments.keywords {
            self.interp.begin();
            match k.arg.as_ref().map(|a| a.as_str()) {
                Some("globalns" | "localns") => {
                    namespaces.push((self.interp.eval(&k.value, scope), span(&k.value)))
                }
                Some(_) => {}
                None => {
                    let mut v = self.interp.unpacked(&k.value, "globalns", scope, 0);
                    v.extend(self.interp.unpacked(&k.value, "localns", scope, 0));
                    namespaces.push((v, span(&k.value)));
                }
            }
        }
        for (values, at) in namespaces {
            if !is_no_namespace(&values) {
                self.report(
                    Diagnostic::new(&rules::UNPROVEN_VALUE, format!("`._evaluate()` (typing.ForwardRef) evaluates its string in a namespace that may be {}, where names mean what gasguard cannot check", describe_all(&values)))
                        .help("pass None for both namespaces, or annotate in the source"),
                    at,
                );
                return;
            }
        }
    }

    pub(super) fn check_format_string(&mut self, call: &'a ast::ExprCall) {
        let Expr::Attribute(a) = call.func.as_ref() else {
            return;
        };
        let method = a.attr.as_str();
        // "{0.__class__}".format(x): attribute access hidden in a format string.
        if (method == "format" || method == "format_map")
            && let Expr::StringLiteral(s) = a.value.as_ref()
        {
            let text = s.value.to_str();
            if let Some(attr) = format_field_attributes(text).into_iter().find(|f| {
                !super::names::dunder_allowed(f)
                    || super::names::INTROSPECTION_ATTRIBUTES.contains(&f.as_str())
            }) {
                let at: Range<usize> = span(a.value.as_ref());
                self.report(
                    Diagnostic::new(&rules::DUNDER_ACCESS, format!("the format string reads the attribute `{attr}`"))
                        .help("format fields can walk attributes like code does; pass the values you need instead"),
                    at,
                );
            }
        }
    }
}

fn keyword<'e>(call: &'e ast::ExprCall, name: &str) -> Option<&'e Expr> {
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
        .map(|k| &k.value)
}

/// A literal file mode as `open` accepts it ("r", "wb", "a+", "rt"...).
fn is_open_mode(m: &str) -> bool {
    !m.is_empty() && m.len() <= 4 && m.chars().all(|c| "rwxabt+".contains(c))
}

/// Attribute names read by `str.format` replacement fields (`{0.a.b[1]}` → a, b).
fn format_field_attributes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            continue;
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            continue;
        }
        let field: String = chars
            .by_ref()
            .take_while(|&c| c != '}' && c != '!' && c != ':')
            .collect();
        for part in field.split('.').skip(1) {
            out.push(part.split('[').next().unwrap_or("").to_string());
        }
    }
    out
}

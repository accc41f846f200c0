//! P112: what a value passed on where gasguard cannot follow it may not be
//! (a module, an API judged by its arguments or an object carrying one, a
//! path not proven inside the submission), and what a container carries
//! there with it.

use super::*;

impl<'a> Analyzer<'_, 'a> {
    /// P112 for a module, or an API whose danger depends on its arguments,
    /// standing where its value escapes what gasguard follows.
    /// An expression in a position whose value gasguard does not follow (a
    /// container element, an argument to a library, an attribute store, a
    /// `with`/`match`/`for` subject, a value returned or yielded to code
    /// gasguard cannot see): what it may be must not be a module, an API
    /// judged by its arguments (or an object carrying one), or a path not
    /// proven inside the submission.
    pub(super) fn check_escape(&mut self, expr: &'a Expr) {
        let expr = match expr {
            Expr::Starred(s) => &*s.value,
            other => other,
        };
        if is_literal(expr) {
            return;
        }
        let values = self.resolve(expr, span(expr));
        self.record_escaping(&values);
        let reported = self.check_escaping_value(expr, &values, false);
        self.contents_escape(expr, &values, !reported);
    }

    /// P112 for what the containers among `values` hold (nested ones
    /// included), where `expr`, a container, is used in a way gasguard
    /// does not follow.
    pub(super) fn check_contents(&mut self, expr: &Expr, values: &Values) {
        self.contents_escape(expr, values, true);
    }

    /// What the containers among `values` hold escapes with them: the
    /// file's functions among it are recorded (`escapes.rs`), the rest
    /// judged when `report`.
    pub(super) fn contents_escape(&mut self, expr: &Expr, values: &Values, report: bool) {
        // An exception of the file's holds its `.args` (`protocols.rs`).
        let holds = |v: &Value| is_container(v) || self.interp.exception_args_of(v).is_some();
        if !values.iter().any(holds) {
            return;
        }
        let mut held = Values::new();
        let mut seen: HashSet<Value> = HashSet::new();
        let mut queue: Vec<Value> = values.iter().filter(|v| holds(v)).cloned().collect();
        while let Some(c) = queue.pop() {
            if !seen.insert(c.clone()) {
                continue;
            }
            if seen.len() > MAX_CONTAINERS {
                self.report(
                    Diagnostic::new(
                        &rules::UNRESOLVABLE_NAME,
                        "containers nest more deeply than gasguard follows",
                    )
                    .help("keep modules and library functions out of containers"),
                    span(expr),
                );
                return;
            }
            self.interp.begin();
            let inside = match self.interp.exception_args_of(&c) {
                Some(args) => args,
                None => self.interp.contents(&c, 0),
            };
            self.eval_steps += self.interp.steps.get();
            for v in inside {
                if is_container(&v) || self.interp.exception_args_of(&v).is_some() {
                    queue.push(v.clone());
                }
                held.push(v);
            }
        }
        self.record_escaping(&held);
        if report {
            self.check_escaping_value(expr, &held, true);
        }
    }

    /// Reports P112 for the first value that must not escape; says
    /// whether it did.
    pub(super) fn check_escaping_value(
        &mut self,
        expr: &Expr,
        values: &Values,
        held: bool,
    ) -> bool {
        let r = span(expr);
        // Said of a container: what it holds escapes with it.
        let holds = if held { "holds a value that " } else { "" };
        if values.iter().any(|v| matches!(v, Value::Path)) {
            self.report(
                Diagnostic::new(&rules::MODULE_AS_VALUE, format!("{}a path gasguard cannot place inside the submission is passed on where its later use cannot be followed", if held { "a container holding " } else { "" }))
                    .help("build paths from `weights_path` or `__file__`, and use them where they are made"),
                r.clone(),
            );
            return true;
        }
        for p in paths(values) {
            let escaping = self.escaping_path(&p);
            if let Some(paths::EscapingPath::Module) = escaping {
                let shown = dotted(expr).unwrap_or_else(|| p.clone());
                let what = if held {
                    format!("`{shown}` holds the module `{p}` and is used")
                } else {
                    format!("the module `{p}` (`{shown}`) is used")
                };
                self.report(
                    Diagnostic::new(&rules::MODULE_AS_VALUE, format!("{what} as a value, where gasguard cannot follow what is reached through it"))
                        .help("use the module's attributes directly (`torch.nn.Linear`) or give it a name (`nn = torch.nn`)"),
                    r,
                );
                return true;
            }
            // An API judged by its arguments, or an object that carries a
            // policy API (`paths::EscapingPath`: `transformers.AutoConfig`
            // carries `.from_pretrained`, `torch.ops` carries `.load_library`).
            if let Some(paths::EscapingPath::Conditional) = escaping {
                // Held by a container or a partial built in place: the
                // expression has no name of its own; its text is shown.
                let shown = dotted(expr).unwrap_or_else(|| {
                    if held {
                        let text = self.source.get(r.clone()).unwrap_or("");
                        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                        match text.char_indices().nth(60) {
                            Some((cut, _)) => format!("{}...", &text[..cut]),
                            None => text.to_string(),
                        }
                    } else {
                        p.clone()
                    }
                });
                self.report(
                    Diagnostic::new(&rules::MODULE_AS_VALUE, if held {
                        format!("`{shown}` {holds}is `{p}` and is passed on: whether a call of it downloads, unpickles or runs code depends on arguments gasguard can then no longer see")
                    } else {
                        format!("`{p}` (`{shown}`) is passed on as a value: whether a call of it downloads, unpickles or runs code depends on arguments gasguard can then no longer see")
                    })
                        .help("call it directly where you need it"),
                    r,
                );
                return true;
            }
        }
        false
    }
}

//! `functools.partial(f, *args, **keywords)` as a value: the callee and
//! the arguments it binds. Calling one is a call of `f` with the bound
//! positional arguments first and every keyword source counted
//! (`analyze/sinks.rs` binds them to `f`'s real signature, one argument
//! list after the other); `.func`, `.args` and `.keywords` read what was
//! bound. Wherever a partial goes that gasguard does not follow, what it
//! holds goes with it (`contents`), like a container's elements.

use super::*;

/// The constructor followed, by its canonical path.
pub const PARTIAL_PATH: &str = "functools.partial";

/// Attributes of a partial object that are followed where they are read
/// (`.keywords` is read as a value too, but it is the partial's own dict:
/// a change to it changes later calls, so a read of it is judged as a use
/// of the partial that gasguard does not follow).
pub const PARTIAL_ATTRIBUTES: &[&str] = &["func", "args"];

/// Partials of partials unfolded this deep; deeper, the callee is unknown
/// (whose calls the analyzer does not judge, so the partial's creation
/// fails closed where it passes an API on: see `partial_callee_followed`).
const MAX_NESTING: usize = 8;

/// One argument list of a call, in the scope its expressions belong to:
/// a call's own arguments, or those a partial bound where it was made.
#[derive(Clone, Copy)]
pub struct ArgList<'a> {
    pub args: &'a [Expr],
    pub keywords: &'a [ast::Keyword],
    pub scope: ScopeId,
}

impl<'a> ArgList<'a> {
    /// The arguments of `call`, evaluated in `scope`.
    pub fn of(call: &'a ast::ExprCall, scope: ScopeId) -> Self {
        ArgList {
            args: &call.arguments.args,
            keywords: &call.arguments.keywords,
            scope,
        }
    }
}

/// A call as the callee receives it: partials unfolded into their callee
/// and the argument lists they bound, the call's own last.
pub struct BoundCall<'a> {
    pub callee: Value,
    pub lists: Vec<ArgList<'a>>,
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Whether a `functools.partial(...)` call makes a partial gasguard
    /// follows: the callee is the first argument, not unpacked.
    pub fn is_partial_call(c: &ast::ExprCall) -> bool {
        matches!(c.arguments.args.first(), Some(e) if !matches!(e, Expr::Starred(_)))
    }

    /// The value of a `functools.partial(...)` call.
    pub(super) fn make_partial(&self, c: &'a ast::ExprCall, scope: ScopeId) -> Value {
        if !Self::is_partial_call(c) {
            return Value::Unknown;
        }
        // A call and the call of its result start at the same offset
        // (`partial(a)(b)`): the first one made keeps it, the other is
        // not followed.
        let start = u32::from(c.range().start());
        let mut partials = self.partials.borrow_mut();
        match partials.get(&start) {
            Some(made) if !std::ptr::eq(*made, c) => return Value::Unknown,
            Some(_) => {}
            None => {
                partials.insert(start, c);
            }
        }
        Value::Partial(start, scope)
    }

    /// Whether `c` made a partial this interpreter follows (see
    /// `make_partial`).
    pub fn follows_partial(&self, c: &ast::ExprCall) -> bool {
        let start = u32::from(c.range().start());
        self.partials
            .borrow()
            .get(&start)
            .is_some_and(|made| std::ptr::eq(*made, c))
    }

    /// The call that made a partial, with the arguments it binds (after
    /// the callee).
    fn partial_site(&self, start: u32, scope: ScopeId) -> Option<(&'a Expr, ArgList<'a>)> {
        let c = self.partials.borrow().get(&start).copied()?;
        let (callee, rest) = c.arguments.args.split_first()?;
        Some((
            callee,
            ArgList {
                args: rest,
                keywords: &c.arguments.keywords,
                scope,
            },
        ))
    }

    /// What a partial's `.func`, `.args` and `.keywords` may be.
    pub(super) fn partial_attribute(
        &self,
        start: u32,
        scope: ScopeId,
        attr: &str,
        depth: usize,
    ) -> Values {
        let Some((callee, bound)) = self.partial_site(start, scope) else {
            return one(Value::Unknown);
        };
        match attr {
            "func" => self.eval_in(callee, scope, depth + 1),
            "args" => {
                let mut held = Values::new();
                for a in bound.args {
                    match a {
                        Expr::Starred(s) => {
                            for v in self.eval_in(&s.value, scope, depth + 1) {
                                held.extend(self.iterate(&v, depth + 1));
                            }
                        }
                        e => held.extend(self.eval_in(e, scope, depth + 1)),
                    }
                }
                one(Value::Items(Box::new(normalize(held))))
            }
            // A dict of the bound keywords: any of their names and values
            // under any key.
            "keywords" => {
                let mut held = Values::new();
                for k in bound.keywords {
                    let values = self.eval_in(&k.value, scope, depth + 1);
                    match &k.arg {
                        Some(name) => {
                            held.push(Value::Str {
                                text: name.as_str().into(),
                                exact: true,
                            });
                            held.extend(values);
                        }
                        None => {
                            for v in values {
                                held.extend(self.contents(&v, depth + 1));
                                if !Self::is_tracked(&v) && !matches!(v, Value::ConfigKwargs) {
                                    held.push(Value::Unknown);
                                }
                            }
                        }
                    }
                }
                one(Value::Items(Box::new(normalize(held))))
            }
            _ => one(Value::Unknown),
        }
    }

    /// Everything a partial holds: its callee and the values it binds
    /// (what escapes with it).
    pub(super) fn partial_contents(&self, start: u32, scope: ScopeId, depth: usize) -> Values {
        let Some((callee, bound)) = self.partial_site(start, scope) else {
            return one(Value::Unknown);
        };
        let mut out = self.eval_in(callee, scope, depth + 1);
        for a in bound.args {
            let e = match a {
                Expr::Starred(s) => &*s.value,
                e => e,
            };
            out.extend(self.eval_in(e, scope, depth + 1));
        }
        for k in bound.keywords {
            out.extend(self.eval_in(&k.value, scope, depth + 1));
        }
        out
    }

    /// The calls that calling `callee` with `outer` makes: a partial is
    /// unfolded into its callee's values, its bound argument lists first.
    pub fn unfold_call(&self, callee: &Value, outer: ArgList<'a>) -> Vec<BoundCall<'a>> {
        let mut out = Vec::new();
        self.unfold(callee, vec![outer], 0, &mut out);
        out
    }

    fn unfold(
        &self,
        callee: &Value,
        lists: Vec<ArgList<'a>>,
        nesting: usize,
        out: &mut Vec<BoundCall<'a>>,
    ) {
        let Value::Partial(start, scope) = callee else {
            out.push(BoundCall {
                callee: callee.clone(),
                lists,
            });
            return;
        };
        let site = self.partial_site(*start, *scope);
        let Some((inner, bound)) = site.filter(|_| nesting < MAX_NESTING) else {
            self.truncated.set(true);
            out.push(BoundCall {
                callee: Value::Unknown,
                lists,
            });
            return;
        };
        for v in self.eval_in(inner, *scope, 1) {
            let mut all = Vec::with_capacity(lists.len() + 1);
            all.push(bound);
            all.extend(lists.iter().copied());
            self.unfold(&v, all, nesting + 1, out);
        }
    }
}

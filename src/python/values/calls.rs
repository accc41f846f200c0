//! Calls: of the file's functions (through their returns) and classes, of
//! path and string methods that keep what they derive from, of `dict`,
//! `str`, `type`, and of builtins and methods that give back what a
//! container holds.

use super::*;

impl<'m, 'a> Interpreter<'m, 'a> {
    pub(super) fn call(&self, c: &'a ast::ExprCall, scope: ScopeId, depth: usize) -> Values {
        // A method call's receiver is evaluated once, for all three uses
        // below (derived paths and strings, containers, the callee).
        let mut method_receiver = None;
        // Methods of paths and strings keep what they are derived from.
        if let Expr::Attribute(a) = c.func.as_ref() {
            let method = a.attr.as_str();
            let receiver = self.eval_in(&a.value, scope, depth + 1);
            let derives = |r: &Value| match r {
                Value::LocalPath | Value::Path => PATH_DERIVING.contains(&method),
                Value::LocalStr | Value::Str { .. } => STR_DERIVING.contains(&method),
                _ => false,
            };
            if !receiver.is_empty() && receiver.iter().all(derives) {
                // Arguments that keep a path inside the submission: literal
                // relative names without `..` (`joinpath("config.json")`);
                // only a receiver inside the submission asks.
                let args_stay_inside = || {
                    c.arguments.keywords.is_empty()
                        && c.arguments.args.iter().all(|e| {
                            self.eval_in(e, scope, depth + 1).iter().all(
                            |v| matches!(v, Value::Str { text, exact: true } if stays_inside(text)),
                        )
                        })
                };
                let inside = std::cell::OnceCell::new();
                let inside = || *inside.get_or_init(args_stay_inside);
                return receiver
                    .iter()
                    .map(|r| match r {
                        Value::LocalPath if inside() => Value::LocalPath,
                        Value::LocalPath | Value::Path => Value::Path,
                        Value::LocalStr if inside() => Value::LocalStr,
                        _ => Value::Str {
                            text: "".into(),
                            exact: false,
                        },
                    })
                    .collect();
            }
            // What comes out of a container gasguard follows (`d.get("k")`,
            // `l.pop()`, `d.values()`).
            if matches!(
                method,
                "get" | "pop" | "setdefault" | "keys" | "values" | "items" | "copy"
            ) && receiver.iter().any(|v| {
                matches!(
                    v,
                    Value::Dict(..) | Value::ConfigKwargs | Value::Seq(..) | Value::Items(_)
                )
            }) {
                return self.container_method(method, c, &receiver, scope, depth);
            }
            method_receiver = Some((receiver, &a.attr));
        }
        let callees = match &method_receiver {
            Some((receiver, attr)) => self.attribute_of_values(receiver, attr.as_str(), depth + 1),
            None => self.eval_in(&c.func, scope, depth + 1),
        };
        let mut out = Values::new();
        for callee in callees {
            match callee {
                Value::Function(f) => {
                    let func = &self.model.functions[f];
                    if func.is_async {
                        out.push(self.coroutine(f, depth)); // `protocols.rs`
                        continue;
                    }
                    if !func.yields.is_empty() {
                        out.push(self.generator(f, depth)); // `protocols.rs`
                        continue;
                    }
                    out.extend(self.results_of(&[f], depth));
                }
                Value::Class(k) => out.push(Value::Instance(k)),
                Value::Lib(p) if &*p == PARTIAL_PATH => out.push(self.make_partial(c, scope)),
                Value::Lib(p) if PATH_TYPES.contains(&&*p) => {
                    let local = self.first_arg_local(c, scope, depth);
                    out.push(if local { Value::LocalPath } else { Value::Path });
                }
                Value::Builtin(b) if b == "dict" => {
                    let start = u32::from(c.range().start());
                    self.dicts.borrow_mut().insert(start, DictSource::Call(c));
                    out.push(Value::Dict(start, scope));
                }
                // `type(self)` is the class.
                Value::Builtin(b) if b == "type" && c.arguments.args.len() == 1 => {
                    for v in self.eval_in(&c.arguments.args[0], scope, depth + 1) {
                        out.push(match v {
                            Value::Instance(k) => Value::Class(k),
                            _ => Value::Unknown,
                        });
                    }
                }
                Value::Builtin(b) if CONTAINER_BUILTINS.contains(&b) => {
                    out.extend(self.container_builtin(&b, c, scope, depth))
                }
                Value::Builtin(b) if b == "str" => {
                    let local = self.first_arg_local(c, scope, depth);
                    out.push(if local {
                        Value::LocalStr
                    } else {
                        Value::Str {
                            text: "".into(),
                            exact: false,
                        }
                    });
                }
                _ => out.push(Value::Unknown),
            }
        }
        out
    }

    /// What `list(x)`, `enumerate(x)`, `next(it)`... give: containers
    /// holding (or the elements of) what their arguments hold.
    pub(super) fn container_builtin(
        &self,
        name: &str,
        c: &'a ast::ExprCall,
        scope: ScopeId,
        depth: usize,
    ) -> Values {
        let args = &c.arguments.args;
        if !c.arguments.keywords.is_empty() && !matches!(name, "sorted" | "min" | "max") {
            return one(Value::Unknown);
        }
        if args.iter().any(|a| matches!(a, Expr::Starred(_))) {
            return one(Value::Unknown);
        }
        let elements = |e: &'a Expr| -> Values {
            let mut out = Values::new();
            for v in self.eval_in(e, scope, depth + 1) {
                out.extend(self.iterate(&v, depth + 1));
            }
            normalize(out)
        };
        let items = |v: Values| Value::Items(Box::new(v));
        match (name, &args[..]) {
            ("list" | "tuple" | "set" | "frozenset" | "sorted" | "reversed" | "iter", []) => {
                one(items(Values::new()))
            }
            ("list" | "tuple" | "set" | "frozenset" | "sorted" | "reversed" | "iter", [x]) => {
                one(items(elements(x)))
            }
            ("min" | "max", [x]) => elements(x),
            ("min" | "max", xs) => xs
                .iter()
                .flat_map(|x| self.eval_in(x, scope, depth + 1))
                .collect(),
            ("next", [x]) => elements(x),
            ("next", [x, d]) => {
                let mut out = elements(x);
                out.extend(self.eval_in(d, scope, depth + 1));
                out
            }
            // (index, element) pairs: a number, and what the element may be.
            ("enumerate", [x]) | ("enumerate", [x, _]) => {
                let mut pair = elements(x);
                pair.push(Value::Float);
                one(items(smallvec::smallvec![items(normalize(pair))]))
            }
            ("zip", xs) => {
                let mut tuple = Values::new();
                for x in xs {
                    tuple.extend(elements(x));
                }
                one(items(smallvec::smallvec![items(normalize(tuple))]))
            }
            // Any other use: over-approximated by everything the arguments
            // hold.
            (_, xs) => {
                let mut out = one(Value::Unknown);
                for x in xs {
                    out.extend(elements(x));
                }
                out
            }
        }
    }

    /// The result of a reading method of containers gasguard follows.
    pub(super) fn container_method(
        &self,
        method: &str,
        c: &'a ast::ExprCall,
        receiver: &Values,
        scope: ScopeId,
        depth: usize,
    ) -> Values {
        let args = &c.arguments.args;
        let key = match args.first() {
            Some(Expr::StringLiteral(k)) => Some(k.value.to_str()),
            _ => None,
        };
        let default = || match args.get(1) {
            Some(d) => self.eval_in(d, scope, depth + 1),
            None => one(Value::None),
        };
        let mut out = Values::new();
        for v in receiver {
            // An untracked container may be a dict (a comprehension's).
            let mapping = matches!(v, Value::Dict(..) | Value::ConfigKwargs | Value::Items(_));
            match method {
                "get" | "pop" | "setdefault" if mapping => match key {
                    Some(k) => match self.entry(v, k) {
                        Entry::Found(vals) => out.extend(vals),
                        Entry::Maybe(vals) => {
                            out.extend(vals);
                            out.extend(default());
                        }
                        Entry::Absent => out.extend(default()),
                        Entry::Unknown => out.push(Value::Unknown),
                    },
                    None => {
                        out.extend(self.values_of(v, depth + 1));
                        out.extend(default());
                    }
                },
                "pop" => out.extend(self.iterate(v, depth + 1)),
                "keys" if mapping => out.push(Value::Items(Box::new(normalize(
                    self.iterate(v, depth + 1),
                )))),
                "values" if mapping => out.push(Value::Items(Box::new(normalize(
                    self.values_of(v, depth + 1),
                )))),
                "items" if mapping => {
                    let pair = Value::Items(Box::new(self.contents(v, depth + 1)));
                    out.push(Value::Items(Box::new(smallvec::smallvec![pair])));
                }
                "copy" => out.push(Value::Items(Box::new(self.contents(v, depth + 1)))),
                // Not a container: a library object's method (judged where
                // it is called), or an AttributeError.
                // Not a method of this container: an AttributeError.
                _ => out.push(Value::Unknown),
            }
        }
        out
    }
}

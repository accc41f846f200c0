//! Binding targets: assignment targets, the unpacking of `for`, `with` and
//! comprehension targets, and `match` patterns, each name bound to the part
//! of the value it receives.

use super::*;

impl<'a> Builder<'a> {
    /// Binds an assignment target. `value` is the assigned expression when
    /// the whole target receives it.
    pub(super) fn bind_target(
        &mut self,
        target: &'a Expr,
        value: Option<&'a Expr>,
        unknown: &'static str,
    ) {
        match target {
            Expr::Name(n) => {
                let kind = match value {
                    Some(v) => BindingKind::Value {
                        value: v,
                        scope: self.current,
                    },
                    None => BindingKind::Unknown(unknown),
                };
                self.bind(n.id.as_str(), kind, n.range());
            }
            Expr::Tuple(_) | Expr::List(_) => {
                let Some(elts) = super::sequence_elements(target) else {
                    return;
                };
                // `a, b = x, y` pairs up; anything else is unknown per element.
                let pairs = value.and_then(super::sequence_elements);
                match pairs {
                    Some(vs)
                        if vs.len() == elts.len()
                            && !elts
                                .iter()
                                .chain(vs.iter())
                                .any(|e| matches!(e, Expr::Starred(_))) =>
                    {
                        for (t, v) in elts.iter().zip(vs.iter()) {
                            self.bind_target(t, Some(v), unknown);
                        }
                    }
                    _ => match value {
                        Some(v) => {
                            let scope = self.current;
                            self.bind_selected(target, v, scope, Vec::new());
                        }
                        None => {
                            for t in elts {
                                self.bind_target(t, None, "an unpacked value");
                            }
                        }
                    },
                }
            }
            Expr::Starred(s) => self.bind_target(&s.value, None, "an unpacked value"),
            Expr::Subscript(s) => {
                let added = match value {
                    Some(value) => Added::Value {
                        value,
                        key: match s.slice.as_ref() {
                            Expr::StringLiteral(k) => Some(k.value.to_str()),
                            _ => None,
                        },
                    },
                    None => Added::Unknown,
                };
                self.model.mutated.push(Mutation {
                    receiver: &s.value,
                    scope: self.current,
                    added,
                });
                self.expr(&s.value);
                self.expr(&s.slice);
            }
            Expr::Attribute(a) => {
                self.expr(&a.value);
                let binding = Binding {
                    kind: match value {
                        Some(v) => BindingKind::Value {
                            value: v,
                            scope: self.current,
                        },
                        None => BindingKind::Unknown(unknown),
                    },
                    guards: self.guards.clone(),
                    at: a.range(),
                };
                let self_of = match (a.value.as_ref(), self.func) {
                    (Expr::Name(n), Some(f)) => {
                        let f = &self.model.functions[f];
                        f.class
                            .filter(|_| f.params.first().is_some_and(|p| p.name == n.id.as_str()))
                    }
                    _ => None,
                };
                self.model
                    .attribute_stores
                    .entry(a.attr.to_string())
                    .or_default()
                    .push(AttributeStore { binding, self_of });
            }
            other => self.expr(other),
        }
    }

    /// Binds the names in `target` to the parts of `value` (evaluated in
    /// `scope`) that `path` and each name's position lead to.
    pub(super) fn bind_selected(
        &mut self,
        target: &'a Expr,
        value: &'a Expr,
        scope: ScopeId,
        path: Vec<Step>,
    ) {
        match target {
            Expr::Name(n) => {
                let kind = BindingKind::Select { value, scope, path };
                self.bind(n.id.as_str(), kind, n.range());
            }
            Expr::Tuple(_) | Expr::List(_) => {
                let Some(elts) = super::sequence_elements(target) else {
                    return;
                };
                let star = elts.iter().position(|e| matches!(e, Expr::Starred(_)));
                for (at, t) in elts.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(Step::Index {
                        at,
                        len: elts.len(),
                        star,
                    });
                    let t = match t {
                        Expr::Starred(s) => &*s.value,
                        other => other,
                    };
                    self.bind_selected(t, value, scope, p);
                }
            }
            other => self.bind_target(other, None, "an unpacked value"),
        }
    }

    /// Binds a pattern's captures to the parts of the subject they match
    /// (`at`: where this pattern sits; `None` once that is not followed).
    pub(super) fn pattern(&mut self, p: &'a Pattern, at: Option<Subject<'a>>) {
        let capture = |at: &Option<Subject<'a>>| match at {
            Some(s) => BindingKind::Select {
                value: s.value,
                scope: s.scope,
                path: s.path.clone(),
            },
            None => BindingKind::Unknown("a match capture"),
        };
        match p {
            Pattern::MatchValue(v) => self.expr(&v.value),
            Pattern::MatchSingleton(_) => {}
            Pattern::MatchSequence(s) => {
                let star = s
                    .patterns
                    .iter()
                    .position(|p| matches!(p, Pattern::MatchStar(_)));
                for (i, sub) in s.patterns.iter().enumerate() {
                    let step = Step::Index {
                        at: i,
                        len: s.patterns.len(),
                        star,
                    };
                    self.pattern(sub, at.as_ref().map(|a| a.then(step)));
                }
            }
            Pattern::MatchMapping(m) => {
                m.keys.iter().for_each(|k| self.expr(k));
                for (k, sub) in m.keys.iter().zip(&m.patterns) {
                    let step = match k {
                        Expr::StringLiteral(s) => at
                            .as_ref()
                            .map(|a| a.then(Step::Key(s.value.to_str().to_string()))),
                        _ => None,
                    };
                    self.pattern(sub, step);
                }
                if let Some(r) = &m.rest {
                    // The rest of the mapping: taken as the whole of it.
                    let kind = capture(&at);
                    self.bind(r.as_str(), kind, r.range());
                }
            }
            Pattern::MatchClass(c) => {
                self.expr(&c.cls);
                // Positional sub-patterns read the attributes `__match_args__` names.
                c.arguments
                    .patterns
                    .iter()
                    .for_each(|p| self.pattern(p, None));
                for k in &c.arguments.keywords {
                    // A keyword pattern reads the attribute.
                    self.reference(k.attr.as_str(), false);
                    let step = Step::Attr(k.attr.to_string());
                    self.pattern(&k.pattern, at.as_ref().map(|a| a.then(step)));
                }
            }
            Pattern::MatchStar(s) => {
                if let Some(n) = &s.name {
                    let kind = capture(&at);
                    self.bind(n.as_str(), kind, n.range());
                }
            }
            Pattern::MatchAs(a) => {
                if let Some(p) = &a.pattern {
                    self.pattern(p, at.clone());
                }
                if let Some(n) = &a.name {
                    let kind = capture(&at);
                    self.bind(n.as_str(), kind, n.range());
                }
            }
            Pattern::MatchOr(o) => o.patterns.iter().for_each(|p| self.pattern(p, at.clone())),
        }
    }
}

/// A `match` subject and the way into it a pattern sits at.
#[derive(Clone)]
pub(super) struct Subject<'a> {
    pub(super) value: &'a Expr,
    pub(super) scope: ScopeId,
    pub(super) path: Vec<Step>,
}

impl<'a> Subject<'a> {
    fn then(&self, step: Step) -> Subject<'a> {
        let mut path = self.path.clone();
        path.push(step);
        Subject {
            value: self.value,
            scope: self.scope,
            path,
        }
    }
}

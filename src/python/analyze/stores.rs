//! Values stored on model.py's own objects (`self.fn = open`,
//! `_fn.payload = v`, a property's return). Libraries call what they find
//! on the objects they are given (`model.eval()` calls `self.train`), so an
//! API judged by its arguments, or a path not proven inside the
//! submission, may be stored only where no library can find it: on an
//! instance of a class of model.py that no library can reach, or on a
//! function of model.py that does not escape. Whether a library can reach
//! one is known once every flow of the round is seen (`escapes.rs` records
//! the instances that reach a position gasguard does not follow), so the
//! judgement waits for the end of the round.

use crate::python::semantic::{BindingKind, ClassId};

use super::*;

/// Methods that take attribute stores and reads elsewhere than the
/// instance's dict: a class defining one is not followed.
const ATTRIBUTE_HOOKS: &[&str] = &[
    "__setattr__",
    "__getattr__",
    "__getattribute__",
    "__delattr__",
    "__slots__",
    "__dict__",
];

/// A value stored on the file's own object, judged at the end of the round.
pub(super) struct PendingStore<'a> {
    expr: &'a Expr,
    /// What it may be, partials' contents included, modules left out.
    kept: Values,
    /// What it is stored on.
    receivers: Values,
    scope: ScopeId,
    dead: usize,
}

impl<'a> Analyzer<'_, 'a> {
    /// Keeps a stored value to be judged once the round knows which
    /// receivers a library can reach.
    pub(super) fn defer_stored_value(&mut self, expr: &'a Expr, kept: Values, receivers: Values) {
        self.pending_stores.push(PendingStore {
            expr,
            kept,
            receivers,
            scope: self.scope,
            dead: self.dead,
        });
    }

    /// Instances of `class` and of its family may reach a library.
    pub(super) fn instances_reach_library(&mut self, class: ClassId) {
        for k in self.interp.class_family(class) {
            self.reachable_instances.insert(k);
        }
    }

    /// Why a library may find what is stored on one of `receivers`, if it
    /// may.
    fn receiver_reaches_library(&mut self, receivers: &Values) -> Option<String> {
        for v in receivers {
            let why = match v {
                Value::Instance(c) => self.interp.class_family(*c).into_iter().find_map(|k| {
                    let class = &self.model.classes[k];
                    let name = &class.name;
                    let hook = ATTRIBUTE_HOOKS
                        .iter()
                        .find(|h| self.model.scopes[class.scope].bindings.contains_key(**h));
                    self.interp.begin();
                    if self.interp.has_library_base(k) {
                        Some(format!("`{name}` has a base outside model.py"))
                    } else if self.reachable_instances.contains(&k) {
                        Some(format!("an instance of `{name}` (or the class, or a bound method) reaches code gasguard does not follow"))
                    } else if !class.decorators.is_empty() {
                        Some(format!("`{name}` is decorated"))
                    } else {
                        hook.map(|h| format!("`{name}` defines `{h}`"))
                    }
                }),
                Value::Function(f) if self.escaping.contains(f) || self.interp.is_escaped(*f) => {
                    Some(format!(
                        "the function `{}` is passed on where gasguard does not follow it",
                        self.model.functions[*f].name
                    ))
                }
                Value::Function(_) => None,
                other => Some(format!("it is stored on {}", other.describe())),
            };
            if why.is_some() {
                return why;
            }
        }
        None
    }

    /// A class body's attributes are found on its instances too (a
    /// partial is no descriptor: `train = partial(...)` in an nn.Module is
    /// what `model.eval()` calls): judged as stores on them.
    fn defer_class_attributes(&mut self) {
        let model = self.model;
        let saved = (self.scope, self.dead);
        self.dead = 0;
        for (k, class) in model.classes.iter().enumerate() {
            self.scope = class.scope;
            for (name, bindings) in &model.scopes[class.scope].bindings {
                for b in bindings {
                    let value = match &b.kind {
                        BindingKind::Value { value, .. } | BindingKind::Select { value, .. } => {
                            *value
                        }
                        _ => continue,
                    };
                    if !self.interp.guards_may_hold(&b.guards) {
                        continue;
                    }
                    self.interp.begin();
                    let values = self.interp.name(class.scope, name, 0);
                    self.eval_steps += self.interp.steps.get();
                    let kept: Values = self
                        .with_partial_contents(values)
                        .into_iter()
                        .filter(|v| !matches!(v, Value::Lib(p) if is_module_path(p)))
                        .collect();
                    self.defer_stored_value(value, kept, smallvec::smallvec![Value::Instance(k)]);
                }
            }
        }
        (self.scope, self.dead) = saved;
    }

    /// Judges the stored values kept this round: P112 for an API judged by
    /// its arguments, or a path not proven inside the submission, stored
    /// where a library may find it.
    pub(super) fn judge_pending_stores(&mut self) {
        self.defer_class_attributes();
        let pending = std::mem::take(&mut self.pending_stores);
        let (scope, dead) = (self.scope, self.dead);
        for p in &pending {
            if let Some(why) = self.receiver_reaches_library(&p.receivers) {
                self.scope = p.scope;
                self.dead = p.dead;
                let before = self.diags.len();
                if self.check_escaping_value(p.expr, &p.kept, false)
                    && let Some(d) = self.diags.get_mut(before)
                {
                    d.message
                        .push_str(&format!(" (stored where a library may find it: {why})"));
                    d.help = Some("keep it on a helper object of model.py that no library receives, or call it directly".into());
                }
            }
        }
        self.scope = scope;
        self.dead = dead;
    }
}

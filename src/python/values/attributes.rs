//! Attribute reads: of modules, of the file's classes and instances (their
//! bodies, bases, stored values and properties), and of values gasguard
//! cannot follow (what the file stores under that name).

use super::*;

impl<'m, 'a> Interpreter<'m, 'a> {
    pub(super) fn attribute(&self, base: &Value, attr: &str, depth: usize) -> Values {
        match base {
            Value::Lib(p) => one(Value::Lib(memo::join_attribute(p, attr))),
            Value::Class(c) => self.class_attribute(*c, attr, depth, &mut Vec::new()),
            Value::Instance(c) => {
                // `self.pos = self.pos + 1`: a read back into itself adds
                // nothing new (and is not remembered: see `cycle`).
                if !self
                    .active_attributes
                    .borrow_mut()
                    .insert((*c, attr.to_string()))
                {
                    self.cycle.set(true);
                    return Values::new();
                }
                let out = self.instance_attribute(*c, attr, depth);
                self.active_attributes
                    .borrow_mut()
                    .remove(&(*c, attr.to_string()));
                out
            }
            // A function's own attributes: what the file stores on
            // receivers other than `self` under that name.
            Value::Function(_) => {
                let mut out = Values::new();
                self.stored_under(None, attr, depth, &mut out);
                if out.is_empty() {
                    out.push(Value::Unknown);
                }
                out
            }
            Value::Partial(start, scope) => self.partial_attribute(*start, *scope, attr, depth),
            Value::LocalPath | Value::Path => match attr {
                "parent" => one(base.clone()),
                _ => one(Value::Unknown),
            },
            Value::Items(_) => self.group_attribute(base, attr), // `protocols.rs`
            Value::Unknown => self.attribute_of_unknown(attr, depth),
            _ => one(Value::Unknown),
        }
    }

    /// An attribute of a value gasguard cannot follow. That value may be
    /// one of the file's own objects handed back by a library
    /// (`nn.Identity()(holder).lib`, an element of a library's result), so
    /// the attribute may be anything the file stores under that name or a
    /// class body of the file binds to it (a property: what its getter
    /// returns). Methods are left out: read from an unknown value they
    /// escape (`analyze/escapes.rs`), and what they return is judged there.
    pub(super) fn attribute_of_unknown(&self, attr: &str, depth: usize) -> Values {
        let mut out = one(Value::Unknown);
        for s in self.model.attribute_stores.get(attr).into_iter().flatten() {
            if self.guards_hold_at(&s.binding.guards, depth) {
                out.extend(self.binding_values(&s.binding.kind, depth + 1));
            }
        }
        // A plain method (no decorator) gives nothing here; a decorated
        // one may be a property, whose getter's returns are the value.
        let plain_method = |b: &Binding| match b.kind {
            BindingKind::Function(f) => self.model.functions[f].decorators.is_empty(),
            _ => false,
        };
        let classes = self.class_body_names.get_or_init(|| {
            let mut by_name: HashMap<&'m str, Vec<ClassId>> = HashMap::new();
            for (id, class) in self.model.classes.iter().enumerate() {
                for (name, bindings) in &self.model.scopes[class.scope].bindings {
                    if !bindings.iter().all(plain_method) {
                        by_name.entry(name.as_str()).or_default().push(id);
                    }
                }
            }
            by_name
        });
        for &class in classes.get(attr).into_iter().flatten() {
            let scope = self.model.classes[class].scope;
            let bindings = self.model.scopes[scope].bindings.get(attr);
            for b in bindings.into_iter().flatten() {
                if plain_method(b) || !self.guards_hold_at(&b.guards, depth) {
                    continue;
                }
                match b.kind {
                    BindingKind::Function(f) if self.is_property(f) => {
                        out.extend(self.results_of(&[f], depth))
                    }
                    // Other decorated methods escape when read from an
                    // unknown value, like plain ones.
                    BindingKind::Function(_) => {}
                    _ => out.extend(self.binding_values(&b.kind, depth + 1)),
                }
            }
        }
        normalize(out)
    }

    /// What the file may have stored as `attr` on receivers of one kind
    /// (`self` in a method of that class; `None`: any other receiver).
    fn stored_under(&self, key: Option<ClassId>, attr: &str, depth: usize, out: &mut Values) {
        for &i in self.stores.get(&(key, attr)).into_iter().flatten() {
            let s = &self.model.attribute_stores[attr][i];
            if self.guards_hold_at(&s.binding.guards, depth) {
                out.extend(self.binding_values(&s.binding.kind, depth + 1));
            }
        }
    }

    /// An attribute read from an instance of a class of model.py.
    pub(super) fn instance_attribute(&self, c: ClassId, attr: &str, depth: usize) -> Values {
        let mut stored = Values::new();
        // `self.attr = ...` in an unrelated class cannot set this
        // instance's attribute; a store on any other receiver can.
        let family = self.class_family(c);
        let keys = family.iter().map(|k| Some(*k)).chain([None]);
        for key in keys {
            self.stored_under(key, attr, depth, &mut stored);
        }
        let mut out = Values::new();
        // An exception's `.args` (`protocols.rs`).
        let class_values = match attr {
            "args" => self.exception_args(c, depth),
            _ => None,
        }
        .unwrap_or_else(|| self.class_attribute(c, attr, depth, &mut Vec::new()));
        for v in class_values {
            match v {
                // A property: reading it calls it.
                Value::Function(f) if self.is_property(f) => {
                    out.extend(self.results_of(&[f], depth))
                }
                other => out.push(other),
            }
        }
        // What the file stores under that name (on any object: an
        // over-approximation) is what the attribute holds; only an
        // attribute the file never stores is left to library bases.
        if !stored.is_empty() {
            out.retain(|v| *v != Value::Unknown);
            out.extend(stored);
        }
        out
    }

    /// Whether a method is a property (reading the attribute calls it).
    pub fn is_property(&self, func: FuncId) -> bool {
        ["builtins.property", "functools.cached_property"]
            .iter()
            .any(|d| self.has_decorator(func, d))
    }

    /// A class of model.py with every file class above or below it: the
    /// classes whose methods' `self` may be an instance of it.
    pub fn class_family(&self, class: ClassId) -> Vec<ClassId> {
        if let Some(f) = self.families.borrow().get(&class) {
            return f.clone();
        }
        if self.class_bases.borrow().is_none() {
            if self.computing_bases.replace(true) {
                // Reached again while bases are being evaluated: fail closed.
                self.truncated.set(true);
                return vec![class];
            }
            let bases: Vec<Vec<ClassId>> = (0..self.model.classes.len())
                .map(|k| {
                    let c = &self.model.classes[k];
                    c.bases
                        .iter()
                        .flat_map(|b| self.eval_in(b, c.parent, 0))
                        .filter_map(|v| match v {
                            Value::Class(b) => Some(b),
                            _ => None,
                        })
                        .collect()
                })
                .collect();
            *self.class_bases.borrow_mut() = Some(bases);
            self.computing_bases.set(false);
        }
        // Every class's family at once (`memo::families`).
        let all = memo::families(self.class_bases.borrow().as_deref().unwrap_or_default());
        let family = all.get(&class).cloned().unwrap_or_else(|| vec![class]);
        *self.families.borrow_mut() = all;
        family
    }

    /// An attribute read from a class of model.py (its body, then its
    /// bases defined in the file; a library base makes it unknown).
    pub(super) fn class_attribute(
        &self,
        class: ClassId,
        attr: &str,
        depth: usize,
        seen: &mut Vec<ClassId>,
    ) -> Values {
        if seen.contains(&class) || depth > MAX_DEPTH {
            return one(Value::Unknown);
        }
        seen.push(class);
        let c = &self.model.classes[class];
        if self.model.scopes[c.scope].bindings.contains_key(attr) {
            return self.bound_values(c.scope, attr, depth + 1);
        }
        let mut out = Values::new();
        for base in &c.bases {
            for v in self.eval_in(base, c.parent, depth + 1) {
                match v {
                    Value::Class(b) => out.extend(self.class_attribute(b, attr, depth + 1, seen)),
                    // Inherited from a library class: that class's attribute
                    // (`Detector.from_pretrained` is PreTrainedModel's).
                    Value::Lib(p) if INHERITED_APIS.contains(&attr) => {
                        out.push(Value::Lib(memo::join_attribute(&p, attr)))
                    }
                    _ => out.push(Value::Unknown),
                }
            }
        }
        if out.is_empty() {
            out.push(Value::Unknown);
        }
        out
    }
}

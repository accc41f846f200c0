//! Containers model.py builds: tuple, list, set and dict literals and
//! `dict(k=v)`, one abstract object per place it is built. What model.py
//! puts into one anywhere (`d[k] = v`, `l.append(v)`, `l += x`) is added to
//! what it holds, whatever name it is reached through. Reads are
//! over-approximations: an index or key gasguard cannot pin down gives
//! every element. A container that reaches code gasguard does not follow
//! is judged by what it holds (P112, in the analyzer), so what a container
//! holds changes only in the ways listed here.

use std::rc::Rc;

use super::*;
use crate::python::semantic::{Added, Step};

/// Rounds of "which container does each store go into": a store into a
/// container read out of another container needs the previous round.
const ADDITION_ROUNDS: usize = 8;

/// Methods of a container whose results are followed (`get`, `pop`,
/// `keys`...) or whose arguments are recorded as additions (`append`...).
/// Not `sort`: its `key=` function is called with every element.
pub const FOLLOWED_METHODS: &[&str] = &[
    "get",
    "pop",
    "setdefault",
    "keys",
    "values",
    "items",
    "copy",
    "append",
    "add",
    "insert",
    "extend",
    "update",
    "remove",
    "discard",
    "clear",
    "reverse",
    "index",
    "count",
];

/// The mutations (indices into the model's `mutated`) that change each
/// container, by the container's start offset.
pub type Additions = HashMap<u32, Vec<usize>>;

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Whether `v` is a container built in model.py whose every change
    /// gasguard records.
    pub fn is_tracked(v: &Value) -> bool {
        matches!(v, Value::Seq(..)) || matches!(v, Value::Dict(start, _) if *start != u32::MAX)
    }

    /// Works out which stores go into which container, to a fixed point.
    /// Nothing evaluated meanwhile is remembered.
    pub(super) fn compute_additions(&self) {
        let mut map = Additions::new();
        let mut settled = self.model.mutated.is_empty();
        for _ in 0..ADDITION_ROUNDS {
            if settled {
                break;
            }
            *self.additions.borrow_mut() = Rc::new(map.clone());
            self.additions_read.set(false);
            let mut next = Additions::new();
            for (i, m) in self.model.mutated.iter().enumerate() {
                self.begin();
                for v in self.eval_in(m.receiver, m.scope, 0) {
                    if let Value::Seq(start, _) | Value::Dict(start, _) = v
                        && Self::is_tracked(&v)
                    {
                        let list = next.entry(start).or_default();
                        if !list.contains(&i) {
                            list.push(i);
                        }
                    }
                }
            }
            // A round that read no container's additions saw the final
            // picture already (and what it remembered stays true).
            let read = self.additions_read.get();
            if read {
                self.forget();
            }
            settled = next == map || !read;
            map = next;
        }
        *self.additions.borrow_mut() = Rc::new(map);
        self.additions_unsettled.set(!settled);
        self.begin();
    }

    /// Drops every remembered result (they may rest on a partial view).
    pub(super) fn forget(&self) {
        self.names.borrow_mut().clear();
        self.forget_name_values();
        self.attributes.borrow_mut().clear();
        self.params.borrow_mut().clear();
        self.too_many.borrow_mut().clear();
    }

    fn additions_to(&self, start: u32) -> Vec<usize> {
        self.additions_read.set(true);
        self.additions
            .borrow()
            .get(&start)
            .cloned()
            .unwrap_or_default()
    }

    /// A sequence literal's elements, each as one list of values; `None`
    /// for an element that is a `*x` unpacking.
    fn literal_elements(&self, start: u32, scope: ScopeId, depth: usize) -> Vec<Option<Values>> {
        let Some(elts) = self.seqs.borrow().get(&start).copied() else {
            return vec![None];
        };
        elts.iter()
            .map(|e| match e {
                Expr::Starred(_) => None,
                other => Some(self.eval_in(other, scope, depth + 1)),
            })
            .collect()
    }

    /// What a mutation adds, as values (`key`: only what may go under
    /// that dict key).
    fn added_values(&self, index: usize, key: Option<&str>, depth: usize) -> Values {
        let m = &self.model.mutated[index];
        match m.added {
            Added::Value { value, key: k } => match (key, k) {
                (Some(want), Some(have)) if want != have => Values::new(),
                _ => self.eval_in(value, m.scope, depth + 1),
            },
            Added::Elements(e) => {
                let mut out = Values::new();
                for v in self.eval_in(e, m.scope, depth + 1) {
                    match (key, &v) {
                        (Some(k), Value::Dict(..) | Value::ConfigKwargs) => {
                            out.extend(self.entry_values(&v, k, depth + 1))
                        }
                        (None, Value::Dict(..) | Value::ConfigKwargs) => {
                            out.extend(self.values_of(&v, depth + 1))
                        }
                        _ => out.extend(self.iterate(&v, depth + 1)),
                    }
                }
                out
            }
            Added::Nothing => Values::new(),
            Added::Unknown => one(Value::Unknown),
        }
    }

    /// Keys a mutation may add to a dict.
    fn added_keys(&self, index: usize, depth: usize) -> Values {
        let m = &self.model.mutated[index];
        match m.added {
            Added::Value { key: Some(k), .. } => one(Value::Str {
                text: k.into(),
                exact: true,
            }),
            Added::Elements(e) => self
                .eval_in(e, m.scope, depth + 1)
                .iter()
                .flat_map(|v| self.iterate(v, depth + 1))
                .collect(),
            Added::Nothing => Values::new(),
            Added::Value { key: None, .. } | Added::Unknown => one(Value::Unknown),
        }
    }

    /// Every element iterating `v` may yield (a dict's keys).
    pub fn iterate(&self, v: &Value, depth: usize) -> Values {
        if !self.step(depth) {
            return one(Value::Unknown);
        }
        match v {
            Value::Seq(start, scope) => {
                let mut out = Values::new();
                let elts = self.seqs.borrow().get(start).copied().unwrap_or(&[]);
                for e in elts {
                    match e {
                        Expr::Starred(s) => {
                            for x in self.eval_in(&s.value, *scope, depth + 1) {
                                out.extend(self.iterate(&x, depth + 1));
                            }
                        }
                        other => out.extend(self.eval_in(other, *scope, depth + 1)),
                    }
                }
                for i in self.additions_to(*start) {
                    out.extend(self.added_values(i, None, depth));
                }
                out
            }
            Value::Dict(u32::MAX, _) => Values::new(),
            Value::Dict(start, scope) => {
                let mut out = Values::new();
                let source = self.dicts.borrow().get(start).copied();
                match source {
                    Some(DictSource::Literal(d)) => {
                        for item in &d.items {
                            match &item.key {
                                Some(k) => out.extend(self.eval_in(k, *scope, depth + 1)),
                                None => {
                                    for x in self.eval_in(&item.value, *scope, depth + 1) {
                                        out.extend(self.iterate(&x, depth + 1));
                                    }
                                }
                            }
                        }
                    }
                    Some(DictSource::Call(c)) => {
                        for k in &c.arguments.keywords {
                            match &k.arg {
                                Some(a) => out.push(Value::Str {
                                    text: a.as_str().into(),
                                    exact: true,
                                }),
                                None => out.push(Value::Unknown),
                            }
                        }
                        if !c.arguments.args.is_empty() {
                            out.push(Value::Unknown);
                        }
                    }
                    None => out.push(Value::Unknown),
                }
                for i in self.additions_to(*start) {
                    out.extend(self.added_keys(i, depth));
                }
                out
            }
            Value::ConfigKwargs => self
                .config_kwargs()
                .keys()
                .map(|k| Value::Str {
                    text: k.as_str().into(),
                    exact: true,
                })
                .collect(),
            Value::Items(items) => (**items).clone(),
            _ => one(Value::Unknown),
        }
    }

    /// Every value a mapping holds (a sequence's elements).
    pub fn values_of(&self, v: &Value, depth: usize) -> Values {
        if !self.step(depth) {
            return one(Value::Unknown);
        }
        match v {
            Value::Dict(u32::MAX, _) => Values::new(),
            Value::Dict(start, scope) => {
                let mut out = Values::new();
                let source = self.dicts.borrow().get(start).copied();
                match source {
                    Some(DictSource::Literal(d)) => {
                        for item in &d.items {
                            let vals = self.eval_in(&item.value, *scope, depth + 1);
                            if item.key.is_some() {
                                out.extend(vals);
                            } else {
                                for x in vals {
                                    out.extend(self.values_of(&x, depth + 1));
                                }
                            }
                        }
                    }
                    Some(DictSource::Call(c)) => {
                        for k in &c.arguments.keywords {
                            let vals = self.eval_in(&k.value, *scope, depth + 1);
                            if k.arg.is_some() {
                                out.extend(vals);
                            } else {
                                for x in vals {
                                    out.extend(self.values_of(&x, depth + 1));
                                }
                            }
                        }
                        if !c.arguments.args.is_empty() {
                            out.push(Value::Unknown);
                        }
                    }
                    None => out.push(Value::Unknown),
                }
                for i in self.additions_to(*start) {
                    out.extend(self.added_values(i, None, depth));
                }
                out
            }
            Value::ConfigKwargs => self.config_kwargs().values().map(from_json).collect(),
            Value::Seq(..) | Value::Items(_) => self.iterate(v, depth),
            _ => one(Value::Unknown),
        }
    }

    /// Everything a container holds, keys included (what escapes with it).
    pub fn contents(&self, v: &Value, depth: usize) -> Values {
        match v {
            Value::Dict(..) | Value::ConfigKwargs => {
                let mut out = self.iterate(v, depth);
                out.extend(self.values_of(v, depth));
                normalize(out)
            }
            Value::Seq(..) | Value::Items(_) => normalize(self.iterate(v, depth)),
            Value::Partial(start, scope) => normalize(self.partial_contents(*start, *scope, depth)),
            _ => Values::new(),
        }
    }

    /// What a `*x` unpacking passes, position by position, when every
    /// value of `x` is a sequence literal of one length that nothing
    /// extends (`f(*[a, b])`); None when the positions are not known.
    pub fn positional_elements(&self, e: &'a Expr, scope: ScopeId) -> Option<Vec<Values>> {
        let mut out: Option<Vec<Values>> = None;
        for v in self.eval_in(e, scope, 1) {
            let Value::Seq(start, sc) = v else {
                return None;
            };
            if !self.additions_to(start).is_empty() {
                return None;
            }
            let elts = self
                .literal_elements(start, sc, 1)
                .into_iter()
                .collect::<Option<Vec<Values>>>()?;
            match &mut out {
                None => out = Some(elts),
                Some(have) if have.len() == elts.len() => {
                    for (h, e) in have.iter_mut().zip(elts) {
                        h.extend(e);
                    }
                }
                Some(_) => return None,
            }
        }
        out
    }

    /// Element `i` of a sequence (negative: from the end).
    pub(super) fn index(&self, v: &Value, i: i64, depth: usize) -> Values {
        match v {
            Value::Seq(start, scope) if self.additions_to(*start).is_empty() => {
                let elts = self.literal_elements(*start, *scope, depth);
                if elts.iter().any(Option::is_none) {
                    return self.iterate(v, depth);
                }
                let at = if i < 0 { elts.len() as i64 + i } else { i };
                match usize::try_from(at).ok().and_then(|a| elts.get(a)) {
                    Some(Some(vals)) => vals.clone(),
                    // IndexError: no value comes out.
                    _ => one(Value::Unknown),
                }
            }
            Value::Seq(..) | Value::Items(_) => self.iterate(v, depth),
            Value::Dict(..) | Value::ConfigKwargs => self.values_of(v, depth),
            _ => one(Value::Unknown),
        }
    }

    /// Follows `path` from what `value` may be.
    pub(super) fn select(
        &self,
        value: &'a Expr,
        scope: ScopeId,
        path: &[Step],
        depth: usize,
    ) -> Values {
        let mut current = self.eval_in(value, scope, depth + 1);
        for step in path {
            let mut next = Values::new();
            for v in &current {
                match step {
                    Step::Iterate => next.extend(self.iterate(v, depth + 1)),
                    Step::Index { at, len, star } => {
                        next.extend(self.unpack(v, *at, *len, *star, depth + 1))
                    }
                    Step::Key(k) => match v {
                        Value::Dict(..) | Value::ConfigKwargs => {
                            next.extend(self.entry_values(v, k, depth + 1))
                        }
                        _ => next.push(Value::Unknown),
                    },
                    Step::Attr(a) => next.extend(self.attribute(v, a, depth + 1)),
                    Step::Enter => next.extend(self.entered(v, false, depth + 1)),
                    Step::AsyncEnter => next.extend(self.entered(v, true, depth + 1)),
                    Step::AsyncIterate => next.extend(self.async_elements(v, depth + 1)),
                }
            }
            current = normalize(next);
            if current.len() > MAX_VALUES {
                self.truncated.set(true);
                return one(Value::Unknown);
            }
        }
        current
    }

    /// Target `at` of an unpacking of `v` into `len` targets.
    fn unpack(
        &self,
        v: &Value,
        at: usize,
        len: usize,
        star: Option<usize>,
        depth: usize,
    ) -> Values {
        let (at, len) = (at as i64, len as i64);
        match star {
            Some(s) if at == s as i64 => {
                one(Value::Items(Box::new(normalize(self.iterate(v, depth)))))
            }
            Some(s) if at > s as i64 => self.index(v, at - len, depth),
            _ => match v {
                // Unpacking a mapping gives its keys.
                Value::Dict(..) | Value::ConfigKwargs => self.iterate(v, depth),
                _ => self.index(v, at, depth),
            },
        }
    }

    /// The values key `key` may have in a mapping (nothing when it is
    /// known to be absent; unknown for what is not a mapping gasguard
    /// follows).
    pub(super) fn entry_values(&self, v: &Value, key: &str, depth: usize) -> Values {
        if !self.step(depth) {
            return one(Value::Unknown);
        }
        match self.entry(v, key) {
            Entry::Found(vals) | Entry::Maybe(vals) => vals,
            Entry::Absent => Values::new(),
            Entry::Unknown => one(Value::Unknown),
        }
    }

    /// Key `key` of a dict literal or `dict(...)` call built in model.py,
    /// with what is stored into it anywhere.
    pub(super) fn dict_entry(&self, start: u32, scope: ScopeId, key: &str) -> Entry {
        let mut out = Values::new();
        // The key is surely there / may be there.
        let (mut surely, mut maybe) = (false, false);
        let spread = |out: &mut Values, x: &Value, maybe: &mut bool, surely: &mut bool| match self
            .entry(x, key)
        {
            Entry::Found(vals) => {
                out.extend(vals);
                *surely = true;
            }
            Entry::Maybe(vals) => {
                out.extend(vals);
                *maybe = true;
            }
            Entry::Absent => {}
            Entry::Unknown => {
                out.push(Value::Unknown);
                *maybe = true;
            }
        };
        let source = self.dicts.borrow().get(&start).copied();
        match source {
            Some(DictSource::Literal(d)) => {
                for item in &d.items {
                    match &item.key {
                        Some(Expr::StringLiteral(k)) if k.value.to_str() == key => {
                            out.extend(self.eval_in(&item.value, scope, 1));
                            surely = true;
                        }
                        Some(Expr::StringLiteral(_)) => {}
                        // A computed key may be this one.
                        Some(_) => {
                            out.extend(self.eval_in(&item.value, scope, 1));
                            maybe = true;
                        }
                        None => {
                            for x in self.eval_in(&item.value, scope, 1) {
                                spread(&mut out, &x, &mut maybe, &mut surely);
                            }
                        }
                    }
                }
            }
            Some(DictSource::Call(c)) => {
                for k in &c.arguments.keywords {
                    match &k.arg {
                        Some(a) if a.as_str() == key => {
                            out.extend(self.eval_in(&k.value, scope, 1));
                            surely = true;
                        }
                        Some(_) => {}
                        None => {
                            for x in self.eval_in(&k.value, scope, 1) {
                                spread(&mut out, &x, &mut maybe, &mut surely);
                            }
                        }
                    }
                }
                if !c.arguments.args.is_empty() {
                    out.push(Value::Unknown);
                    maybe = true;
                }
            }
            None => return Entry::Unknown,
        }
        for i in self.additions_to(start) {
            let removes = matches!(self.model.mutated[i].added, Added::Nothing | Added::Unknown);
            if removes {
                // `pop`, `del d[k]`: what was surely there may be gone.
                if surely {
                    surely = false;
                    maybe = true;
                }
            }
            let added = self.added_values(i, Some(key), 1);
            if !added.is_empty() {
                maybe = true;
                out.extend(added);
            }
        }
        let out = normalize(out);
        if surely {
            Entry::Found(out)
        } else if maybe {
            Entry::Maybe(out)
        } else {
            Entry::Absent
        }
    }
}

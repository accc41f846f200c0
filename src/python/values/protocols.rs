//! What Python does with the file's functions by protocol rather than by a
//! call gasguard sees: a generator function's call gives a generator
//! holding what it yields, an `async def`'s call a coroutine holding what
//! it returns; `with`, `async with` and `async for` call the dunders of
//! the file's classes. Exceptions are followed in `exceptions.rs`.

use super::*;

/// Dunders of the file's classes whose calls by protocol are followed (see
/// `follows_protocol`): as long as no instance escapes, `with`, `async
/// with` and `async for` are their only callers.
pub const FOLLOWED_DUNDERS: &[&str] = &["__enter__", "__aenter__", "__aiter__", "__anext__"];

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Calling generator function `func` gives a generator: an untracked
    /// container of what it may yield (`yield from x` yields x's elements;
    /// a bare `yield` yields None).
    pub(super) fn generator(&self, func: FuncId, depth: usize) -> Value {
        let f = &self.model.functions[func];
        let mut held = Values::new();
        for y in &f.yields {
            match (y.value, y.from) {
                (None, _) => held.push(Value::None),
                (Some(e), false) => held.extend(self.eval_in(e, y.scope, depth + 1)),
                (Some(e), true) => {
                    for v in self.eval_in(e, y.scope, depth + 1) {
                        held.extend(self.iterate(&v, depth + 1));
                    }
                }
            }
        }
        Value::Items(Box::new(normalize(held)))
    }

    /// What `with v as name` binds: what the `__enter__` of one of the
    /// file's classes returns; unknown for anything else. For `async with`
    /// (`awaited`), what its `async def __aenter__` returns.
    pub(super) fn entered(&self, v: &Value, awaited: bool, depth: usize) -> Values {
        let dunder = if awaited { "__aenter__" } else { "__enter__" };
        self.protocol_results(v, dunder, depth)
    }

    /// What calling dunder `name` of `v`, one of the file's instances,
    /// gives as Python's protocol uses it (awaited for the async
    /// dunders); unknown for anything else.
    fn protocol_results(&self, v: &Value, name: &str, depth: usize) -> Values {
        if !matches!(v, Value::Instance(_)) {
            return one(Value::Unknown);
        }
        let mut out = Values::new();
        for m in self.attribute(v, name, depth + 1) {
            match m {
                Value::Function(f) if self.follows_protocol(f) => {
                    out.extend(self.results_of(&[f], depth));
                }
                _ => out.push(Value::Unknown),
            }
        }
        out
    }

    /// Whether `func` is a dunder whose protocol calls are followed: a
    /// method named in `FOLLOWED_DUNDERS`, not a generator, `async def`
    /// exactly where Python awaits its result (`__aenter__`, `__anext__`).
    pub(super) fn follows_protocol(&self, func: FuncId) -> bool {
        let f = &self.model.functions[func];
        let awaited = matches!(f.name.as_str(), "__aenter__" | "__anext__");
        f.class.is_some()
            && FOLLOWED_DUNDERS.contains(&f.name.as_str())
            && f.yields.is_empty()
            && !f.is_lambda
            && f.is_async == awaited
    }

    /// What `async for` takes from `v`: the elements of an async
    /// generator's call, or what `__anext__` of what the file's
    /// `__aiter__` returns gives, awaited; unknown for anything else.
    pub(super) fn async_elements(&self, v: &Value, depth: usize) -> Values {
        match v {
            Value::Items(items) => (**items).clone(),
            Value::Instance(_) => {
                let mut out = Values::new();
                for it in self.protocol_results(v, "__aiter__", depth + 1) {
                    match it {
                        Value::Instance(_) => {
                            out.extend(self.protocol_results(&it, "__anext__", depth + 1))
                        }
                        Value::Items(items) => out.extend(items.iter().cloned()),
                        _ => out.push(Value::Unknown),
                    }
                }
                out
            }
            _ => one(Value::Unknown),
        }
    }

    /// Calling `async def func` gives a coroutine, an untracked container
    /// of what awaiting it gives (what `func` returns), or, for an async
    /// generator, of what it yields.
    pub(super) fn coroutine(&self, func: FuncId, depth: usize) -> Value {
        if self.is_generator(func) {
            return self.generator(func, depth);
        }
        Value::Items(Box::new(normalize(self.results_of(&[func], depth))))
    }

    /// What `await x` gives: what the coroutines among `x` hold; unknown
    /// for anything else (a library's awaitable, an `__await__`).
    pub(super) fn awaited(&self, values: &Values) -> Values {
        let mut out = Values::new();
        for v in values {
            match v {
                Value::Items(items) => out.extend(items.iter().cloned()),
                _ => out.push(Value::Unknown),
            }
        }
        out
    }

    /// Whether what `func` yields is followed into the generator its calls
    /// give (plain or async: `coroutine`): every call is one gasguard sees.
    pub fn follows_yields(&self, func: FuncId) -> bool {
        let f = &self.model.functions[func];
        !f.is_lambda && self.follows_returns(func)
    }

    /// Whether `func` is a generator function (its `return` value goes to
    /// `StopIteration`, not to its callers).
    pub fn is_generator(&self, func: FuncId) -> bool {
        !self.model.functions[func].yields.is_empty()
    }
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// The functions each decorator of `func` (not a method) may be
    /// (outermost first), when every one is a plain function of model.py
    /// whose first parameter takes the function: then Python's calls of
    /// them are followed like calls gasguard sees. `None` otherwise (no
    /// decorator, or one gasguard does not follow).
    pub fn file_decorators(&self, func: FuncId) -> Option<Vec<Vec<FuncId>>> {
        if let Some(known) = self.decorator_chains.borrow().get(&func) {
            return known.clone();
        }
        // A decorator that refers back to the function it decorates is
        // not followed.
        self.decorator_chains.borrow_mut().insert(func, None);
        let chain = self.decorator_chain(func);
        self.decorator_chains
            .borrow_mut()
            .insert(func, chain.clone());
        chain
    }

    fn decorator_chain(&self, func: FuncId) -> Option<Vec<Vec<FuncId>>> {
        let f = &self.model.functions[func];
        // A method's decorator result is bound to `self` when called
        // through an instance: left to the protocol escapes.
        if f.decorators.is_empty() || f.class.is_some() {
            return None;
        }
        let mut chain = Vec::new();
        for d in &f.decorators {
            let values = self.eval_in(d, f.parent, 1);
            let mut layer = Vec::new();
            for v in &values {
                let Value::Function(deco) = v else {
                    return None;
                };
                let g = &self.model.functions[*deco];
                let takes_function = g.params.first().is_some_and(|p| {
                    matches!(
                        p.kind,
                        ParamKind::Positional | ParamKind::PositionalOrKeyword
                    )
                });
                if g.class.is_some() || g.is_async || !g.yields.is_empty() || !takes_function {
                    return None;
                }
                layer.push(*deco);
            }
            if layer.is_empty() {
                return None;
            }
            chain.push(layer);
        }
        Some(chain)
    }

    /// What the name a `def` binds may be: the function, or what its
    /// decorators of model.py return.
    pub(super) fn decorated(&self, func: FuncId, depth: usize) -> Values {
        match self.file_decorators(func) {
            Some(chain) => chain
                .first()
                .map(|layer| self.results_of(layer, depth))
                .unwrap_or_default(),
            None => one(Value::Function(func)),
        }
    }

    /// What calls of these plain functions may return.
    pub(super) fn results_of(&self, funcs: &[FuncId], depth: usize) -> Values {
        let mut out = Values::new();
        for &g in funcs {
            let g = &self.model.functions[g];
            if g.returns.is_empty() {
                out.push(Value::None);
            }
            for (e, s) in &g.returns {
                out.extend(self.eval_in(e, *s, depth + 1));
            }
        }
        out
    }

    /// What Python passes to the first parameter of `deco` where it
    /// decorates a function (the function, or what the decorator below
    /// returned); one entry per such place.
    pub(super) fn decorator_arguments(&self, deco: FuncId, depth: usize) -> Vec<Values> {
        let mut out = Vec::new();
        for &func in &self.decorated {
            let Some(chain) = self.file_decorators(func) else {
                continue;
            };
            for (i, layer) in chain.iter().enumerate() {
                if !layer.contains(&deco) {
                    continue;
                }
                out.push(match chain.get(i + 1) {
                    Some(below) => self.results_of(below, depth),
                    None => one(Value::Function(func)),
                });
            }
        }
        out
    }
}

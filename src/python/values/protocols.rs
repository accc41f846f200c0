//! What Python does with the file's functions by protocol rather than by a
//! call gasguard sees: a generator function's call gives a generator
//! holding what it yields.

use super::*;

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Calling generator function `func` gives a generator: an untracked
    /// container of what it may yield (`yield from x` yields x's elements;
    /// a bare `yield` yields None).
    pub(super) fn generator(&self, func: FuncId, depth: usize) -> Value {
        let f = &self.model.functions[func];
        let mut held = Vec::new();
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

    /// Whether what `func` yields is followed into the generator its calls
    /// give: a plain (not async) generator whose every call gasguard sees.
    pub fn follows_yields(&self, func: FuncId) -> bool {
        let f = &self.model.functions[func];
        !f.is_async && !f.is_lambda && self.follows_returns(func)
    }

    /// Whether `func` is a generator function (its `return` value goes to
    /// `StopIteration`, not to its callers).
    pub fn is_generator(&self, func: FuncId) -> bool {
        !self.model.functions[func].yields.is_empty()
    }
}

//! Remembered attribute reads of model.py's classes and their instances.
//! An instance attribute is every value the file stores under that name,
//! so each read would re-walk every store; it is worked out once, under the
//! rules of remembered names (`bound_values`): a result cut short by a
//! cycle or the budget, or made while call targets are being worked out
//! (parameters then read as unknown), is not remembered.

use super::*;

impl<'m, 'a> Interpreter<'m, 'a> {
    /// `attribute`, remembered for the file's classes and instances.
    pub(super) fn attribute_of(&self, base: &Value, attr: &'a str, depth: usize) -> Values {
        let key = match base {
            Value::Class(c) => (*c, false, attr),
            Value::Instance(c) => (*c, true, attr),
            _ => return self.attribute(base, attr, depth),
        };
        if let Some(v) = self.attributes.borrow().get(&key) {
            self.steps.set(self.steps.get() + v.len());
            return v.clone();
        }
        let cycle_before = self.cycle.replace(false);
        let out = self.attribute(base, attr, depth);
        if !self.cycle.get() && !self.truncated.get() && !self.computing_targets.get() {
            self.attributes.borrow_mut().insert(key, out.clone());
        }
        self.cycle.set(self.cycle.get() || cycle_before);
        out
    }
}

/// `path.attr`, without the formatting machinery (every library attribute
/// read makes one).
pub(super) fn join_attribute(path: &str, attr: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1 + attr.len());
    out.push_str(path);
    out.push('.');
    out.push_str(attr);
    out
}

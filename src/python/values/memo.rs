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
            return copied(v);
        }
        let cycle_before = self.cycle.replace(false);
        let provisional_before = self.provisional.replace(usize::MAX);
        let out = self.attribute(base, attr, depth);
        // Read a name's provisional values (`bound_values`): not final.
        let leaned = self.provisional.get() != usize::MAX;
        if !self.cycle.get() && !self.truncated.get() && !self.computing_targets.get() && !leaned {
            self.attributes.borrow_mut().insert(key, out.clone());
        }
        self.provisional
            .set(provisional_before.min(self.provisional.get()));
        self.cycle.set(self.cycle.get() || cycle_before);
        out
    }
}

/// Every class's family: the class with every file class above or below
/// it, found by growing the family until nothing changes, each pass going
/// through the classes in order (the order the family lists them in).
/// Only classes joined to it by bases can join a family, so each pass goes
/// through the class's connected classes only: linear for a file of
/// unrelated classes, where a pass over every class made it quadratic.
pub(super) fn families(all_bases: &[Vec<ClassId>]) -> HashMap<ClassId, Vec<ClassId>> {
    let n = all_bases.len();
    // Connected classes (union-find over "derives from").
    let mut root: Vec<ClassId> = (0..n).collect();
    fn find(root: &mut [ClassId], mut k: ClassId) -> ClassId {
        while root[k] != k {
            root[k] = root[root[k]];
            k = root[k];
        }
        k
    }
    for (k, bases) in all_bases.iter().enumerate() {
        for &b in bases.iter().filter(|&&b| b < n) {
            let (rk, rb) = (find(&mut root, k), find(&mut root, b));
            root[rk] = rb;
        }
    }
    let mut groups: HashMap<ClassId, Vec<ClassId>> = HashMap::new();
    for k in 0..n {
        let r = find(&mut root, k);
        groups.entry(r).or_default().push(k); // in class order
    }
    let mut out = HashMap::with_capacity(n);
    for group in groups.values() {
        for &class in group {
            out.insert(class, family_in(all_bases, group, class));
        }
    }
    out
}

/// The family of `class` among the classes of its group (in class order).
fn family_in(all_bases: &[Vec<ClassId>], group: &[ClassId], class: ClassId) -> Vec<ClassId> {
    let mut family = vec![class];
    if group.len() == 1 {
        return family;
    }
    let mut changed = true;
    while changed {
        changed = false;
        for &k in group {
            let bases = &all_bases[k];
            let above = family.contains(&k) && bases.iter().any(|b| !family.contains(b));
            let below = !family.contains(&k) && bases.iter().any(|b| family.contains(b));
            if above {
                for b in bases {
                    if !family.contains(b) {
                        family.push(*b);
                    }
                }
                changed = true;
            }
            if below {
                family.push(k);
                changed = true;
            }
        }
    }
    family
}

/// `path.attr`, without the formatting machinery (every library attribute
/// read makes one): put together in a reused buffer, so that the shared
/// text is the only allocation.
pub(super) fn join_attribute(path: &str, attr: &str) -> std::rc::Rc<str> {
    thread_local! {
        static JOINED: RefCell<String> = const { RefCell::new(String::new()) };
    }
    JOINED.with_borrow_mut(|out| {
        out.clear();
        out.push_str(path);
        out.push('.');
        out.push_str(attr);
        std::rc::Rc::from(out.as_str())
    })
}

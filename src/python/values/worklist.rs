//! The work list of `reachable_scopes`: a stack of scopes, where a live
//! reference to a name pushes every scope of that name (its functions, then
//! its classes) as one entry. Pushed one by one, N methods named
//! `__init__` that each refer to `__init__` made N^2 pushes; as one entry
//! with a cursor that skips scopes already live, the scopes come off the
//! stack in the very order the one-by-one pushes gave (the last target on
//! top; a live scope was skipped when popped), so every evaluation
//! reachability makes happens in the same order as before.

use super::*;

enum Entry {
    Scope(ScopeId),
    /// The targets of name `name` at positions below `cursor`, the highest
    /// on top.
    Name {
        name: usize,
        cursor: usize,
    },
}

pub(super) struct ScopeStack<'m> {
    entries: Vec<Entry>,
    /// Each name's index.
    names: HashMap<&'m str, usize>,
    /// Every name's scopes, name after name, each name's in the order they
    /// were pushed one by one; name `n` has `scopes[start[n]..start[n + 1]]`.
    /// (Flat: a file may have 60,000 names.)
    scopes: Vec<ScopeId>,
    start: Vec<usize>,
    /// Per name, over its positions + 1 (0: none left), at `start[n] + n`:
    /// the highest position at or below whose scope is not live yet
    /// (union-find, path-compressed).
    not_live_below: Vec<usize>,
    /// Where each scope stands: (name, position).
    position: Vec<Option<(usize, usize)>>,
    /// Names whose scopes have been pushed once.
    expanded: Vec<bool>,
}

impl<'m> ScopeStack<'m> {
    pub(super) fn new(model: &'m SemanticModel<'_>) -> Self {
        let named = model
            .functions
            .iter()
            .filter(|f| !f.is_lambda)
            .map(|f| (f.name.as_str(), f.scope))
            .chain(model.classes.iter().map(|c| (c.name.as_str(), c.scope)));
        Self::from_named(named, model.scopes.len())
    }

    /// From (name, scope) in push order, each scope once.
    fn from_named(named: impl Iterator<Item = (&'m str, ScopeId)>, scopes: usize) -> Self {
        let mut names: HashMap<&'m str, usize> = HashMap::new();
        let mut tagged: Vec<(usize, ScopeId)> = Vec::new();
        for (name, scope) in named {
            let next = names.len();
            tagged.push((*names.entry(name).or_insert(next), scope));
        }
        // Stable: each name's scopes keep their order.
        tagged.sort_by_key(|&(n, _)| n);
        let mut start = vec![0; names.len() + 1];
        for &(n, _) in &tagged {
            if let Some(end) = start.get_mut(n + 1) {
                *end += 1;
            }
        }
        for n in 1..start.len() {
            start[n] += start[n - 1];
        }
        let mut position = vec![None; scopes];
        let mut not_live_below = Vec::with_capacity(tagged.len() + names.len());
        for n in 0..names.len() {
            let len = start[n + 1] - start[n];
            not_live_below.extend(0..=len);
            for at in 0..len {
                if let Some(&(_, scope)) = tagged.get(start[n] + at)
                    && let Some(p) = position.get_mut(scope)
                {
                    *p = Some((n, at));
                }
            }
        }
        ScopeStack {
            entries: Vec::new(),
            expanded: vec![false; names.len()],
            names,
            scopes: tagged.into_iter().map(|(_, s)| s).collect(),
            start,
            not_live_below,
            position,
        }
    }

    /// Name `n`'s scopes and its union-find slots.
    fn parts(&mut self, n: usize) -> Option<(&[ScopeId], &mut [usize])> {
        let (from, to) = (*self.start.get(n)?, *self.start.get(n + 1)?);
        let scopes = self.scopes.get(from..to)?;
        let slots = self.not_live_below.get_mut(from + n..to + n + 1)?;
        Some((scopes, slots))
    }

    pub(super) fn push(&mut self, scope: ScopeId) {
        self.entries.push(Entry::Scope(scope));
    }

    /// Pushes every scope named `name`; returns them the first time (what
    /// the caller marks once), nothing after.
    pub(super) fn push_name(&mut self, name: &str) -> &[ScopeId] {
        let Some(&index) = self.names.get(name) else {
            return &[];
        };
        let (Some(&from), Some(&to)) = (self.start.get(index), self.start.get(index + 1)) else {
            return &[];
        };
        self.entries.push(Entry::Name {
            name: index,
            cursor: to - from,
        });
        match self.expanded.get_mut(index) {
            Some(done) if !*done => {
                *done = true;
                self.scopes.get(from..to).unwrap_or_default()
            }
            _ => &[],
        }
    }

    /// The next scope, as one-by-one pushes would pop it (plain scopes
    /// may be live already: the caller skips those, as before).
    pub(super) fn pop(&mut self) -> Option<ScopeId> {
        loop {
            match self.entries.last()? {
                Entry::Scope(s) => {
                    let s = *s;
                    self.entries.pop();
                    return Some(s);
                }
                &Entry::Name { name, cursor } => {
                    let found = self.parts(name).and_then(|(scopes, slots)| {
                        let at = highest_not_live(slots, cursor).checked_sub(1)?;
                        Some((at, *scopes.get(at)?))
                    });
                    match found {
                        Some((at, s)) => {
                            if let Some(Entry::Name { cursor, .. }) = self.entries.last_mut() {
                                *cursor = at;
                            }
                            return Some(s);
                        }
                        None => {
                            self.entries.pop();
                        }
                    }
                }
            }
        }
    }

    /// `scope` is live: name entries skip it from now on.
    pub(super) fn mark_live(&mut self, scope: ScopeId) {
        if let Some(&Some((name, at))) = self.position.get(scope)
            && let Some((_, slots)) = self.parts(name)
            && let Some(slot) = slots.get_mut(at + 1)
        {
            *slot = at;
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The highest slot at or below `slot` that points to itself (0: none).
fn highest_not_live(up: &mut [usize], slot: usize) -> usize {
    let slot = slot.min(up.len().saturating_sub(1));
    let mut root = slot;
    while let Some(&next) = up.get(root) {
        if next == root {
            break;
        }
        root = next;
    }
    // Path compression.
    let mut k = slot;
    while let Some(&next) = up.get(k) {
        if next == k {
            break;
        }
        up[k] = root;
        k = next;
    }
    root
}

#[cfg(test)]
mod tests {
    use super::ScopeStack;

    /// The stack pops scopes in the order one-by-one pushes of every
    /// target did, over random pushes of scopes and names.
    #[test]
    fn pops_as_one_by_one_pushes_did() {
        let names = ["a", "b", "c", "d"];
        for seed in 0..200u64 {
            let mut rng = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut next = |n: usize| {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((rng >> 33) as usize) % n
            };
            // 40 scopes, each named by one of four names (scope 0 unnamed).
            let scopes = 40;
            let named: Vec<(&str, usize)> = (1..scopes).map(|s| (names[next(4)], s)).collect();
            let by_name = |n: &str| -> Vec<usize> {
                named
                    .iter()
                    .filter(|(m, _)| *m == n)
                    .map(|(_, s)| *s)
                    .collect()
            };
            let mut fast = ScopeStack::from_named(named.iter().copied(), scopes);
            let mut plain: Vec<usize> = vec![0];
            fast.push(0);
            let (mut live_fast, mut live_plain) = (vec![false; scopes], vec![false; scopes]);
            let (mut order_fast, mut order_plain) = (Vec::new(), Vec::new());
            // The one-by-one stack, driven by its own copy of the choices.
            let mut choices: Vec<(bool, usize)> = Vec::new();
            for _ in 0..400 {
                choices.push((next(3) == 0, next(scopes)));
            }
            let step = |order: &mut Vec<usize>, live: &mut Vec<bool>, s: usize| -> bool {
                if live[s] {
                    return false;
                }
                live[s] = true;
                order.push(s);
                true
            };
            let mut used = 0;
            while let Some(s) = fast.pop() {
                if !step(&mut order_fast, &mut live_fast, s) {
                    continue;
                }
                fast.mark_live(s);
                for _ in 0..3 {
                    let Some(&(is_name, x)) = choices.get(used) else {
                        break;
                    };
                    used += 1;
                    if is_name {
                        fast.push_name(names[x % 4]);
                    } else {
                        fast.push(x);
                    }
                }
            }
            let mut used = 0;
            while let Some(s) = plain.pop() {
                if !step(&mut order_plain, &mut live_plain, s) {
                    continue;
                }
                for _ in 0..3 {
                    let Some(&(is_name, x)) = choices.get(used) else {
                        break;
                    };
                    used += 1;
                    if is_name {
                        plain.extend(by_name(names[x % 4]));
                    } else {
                        plain.push(x);
                    }
                }
            }
            assert_eq!(order_fast, order_plain, "seed {seed}");
            assert!(order_fast.len() > 5, "seed {seed}: too few scopes reached");
        }
    }
}

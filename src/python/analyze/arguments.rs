//! A call's arguments bound to a library API's real parameters (its
//! generated signature, `rules/api-objects.txt`): which argument may give
//! a parameter, through keywords, positions and `*`/`**` unpacking, and
//! the abstract values it may have there, with where each was passed.

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::Ranged;

use super::Analyzer;
use super::paths::api_signature;
use crate::python::semantic::ScopeId;
use crate::python::values::{ArgList, Value, Values};

/// Where a parameter of an API may get its value in one call, and the
/// scope its expression is evaluated in.
enum Arg<'a> {
    Given(&'a Expr, ScopeId),
    /// A `*args` or `**mapping` unpacking that may set it.
    Unpacked(&'a Expr, ScopeId),
    /// An element of a `*[...]` literal, at this position.
    Element(&'a Expr, usize, ScopeId),
}

/// Finds every argument that may give parameter `name` of the API at
/// `path`, using its generated signature; without one, `positional` is the
/// position the parameter conventionally has (the first argument of a
/// loader), else it is taken as keyword-only. `elements` says what a
/// `*x` unpacking passes position by position, when that is known. The
/// argument lists are those of one call, in order (a partial's bound
/// arguments before the call's own, `values/partial.rs`).
fn arguments<'a>(
    lists: &[ArgList<'a>],
    path: &str,
    name: &str,
    positional: Option<usize>,
    elements: &dyn Fn(&'a Expr, ScopeId) -> Option<usize>,
) -> Vec<Arg<'a>> {
    // From the signature when it names the parameter before any `*`;
    // else the conventional position (a signature of `*args, **kwargs`
    // says nothing).
    let from_signature = api_signature(path).and_then(|sig| {
        sig.split(',')
            .take_while(|p| !p.starts_with('*'))
            .position(|p| p == name)
    });
    let slot = from_signature.or(positional);
    let mut found = Vec::new();
    let mut position = 0;
    'lists: for list in lists {
        for a in list.args.iter() {
            if let Expr::Starred(s) = a {
                match elements(&s.value, list.scope) {
                    Some(len) => {
                        if let Some(slot) = slot
                            && (position..position + len).contains(&slot)
                        {
                            found.push(Arg::Element(&s.value, slot - position, list.scope));
                            break 'lists;
                        }
                        position += len;
                        continue;
                    }
                    None => {
                        if slot.is_some_and(|slot| slot >= position) {
                            found.push(Arg::Unpacked(&s.value, list.scope));
                        }
                        break 'lists;
                    }
                }
            }
            if Some(position) == slot {
                found.push(Arg::Given(a, list.scope));
                break 'lists;
            }
            position += 1;
        }
    }
    // Every keyword source: a later `name=` or `**m` may set it too.
    for list in lists {
        for k in list.keywords.iter() {
            match &k.arg {
                Some(a) if a.as_str() == name => found.push(Arg::Given(&k.value, list.scope)),
                None => found.push(Arg::Unpacked(&k.value, list.scope)),
                _ => {}
            }
        }
    }
    found
}

impl<'m, 'a> Analyzer<'m, 'a> {
    /// The abstract values of parameter `name` in this call (None: not passed).
    pub(super) fn arg_values(
        &self,
        call: &'a ast::ExprCall,
        path: &str,
        name: &str,
        positional: Option<usize>,
    ) -> Option<(Values, String)> {
        self.bound_arg_values(&[ArgList::of(call, self.scope)], path, name, positional)
    }

    /// `arg_values` over the argument lists of one call (a partial's
    /// bound ones first).
    pub(super) fn bound_arg_values(
        &self,
        lists: &[ArgList<'a>],
        path: &str,
        name: &str,
        positional: Option<usize>,
    ) -> Option<(Values, String)> {
        let elements = |e: &'a Expr, scope: ScopeId| {
            self.interp.begin();
            self.interp.positional_elements(e, scope).map(|v| v.len())
        };
        let mut values = Values::new();
        let mut origins = Vec::new();
        for arg in arguments(lists, path, name, positional, &elements) {
            self.interp.begin();
            let (v, how, at) = match arg {
                Arg::Given(e, scope) => (self.interp.eval(e, scope), "passed", e),
                // A dict literal without that key gives nothing.
                Arg::Unpacked(e, scope) => (self.interp.unpacked(e, name, scope, 0), "unpacked", e),
                Arg::Element(e, i, scope) => (
                    self.interp
                        .positional_elements(e, scope)
                        .and_then(|mut elts| (i < elts.len()).then(|| elts.swap_remove(i)))
                        .unwrap_or_else(|| smallvec::smallvec![Value::Unknown]),
                    "unpacked",
                    e,
                ),
            };
            if !v.is_empty() {
                let line = self.line_of(usize::from(at.range().start()));
                origins.push(format!("{how} at line {line}"));
                values.extend(v);
            }
        }
        if values.is_empty() {
            None
        } else {
            Some((values, origins.join(", ")))
        }
    }

    /// The 1-based line of a byte offset: a binary search in line starts
    /// counted once (counting newlines per argument was quadratic).
    pub(super) fn line_of(&self, offset: usize) -> usize {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.source.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        starts.partition_point(|&s| s <= offset)
    }
}

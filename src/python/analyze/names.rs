//! Checks on names as names: attribute names that reach the interpreter's
//! internals (dunders are denied unless allowed here), names spelt like
//! blocked modules on values gasguard cannot follow, non-ASCII identifiers.

use std::ops::Range;

use super::Analyzer;
use crate::diagnostic::Diagnostic;
use crate::rules::code as rules;

/// Dunder attributes real models read or call, none of which reaches code
/// objects, frames, globals, classes' internals or the import system.
/// Every other `__x__` attribute is denied (P107).
pub const DUNDER_ALLOWLIST: &[&str] = &[
    // construction and protocol methods called on self, super() or own classes
    "__init__",
    "__call__",
    "__len__",
    "__getitem__",
    "__setitem__",
    "__contains__",
    "__iter__",
    "__next__",
    "__enter__",
    "__exit__",
    "__repr__",
    "__str__",
    "__format__",
    "__hash__",
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__bool__",
    "__int__",
    "__float__",
    "__index__",
    "__post_init__",
    "__array__",
    // arithmetic
    "__add__",
    "__radd__",
    "__iadd__",
    "__sub__",
    "__rsub__",
    "__isub__",
    "__mul__",
    "__rmul__",
    "__imul__",
    "__matmul__",
    "__rmatmul__",
    "__truediv__",
    "__rtruediv__",
    "__itruediv__",
    "__floordiv__",
    "__mod__",
    "__pow__",
    "__neg__",
    "__pos__",
    "__abs__",
    "__and__",
    "__or__",
    "__xor__",
    "__invert__",
    // plain metadata
    "__name__",
    "__qualname__",
    "__doc__",
    "__module__",
    "__version__",
    "__all__",
    "__slots__",
    "__constants__",
];

/// Non-dunder attributes of frames, generators and code objects.
pub const INTROSPECTION_ATTRIBUTES: &[&str] = &[
    "mro",
    "gi_frame",
    "gi_code",
    "cr_frame",
    "cr_code",
    "ag_frame",
    "f_back",
    "f_globals",
    "f_locals",
    "f_builtins",
    "f_code",
    "tb_frame",
    "tb_next",
    "co_code",
];

/// Builtins that may take a module as an argument: they answer questions
/// about it and return nothing that reaches into it.
pub const INTROSPECTION_BUILTINS: &[&str] = &[
    "hasattr",
    "isinstance",
    "issubclass",
    "callable",
    "type",
    "id",
    "repr",
    "str",
    "print",
];

/// Attribute names that, on a receiver gasguard cannot resolve, can only be
/// a way to reach these modules (`(lambda: torch)().os`, `x.os.system`).
pub const MODULE_LIKE_ATTRIBUTES: &[&str] = &[
    "os",
    "sys",
    "subprocess",
    "builtins",
    "bltns",
    "_sys",
    "_os",
    "importlib",
    "ctypes",
    "socket",
    "pickle",
    "marshal",
    "shutil",
    "posix",
    "_posixsubprocess",
    "runpy",
];

pub fn is_dunder(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__")
}

/// Whether reading the attribute `name` is allowed as far as dunders go.
pub fn dunder_allowed(name: &str) -> bool {
    !is_dunder(name) || DUNDER_ALLOWLIST.contains(&name)
}

impl Analyzer<'_, '_> {
    /// The name of an accessed attribute: non-ASCII, or an introspection
    /// attribute (a dunder off the allowlist, or a frame/code attribute).
    pub(super) fn check_attribute_name(&mut self, attr: &str, at: Range<usize>) {
        self.check_identifier(attr, at.clone());
        if !dunder_allowed(attr) || INTROSPECTION_ATTRIBUTES.contains(&attr) {
            let help = match attr {
                "__class__" => "use type(obj) instead",
                "__annotations__" | "__wrapped__" | "__dict__" => {
                    "libraries read and evaluate these; do not read or write them"
                }
                _ => {
                    "remove it; models have no need to introspect the interpreter (allowed dunders: `gasguard rules P107`)"
                }
            };
            self.report(
                Diagnostic::new(
                    &rules::DUNDER_ACCESS,
                    format!("`.{attr}` reaches code, frames, globals or library internals"),
                )
                .help(help),
                at,
            );
        }
    }

    pub(super) fn check_identifier(&mut self, name: &str, at: Range<usize>) {
        if !name.is_ascii() {
            self.report(
                Diagnostic::new(&rules::NON_ASCII_IDENTIFIER, format!("the identifier `{name}` has non-ASCII characters (Python reads it NFKC-normalised)"))
                    .help("use ASCII names"),
                at,
            );
        }
    }
}

//! The scope model of `model.py`, built as CPython's symtable builds it:
//! which scope each name lives in, every place that binds it, and the
//! branch conditions guarding each binding. Built once, queried by the
//! value interpreter (`values.rs`); rules never walk scopes themselves.
//!
//! The walk matches every statement, expression and pattern kind of ruff's
//! AST without a wildcard arm, so a new node kind fails to compile instead
//! of being skipped.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use ruff_python_ast::{self as ast, Expr, Pattern, Stmt};
use ruff_text_size::Ranged;

mod builder;
use builder::Builder;

pub type ScopeId = usize;
pub type FuncId = usize;
pub type ClassId = usize;

/// The module scope is always the first.
pub const MODULE_SCOPE: ScopeId = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Class,
    /// `def` and `lambda`.
    Function,
    /// List, set and dict comprehensions and generator expressions.
    Comprehension,
}

/// A branch condition: the binding or call happens only when `test`'s
/// truth equals `holds`. Evaluated lazily (`values.rs`), so a branch is
/// pruned only when its test is a proven constant.
#[derive(Clone, Copy, Debug)]
pub struct Guard<'a> {
    pub test: &'a Expr,
    pub scope: ScopeId,
    pub holds: bool,
}

#[derive(Clone, Debug)]
pub enum BindingKind<'a> {
    /// `name = value` (plain, annotated, walrus; also assignments routed by
    /// `global`/`nonlocal`). The value is evaluated in `scope`.
    Value {
        value: &'a Expr,
        scope: ScopeId,
    },
    /// An element of a tuple/list literal unpacked pairwise.
    /// `import a.b` binds `a`; `import a.b as c` binds `a.b`.
    Import(String),
    /// `from m import n`: the object `m.n`.
    ImportFrom(String),
    /// Parameter `index` of a function defined in model.py.
    Param {
        func: FuncId,
        index: usize,
    },
    Function(FuncId),
    Class(ClassId),
    /// `__file__`: the path of model.py, inside the submission.
    SubmissionFile,
    /// Taken out of a value: a loop or comprehension variable, an element
    /// of an unpacking (`a, *b = x`), by following `path` from `value`.
    Select {
        value: &'a Expr,
        scope: ScopeId,
        path: Vec<Step>,
    },
    /// `name += value` (or `|=`): a list or dict the name held is changed
    /// in place and stays the same object; anything else becomes unknown.
    Augmented,
    /// `except T as name` (`except* T as name` when `group`): an exception
    /// raised anywhere, narrowed by the handler's type `type_` (evaluated
    /// in `scope`) when that is the file's classes (`protocols.rs`).
    Caught {
        type_: Option<&'a Expr>,
        scope: ScopeId,
        group: bool,
    },
    /// Bound to something the interpreter does not follow: a `match`
    /// capture it cannot place, a relative import.
    Unknown(&'static str),
}

/// One step from a value to part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The value under a key (a `match` mapping pattern).
    Key(String),
    /// An attribute (a `match` class pattern's keyword).
    Attr(String),
    /// Any element it yields when iterated.
    Iterate,
    /// What its `__enter__` returns (`with value as name`).
    Enter,
    /// What its `__aenter__` returns, awaited (`async with value as name`).
    AsyncEnter,
    /// Any element `async for` takes from it (`__aiter__`, then what
    /// `__anext__` returns, awaited).
    AsyncIterate,
    /// Target `at` of `len` unpacking targets, the starred one (if any)
    /// at `star`.
    Index {
        at: usize,
        len: usize,
        star: Option<usize>,
    },
}

#[derive(Clone, Debug)]
pub struct Binding<'a> {
    pub kind: BindingKind<'a>,
    pub guards: Vec<Guard<'a>>,
    /// Where the name is bound (for messages).
    pub at: ruff_text_size::TextRange,
}

#[derive(Debug)]
pub struct Scope<'a> {
    pub kind: ScopeKind,
    pub parent: Option<ScopeId>,
    pub bindings: HashMap<String, Vec<Binding<'a>>>,
    pub globals: HashSet<String>,
    pub nonlocals: HashSet<String>,
    /// Names local to this scope (bound here and not declared
    /// `global`/`nonlocal`), including `del` and annotation-only targets.
    pub locals: HashSet<String>,
    /// The function whose body this is (functions and lambdas).
    pub func: Option<FuncId>,
    /// The class whose body this is.
    pub class: Option<ClassId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Positional,
    PositionalOrKeyword,
    VarArgs,
    KeywordOnly,
    VarKeywords,
}

#[derive(Debug)]
pub struct Param<'a> {
    pub name: String,
    pub kind: ParamKind,
    pub default: Option<&'a Expr>,
}

/// A `yield` (`value` None for a bare one) or `yield from` in a function.
#[derive(Debug)]
pub struct Yielded<'a> {
    pub value: Option<&'a Expr>,
    pub scope: ScopeId,
    /// `yield from value`: yields its elements.
    pub from: bool,
}

#[derive(Debug)]
pub struct Function<'a> {
    pub name: String,
    /// The scope the definition is in (defaults and decorators run there).
    pub parent: ScopeId,
    /// The body's scope.
    pub scope: ScopeId,
    pub params: Vec<Param<'a>>,
    /// Return expressions (a lambda's body counts as one).
    pub returns: Vec<(&'a Expr, ScopeId)>,
    /// `yield` and `yield from` expressions: any makes it a generator.
    pub yields: Vec<Yielded<'a>>,
    /// Defined directly in a class body.
    pub class: Option<ClassId>,
    pub decorators: Vec<&'a Expr>,
    pub is_async: bool,
    pub is_lambda: bool,
    pub range: ruff_text_size::TextRange,
}

#[derive(Debug)]
pub struct Class<'a> {
    pub name: String,
    pub parent: ScopeId,
    pub scope: ScopeId,
    pub bases: Vec<&'a Expr>,
    pub decorators: Vec<&'a Expr>,
    /// The class statement passes keywords (`metaclass=`).
    pub keywords: bool,
}

/// A call in model.py, with where it is and what guards it.
#[derive(Debug)]
pub struct CallSite<'a> {
    pub call: &'a ast::ExprCall,
    pub scope: ScopeId,
    pub guards: Vec<Guard<'a>>,
}

/// A store into an attribute (`x.attr = value`).
#[derive(Debug)]
pub struct AttributeStore<'a> {
    pub binding: Binding<'a>,
    /// The store is `self.attr = ...` in a method of this class (the
    /// receiver is the method's first parameter); `None` for any other
    /// receiver.
    pub self_of: Option<ClassId>,
}

/// A change in place of the object `receiver` evaluates to.
#[derive(Debug)]
pub struct Mutation<'a> {
    pub receiver: &'a Expr,
    pub scope: ScopeId,
    pub added: Added<'a>,
}

/// What a change in place may put into a container.
#[derive(Clone, Copy, Debug)]
pub enum Added<'a> {
    /// One value (`d[k] = v`, `l.append(v)`, `d.setdefault(k, v)`), under
    /// `key` when that is a string literal.
    Value {
        value: &'a Expr,
        key: Option<&'a str>,
    },
    /// Every element of an iterable, or value of a mapping (`l.extend(x)`,
    /// `d.update(x)`, `l += x`).
    Elements(&'a Expr),
    /// Nothing new: it removes or reorders (`pop`, `sort`, `del d[k]`).
    Nothing,
    /// Something gasguard does not follow.
    Unknown,
}

/// A load of a name or attribute name somewhere, for reachability and
/// escape analysis (by name: an over-approximation).
#[derive(Debug)]
pub struct Reference<'a> {
    pub name: String,
    pub scope: ScopeId,
    pub guards: Vec<Guard<'a>>,
    /// The reference is the callee of a call (`f(...)`, `self.f(...)`).
    pub called: bool,
    /// A name Python uses by protocol without passing the object on: an
    /// `except` handler's type, a class's base, a raised class.
    pub protocol: bool,
}

#[derive(Debug, Default)]
pub struct SemanticModel<'a> {
    pub scopes: Vec<Scope<'a>>,
    pub functions: Vec<Function<'a>>,
    pub classes: Vec<Class<'a>>,
    pub calls: Vec<CallSite<'a>>,
    /// Objects changed in place: receivers of mutating methods
    /// (`d.update(...)`), of item stores (`d[k] = v`) and of `+=`.
    pub mutated: Vec<Mutation<'a>>,
    pub references: Vec<Reference<'a>>,
    /// Every value stored into an attribute named `attr` anywhere
    /// (`x.attr = value`): what an instance attribute may hold.
    pub attribute_stores: HashMap<String, Vec<AttributeStore<'a>>>,
    /// The scope a `def`, `class`, `lambda` or comprehension opens, by the
    /// node's start offset and kind.
    scope_of: HashMap<(u32, u8), ScopeId>,
}

/// Node kinds that open scopes, for `scope_of`.
pub const NODE_FUNCTION: u8 = 0;
pub const NODE_CLASS: u8 = 1;
pub const NODE_LAMBDA: u8 = 2;
pub const NODE_COMPREHENSION: u8 = 3;

/// Whether a call passes positional arguments only, none of them
/// unpacked (`f(a, b)`, not `f(*a)` or `f(a, k=b)`).
pub fn plain_arguments(call: &ast::ExprCall) -> bool {
    call.arguments.keywords.is_empty()
        && !(call.arguments.args.iter()).any(|a| matches!(a, Expr::Starred(_)))
}

/// Methods that change a dict, list or set in place, and what each adds.
fn mutation_of<'a>(method: &str, call: &'a ast::ExprCall) -> Option<Added<'a>> {
    let args = &call.arguments.args;
    let plain = plain_arguments(call);
    let literal_key = |e: Option<&'a Expr>| match e {
        Some(Expr::StringLiteral(k)) => Some(k.value.to_str()),
        _ => None,
    };
    let value_at = |i: usize, key: Option<&'a Expr>| match args.get(i) {
        Some(value) if plain => Added::Value {
            value,
            key: literal_key(key),
        },
        _ => Added::Unknown,
    };
    Some(match method {
        "append" | "add" => value_at(0, None),
        "insert" | "__setitem__" => value_at(1, args.first()),
        "setdefault" if args.len() == 1 && plain => Added::Nothing, // adds None
        "setdefault" => value_at(1, args.first()),
        "extend" | "__iadd__" | "__ior__" if plain && args.len() == 1 => Added::Elements(&args[0]),
        "update" if args.len() == 1 && plain => Added::Elements(&args[0]),
        "pop" | "popitem" | "clear" | "remove" | "discard" | "sort" | "reverse" | "__delitem__" => {
            Added::Nothing
        }
        "update"
        | "extend"
        | "__iadd__"
        | "__ior__"
        | "difference_update"
        | "intersection_update"
        | "symmetric_difference_update" => Added::Unknown,
        _ => return None,
    })
}

/// Names the import system binds in every module.
const MODULE_IMPLICIT: &[&str] = &[
    "__name__",
    "__doc__",
    "__package__",
    "__cached__",
    "__annotations__",
];

/// Names CPython's `builtins` module defines (3.11).
pub const BUILTIN_NAMES: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "Ellipsis",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "False",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "None",
    "NotADirectoryError",
    "NotImplemented",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "True",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
    "__build_class__",
    "__debug__",
    "__doc__",
    "__import__",
    "__loader__",
    "__name__",
    "__package__",
    "__spec__",
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

/// The elements of a tuple or list display (`a, b` / `[a, b]`), the
/// shapes unpacking and `__match_args__` take apart.
pub fn sequence_elements(e: &Expr) -> Option<&[Expr]> {
    match e {
        Expr::Tuple(t) => Some(&t.elts),
        Expr::List(l) => Some(&l.elts),
        _ => None,
    }
}

pub fn is_builtin(name: &str) -> bool {
    builtin_name(name).is_some()
}

/// The builtins table's own copy of `name`, if it is a builtin (values
/// hold it without allocating).
pub fn builtin_name(name: &str) -> Option<&'static str> {
    // Every name load asks this: one hash look-up, where a binary search
    // over the table compared ~8 strings.
    static TABLE: std::sync::OnceLock<foldhash::HashSet<&'static str>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (BUILTIN_NAMES.iter().copied())
            .chain(["__builtins__"])
            .collect()
    });
    table.get(name).copied()
}

pub type ScopeList = smallvec::SmallVec<[ScopeId; 2]>;

/// Where a loaded name's value comes from.
#[derive(Debug, Default, Clone)]
pub struct Lookup {
    /// Scopes whose bindings of the name may be the value (at most two: a
    /// class body's own, then the enclosing one; kept inline, as every name
    /// load asks).
    pub scopes: ScopeList,
    /// The builtin of that name may be the value (module and class scopes
    /// fall through to builtins while the name is not yet bound).
    pub builtin: bool,
}

impl<'a> SemanticModel<'a> {
    pub fn build(module: &'a ast::ModModule) -> Self {
        let mut b = Builder {
            model: SemanticModel::default(),
            pending: Vec::new(),
            current: MODULE_SCOPE,
            func: None,
            guards: Vec::new(),
            protocol_refs: false,
        };
        b.open_scope(ScopeKind::Module, None, None, None);
        b.bind("__file__", BindingKind::SubmissionFile, module.range());
        for name in MODULE_IMPLICIT {
            b.bind(
                name,
                BindingKind::Unknown("set by the import system"),
                module.range(),
            );
        }
        b.body(&module.body);
        b.finish()
    }

    pub fn scope_of(&self, start: ruff_text_size::TextSize, node: u8) -> Option<ScopeId> {
        self.scope_of.get(&(u32::from(start), node)).copied()
    }

    /// Where `name`, loaded in `scope`, gets its value (CPython's rules:
    /// local, enclosing function scopes skipping class bodies, module,
    /// builtins).
    pub fn lookup(&self, scope: ScopeId, name: &str) -> Lookup {
        let s = &self.scopes[scope];
        if s.globals.contains(name) {
            return self.global_lookup(name);
        }
        if s.nonlocals.contains(name) {
            return self.free_lookup(scope, name);
        }
        match s.kind {
            ScopeKind::Module => self.global_lookup(name),
            ScopeKind::Class => {
                // A class body reads its own namespace, then what encloses it
                // (the name may not be bound yet when it is read).
                let mut l = self.free_lookup(scope, name);
                if s.locals.contains(name) {
                    l.scopes.insert(0, scope);
                }
                l
            }
            ScopeKind::Function | ScopeKind::Comprehension => {
                if s.locals.contains(name) {
                    Lookup {
                        scopes: smallvec::smallvec![scope],
                        builtin: false,
                    }
                } else {
                    self.free_lookup(scope, name)
                }
            }
        }
    }

    fn global_lookup(&self, name: &str) -> Lookup {
        let bound = self.scopes[MODULE_SCOPE].locals.contains(name);
        Lookup {
            scopes: if bound {
                smallvec::smallvec![MODULE_SCOPE]
            } else {
                ScopeList::new()
            },
            builtin: is_builtin(name),
        }
    }

    /// A free variable: the nearest enclosing function scope that binds it,
    /// else the module.
    fn free_lookup(&self, scope: ScopeId, name: &str) -> Lookup {
        let mut p = self.scopes[scope].parent;
        while let Some(id) = p {
            let s = &self.scopes[id];
            match s.kind {
                ScopeKind::Module => return self.global_lookup(name),
                ScopeKind::Class => {}
                ScopeKind::Function | ScopeKind::Comprehension => {
                    if s.globals.contains(name) {
                        return self.global_lookup(name);
                    }
                    if s.locals.contains(name) {
                        return Lookup {
                            scopes: smallvec::smallvec![id],
                            builtin: false,
                        };
                    }
                }
            }
            p = s.parent;
        }
        self.global_lookup(name)
    }

    /// The innermost enclosing function of `scope` (itself included).
    pub fn enclosing_function(&self, mut scope: ScopeId) -> Option<FuncId> {
        loop {
            let s = &self.scopes[scope];
            if let Some(f) = s.func {
                return Some(f);
            }
            scope = s.parent?;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn builtin_names_sorted() {
        // Kept sorted, so that the list reads and diffs well.
        assert!(super::BUILTIN_NAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(super::is_builtin("zip") && super::is_builtin("ArithmeticError"));
        assert!(super::is_builtin("__builtins__") && !super::is_builtin("torch"));
    }
}

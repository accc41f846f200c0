//! What each expression of `model.py` may be: a small abstract interpreter
//! over the scope model. Values are followed the way Python would follow
//! them: names through every live binding, attributes of modules and of the
//! file's own classes, calls of the file's own functions (their returns),
//! and parameters from every call site that can run (closed world: model.py
//! is called only by itself and by the evaluator). What cannot be followed
//! is `Unknown`; the rules decide what an unknown means at each sink.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::Ranged;

use super::semantic::{
    Binding, BindingKind, ClassId, FuncId, Guard, Lookup, MODULE_SCOPE, NODE_COMPREHENSION,
    ParamKind, ScopeId, ScopeKind, ScopeList, SemanticModel,
};
use crate::config::ConfigFacts;

mod attributes;
mod calls;
mod closed_world;
mod containers;
mod exceptions;
mod protocols;

pub use containers::FOLLOWED_METHODS;
pub use exceptions::GROUP_ATTRIBUTES;
pub use protocols::FOLLOWED_DUNDERS;
mod memo;
mod partial;
mod worklist;

pub use partial::{ArgList, BoundCall, PARTIAL_ATTRIBUTES, PARTIAL_PATH};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// A module, or an object inside one, by dotted path (`torch.hub.load`).
    /// Shared text: values are cloned on every remembered read.
    Lib(Rc<str>),
    /// A builtin, by its name in the builtins table.
    Builtin(&'static str),
    Function(FuncId),
    Class(ClassId),
    Instance(ClassId),
    /// A string: its whole text when `exact`, else a known prefix.
    Str {
        text: Rc<str>,
        exact: bool,
    },
    /// A string naming a file inside the submission (the weights path
    /// `load_model` receives, and strings derived from it).
    LocalStr,
    /// A `pathlib.Path` inside the submission (`Path(weights_path).parent`).
    LocalPath,
    /// A `pathlib.Path` not known to be inside the submission.
    Path,
    Bool(bool),
    Int(i64),
    Float,
    None,
    Bytes,
    /// A dict built by a literal or `dict(k=v)`, by its start offset and
    /// scope (keys stay readable).
    Dict(u32, ScopeId),
    /// The keys of `model:` in model_config.yaml that `load_model`'s
    /// `**kwargs` receives.
    ConfigKwargs,
    /// A tuple, list or set literal, by its start offset and scope.
    Seq(u32, ScopeId),
    /// A container gasguard does not track (`a, *rest = x`, `d.values()`)
    /// that holds some of these values.
    Items(Box<Values>),
    /// A `functools.partial(f, *args, **keywords)` object, by the start
    /// offset and scope of the call that made it (`partial.rs`).
    Partial(u32, ScopeId),
    Unknown,
}

impl Value {
    /// Python truthiness when it follows from the value alone.
    pub fn truth(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            Value::None => Some(false),
            Value::Str { text, exact } => {
                if *exact {
                    Some(!text.is_empty())
                } else if text.is_empty() {
                    None
                } else {
                    Some(true)
                }
            }
            // Library objects (functions, classes, enum members such as
            // `ResNet18_Weights.DEFAULT`) are true; taking a rare None-valued
            // library constant as true only makes a verdict stricter.
            Value::Lib(_)
            | Value::Function(_)
            | Value::Class(_)
            | Value::LocalStr
            | Value::LocalPath
            | Value::Path => Some(true),
            _ => None,
        }
    }

    /// A short description for messages.
    pub fn describe(&self) -> String {
        match self {
            Value::Lib(p) => format!("`{p}`"),
            Value::Builtin(n) => format!("the builtin `{n}`"),
            Value::Function(_) => "a function of model.py".into(),
            Value::Class(_) => "a class of model.py".into(),
            Value::Instance(_) => "an instance of a class of model.py".into(),
            Value::Str { text, exact: true } => format!("{text:?}"),
            Value::Str { text, exact: false } if text.is_empty() => "a string".into(),
            Value::Str { text, .. } => format!("a string starting {text:?}"),
            Value::LocalStr => "a file name inside the submission".into(),
            Value::LocalPath => "a path inside the submission".into(),
            Value::Path => "a path".into(),
            Value::Bool(b) => if *b { "True" } else { "False" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Float => "a number".into(),
            Value::None => "None".into(),
            Value::Bytes => "bytes".into(),
            Value::Dict(..) => "a dict".into(),
            Value::ConfigKwargs => "the keyword arguments from model_config.yaml".into(),
            Value::Seq(..) | Value::Items(_) => "a tuple or list".into(),
            Value::Partial(..) => "a functools.partial object".into(),
            Value::Unknown => "a value gasguard cannot follow".into(),
        }
    }
}

/// What an expression may be: most often one value, kept inline (no heap
/// allocation for it, nor for a clone of a remembered one).
pub type Values = smallvec::SmallVec<[Value; 1]>;

fn one(v: Value) -> Values {
    smallvec::smallvec![v]
}

/// A copy of remembered values (every memo hit makes one): one value
/// without SmallVec's general clone, which goes through `extend`.
fn copied(v: &Values) -> Values {
    match v.as_slice() {
        [only] => one(only.clone()),
        _ => v.clone(),
    }
}

fn normalize(mut v: Values) -> Values {
    if v.len() > 1 {
        v.sort();
        v.dedup();
    }
    v
}

/// Bounds of evaluation; past them the result is truncated (P111).
const MAX_DEPTH: usize = 64;
/// Steps for one top-level evaluation.
const EVAL_BUDGET: usize = 2_000;
/// Steps for all evaluations of the whole-file passes together.
const PREPASS_BUDGET: usize = 1_000_000;
/// Evaluations of a self-referring name before it counts as a cycle.
const FIXPOINT_ROUNDS: usize = 6;
/// Possible values of one name.
pub const MAX_VALUES: usize = 256;

/// Builtins whose results hold what their arguments hold, followed by
/// `container_builtin`: their arguments are not passed on.
pub const CONTAINER_BUILTINS: &[&str] = &[
    "list",
    "tuple",
    "set",
    "frozenset",
    "sorted",
    "reversed",
    "iter",
    "next",
    "enumerate",
    "zip",
    "min",
    "max",
];

/// Constructors of `pathlib` paths.
const PATH_TYPES: &[&str] = &[
    "pathlib.Path",
    "pathlib.PurePath",
    "pathlib.PosixPath",
    "pathlib.PurePosixPath",
];
/// Path methods that return a path derived from the receiver.
const PATH_DERIVING: &[&str] = &[
    "joinpath",
    "with_name",
    "with_suffix",
    "with_stem",
    "resolve",
    "absolute",
    "relative_to",
];
/// String methods that return a string derived from the receiver.
const STR_DERIVING: &[&str] = &[
    "replace",
    "strip",
    "rstrip",
    "lstrip",
    "format",
    "lower",
    "upper",
    "removesuffix",
    "removeprefix",
];
/// Library-class methods a subclass of model.py inherits that the policy
/// judges by their arguments: followed through file classes to the library.
const INHERITED_APIS: &[&str] = &[
    "from_pretrained",
    "save_pretrained",
    "push_to_hub",
    "load",
    "save",
];

/// Decorators that call the function as it is called (or only with `self`).
const TRANSPARENT_DECORATORS: &[&str] = &[
    "builtins.staticmethod",
    "builtins.classmethod",
    "builtins.property",
    "torch.no_grad",
    "torch.inference_mode",
    "torch.enable_grad",
    "torch.autocast",
    "torch.cuda.amp.autocast",
    "torch.amp.autocast",
    "torch.jit.ignore",
    "torch.jit.unused",
    "functools.cache",
    "functools.lru_cache",
    "functools.cached_property",
];

/// Where a dict value was built.
#[derive(Clone, Copy)]
enum DictSource<'a> {
    Literal(&'a ast::ExprDict),
    /// `dict(k=v, ...)`.
    Call(&'a ast::ExprCall),
}

/// A key looked up in a mapping value.
enum Entry {
    /// The key is there, with one of these values.
    Found(Values),
    /// The key may be there, with one of these values.
    Maybe(Values),
    /// The mapping is known not to hold the key.
    Absent,
    Unknown,
}

/// Where an argument of a call comes from for one parameter.
pub enum Argument<'a> {
    Given(&'a Expr),
    /// Possibly set by a `*args` or `**mapping` unpacking gasguard cannot list.
    Unpacked(&'a Expr),
    Missing,
}

/// What a name read in a scope looks up, remembered (`Interpreter::name`).
#[derive(Clone)]
struct NameMemo {
    lookup: Lookup,
    /// The values `name` gave when every binding scope's values came from
    /// `names` (or the scope binds nothing there), with the steps those
    /// remembered reads count: a read then gives the same values and steps
    /// without looking up each scope again. Forgotten with `names`. Boxed:
    /// every scope remembers the look-ups of the names it reads, and the
    /// entries stay small (peak memory, tests/bounds.rs).
    values: Option<Box<(Values, usize)>>,
}

/// A name under evaluation: its key, provisional values, and whether a
/// reference back to it read them (`bound_values`).
type ActiveName<'m> = ((ScopeId, &'m str), Values, bool);

pub struct Interpreter<'m, 'a> {
    pub model: &'m SemanticModel<'a>,
    facts: &'m ConfigFacts,
    /// Scopes whose calls count as call sites (None: all of them).
    live_scopes: Option<HashSet<ScopeId>>,
    /// Remembered values of names, keyed by the model's own copy of the name
    /// (no allocation per look-up).
    names: RefCell<HashMap<(ScopeId, &'m str), Values>>,
    /// Instance attributes being read (a read back into one is a cycle).
    active_attributes: RefCell<HashSet<(ClassId, String)>>,
    params: RefCell<HashMap<(FuncId, usize), Values>>,
    /// Names being evaluated, innermost last, each with its provisional
    /// values (read by a reference back to it) and whether one was read.
    active: RefCell<Vec<ActiveName<'m>>>,
    /// The outermost entry of `active` whose provisional values were read.
    provisional: Cell<usize>,
    /// Attribute stores by (class whose `self` they store on, attribute):
    /// indices into the model's `attribute_stores[attribute]`.
    stores: HashMap<(Option<ClassId>, &'m str), Vec<usize>>,
    /// Each class's family (`class_family`), once worked out.
    families: RefCell<HashMap<ClassId, Vec<ClassId>>>,
    /// The file classes each class derives from directly.
    class_bases: RefCell<Option<Vec<Vec<ClassId>>>>,
    /// Tuple, list and set literals by start offset.
    seqs: RefCell<HashMap<u32, &'a [Expr]>>,
    /// What model.py stores into each container (`containers.rs`).
    additions: RefCell<std::rc::Rc<containers::Additions>>,
    /// Stores into containers read out of containers, nested deeper than
    /// gasguard settles (every evaluation then counts as truncated).
    pub additions_unsettled: Cell<bool>,
    /// Whether an evaluation read what is stored into a container.
    additions_read: Cell<bool>,
    /// Steps the whole-file passes have taken (`begin_prepass`).
    prepass_steps: Cell<usize>,
    computing_bases: Cell<bool>,
    /// Names with more values than gasguard follows.
    too_many: RefCell<HashSet<(ScopeId, &'m str)>>,
    /// Remembered attributes of classes and instances (`memo.rs`).
    attributes: RefCell<HashMap<(ClassId, bool, &'a str), Values>>,
    active_params: RefCell<HashSet<(FuncId, usize)>>,
    dicts: RefCell<HashMap<u32, DictSource<'a>>>,
    /// `functools.partial(...)` calls by start offset (`partial.rs`).
    partials: RefCell<HashMap<u32, &'a ast::ExprCall>>,
    /// Call sites of each function: (call index, arguments shifted by a bound `self`).
    call_targets: RefCell<Option<HashMap<FuncId, Vec<(usize, usize)>>>>,
    computing_targets: Cell<bool>,
    escaped: HashSet<FuncId>,
    /// Remembered name look-ups, by scope (`SemanticModel::lookup` is a
    /// pure function of the two, and every name read asks it), with the
    /// name's values when they were made of remembered values only.
    lookups: RefCell<Vec<HashMap<Box<str>, NameMemo>>>,
    /// Each function's decorators of model.py, once (`protocols.rs`): one
    /// answer for the interpreter's life keeps escapes and bindings agreed.
    decorator_chains: RefCell<HashMap<FuncId, Option<Vec<Vec<FuncId>>>>>,
    /// The classes whose body binds each name other than by a plain `def`,
    /// made on the first attribute read from an unknown value
    /// (`attribute_of_unknown`).
    class_body_names: std::cell::OnceCell<HashMap<&'m str, Vec<ClassId>>>,
    /// Call sites that may construct each class (made with `call_targets`).
    class_calls: RefCell<HashMap<ClassId, Vec<usize>>>,
    /// The functions with decorators, in order (every parameter read
    /// looks for where its function decorates one: a walk over every
    /// function each time was quadratic on large files).
    decorated: Vec<FuncId>,
    pub steps: Cell<usize>,
    pub truncated: Cell<bool>,
    pub cycle: Cell<bool>,
}

impl<'m, 'a> Interpreter<'m, 'a> {
    pub fn new(
        model: &'m SemanticModel<'a>,
        facts: &'m ConfigFacts,
        live_scopes: Option<HashSet<ScopeId>>,
    ) -> Self {
        Self::with_escapes(model, facts, live_scopes, None)
    }

    /// An interpreter whose escaped functions are those Python or a library
    /// may call by protocol plus `escaping` (found by where values flow,
    /// `analyze/escapes.rs`); without it, every function referenced by name
    /// other than as a callee escapes.
    pub fn with_escapes(
        model: &'m SemanticModel<'a>,
        facts: &'m ConfigFacts,
        live_scopes: Option<HashSet<ScopeId>>,
        escaping: Option<&HashSet<FuncId>>,
    ) -> Self {
        let mut it = Interpreter {
            model,
            facts,
            live_scopes,
            names: RefCell::default(),
            active_attributes: RefCell::default(),
            params: RefCell::default(),
            active: RefCell::default(),
            provisional: Cell::new(usize::MAX),
            too_many: RefCell::default(),
            attributes: RefCell::default(),
            stores: {
                let mut m: HashMap<(Option<ClassId>, &'m str), Vec<usize>> = HashMap::new();
                for (attr, list) in &model.attribute_stores {
                    for (i, st) in list.iter().enumerate() {
                        m.entry((st.self_of, attr.as_str())).or_default().push(i);
                    }
                }
                m
            },
            families: RefCell::default(),
            class_bases: RefCell::new(None),
            seqs: RefCell::default(),
            additions: RefCell::default(),
            additions_unsettled: Cell::new(false),
            additions_read: Cell::new(false),
            prepass_steps: Cell::new(0),
            computing_bases: Cell::new(false),
            active_params: RefCell::default(),
            dicts: RefCell::default(),
            partials: RefCell::default(),
            call_targets: RefCell::new(None),
            computing_targets: Cell::new(false),
            escaped: HashSet::new(),
            lookups: RefCell::new(vec![HashMap::new(); model.scopes.len()]),
            decorator_chains: RefCell::default(),
            class_body_names: std::cell::OnceCell::new(),
            class_calls: RefCell::default(),
            decorated: (model.functions.iter().enumerate())
                .filter(|(_, f)| !f.decorators.is_empty())
                .map(|(id, _)| id)
                .collect(),
            steps: Cell::new(0),
            truncated: Cell::new(false),
            cycle: Cell::new(false),
        };
        // Parameters read while escapes and call targets are being worked
        // out are taken as unknown; nothing read then is remembered.
        it.computing_targets.set(true);
        it.escaped = match escaping {
            Some(found) => {
                let mut e = it.protocol_escapes();
                e.extend(found.iter().copied());
                e
            }
            None => it.escaped_functions(),
        };
        it.computing_targets.set(false);
        it.forget();
        it.compute_additions();
        it
    }

    /// Starts a top-level evaluation: resets the per-evaluation budget.
    pub fn begin(&self) {
        self.steps.set(0);
        self.truncated.set(self.additions_unsettled.get());
        self.cycle.set(false);
    }

    fn step(&self, depth: usize) -> bool {
        self.steps.set(self.steps.get() + 1);
        if depth > MAX_DEPTH || self.steps.get() > EVAL_BUDGET {
            self.truncated.set(true);
            return false;
        }
        true
    }

    /// The top-level `load_model` function, if any.
    pub fn load_model(&self) -> Option<FuncId> {
        self.model
            .functions
            .iter()
            .enumerate()
            .rev()
            .find(|(_, f)| f.name == "load_model" && f.parent == MODULE_SCOPE && !f.is_lambda)
            .map(|(i, _)| i)
    }

    pub fn eval(&self, expr: &'a Expr, scope: ScopeId) -> Values {
        self.eval_in(expr, scope, 0)
    }

    /// Whether every guard may hold (no branch condition is a proven
    /// constant of the other truth).
    pub fn guards_may_hold(&self, guards: &[Guard<'a>]) -> bool {
        self.guards_hold_at(guards, 0)
    }

    /// As `guards_may_hold`, inside an evaluation `depth` deep (the depth
    /// bounds recursion through guards of guards).
    fn guards_hold_at(&self, guards: &[Guard<'a>], depth: usize) -> bool {
        guards
            .iter()
            .all(|g| self.truth(g.test, g.scope, depth + 1) != Some(!g.holds))
    }

    /// The truth of a test when it is proven constant.
    pub fn truth(&self, test: &'a Expr, scope: ScopeId, depth: usize) -> Option<bool> {
        let name_rebound = self.model.scopes[MODULE_SCOPE]
            .bindings
            .get("__name__")
            .is_some_and(|b| b.len() > 1);
        if is_main_guard(test) && !name_rebound {
            // The evaluator imports model.py under another name.
            return Some(false);
        }
        if let Expr::UnaryOp(u) = test
            && u.op == ast::UnaryOp::Not
        {
            return self.truth(&u.operand, scope, depth + 1).map(|b| !b);
        }
        let values = self.eval_in(test, scope, depth + 1);
        let mut truths = values.iter().map(Value::truth);
        let first = truths.next()??;
        truths.all(|t| t == Some(first)).then_some(first)
    }

    fn eval_in(&self, expr: &'a Expr, scope: ScopeId, depth: usize) -> Values {
        if !self.step(depth) {
            return one(Value::Unknown);
        }
        let values = match expr {
            Expr::Name(n) => self.name(scope, n.id.as_str(), depth),
            Expr::Attribute(a) => {
                let base = self.eval_in(&a.value, scope, depth + 1);
                self.attributes_of(&base, a.attr.as_str(), depth)
            }
            Expr::Call(c) => self.call(c, scope, depth),
            Expr::StringLiteral(s) => one(Value::Str {
                text: s.value.to_str().into(),
                exact: true,
            }),
            Expr::BytesLiteral(_) => one(Value::Bytes),
            Expr::NumberLiteral(n) => one(match &n.value {
                ast::Number::Int(i) => i.as_i64().map_or(Value::Float, Value::Int),
                _ => Value::Float,
            }),
            Expr::BooleanLiteral(b) => one(Value::Bool(b.value)),
            Expr::NoneLiteral(_) => one(Value::None),
            Expr::FString(f) => one(self.fstring(f, scope, depth)),
            Expr::BinOp(b) => self.binop(b, scope, depth),
            Expr::BoolOp(b) => b
                .values
                .iter()
                .flat_map(|v| self.eval_in(v, scope, depth + 1))
                .collect(),
            Expr::If(i) => match self.truth(&i.test, scope, depth + 1) {
                Some(true) => self.eval_in(&i.body, scope, depth + 1),
                Some(false) => self.eval_in(&i.orelse, scope, depth + 1),
                None => {
                    let mut v = self.eval_in(&i.body, scope, depth + 1);
                    v.extend(self.eval_in(&i.orelse, scope, depth + 1));
                    v
                }
            },
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not => {
                match self.truth(&u.operand, scope, depth + 1) {
                    Some(b) => one(Value::Bool(!b)),
                    None => one(Value::Unknown),
                }
            }
            Expr::Named(n) => self.eval_in(&n.value, scope, depth + 1),
            Expr::Await(a) => self.awaited(&self.eval_in(&a.value, scope, depth + 1)),
            Expr::Subscript(s) => self.subscript(s, scope, depth),
            Expr::List(ast::ExprList { elts, .. })
            | Expr::Tuple(ast::ExprTuple { elts, .. })
            | Expr::Set(ast::ExprSet { elts, .. }) => {
                let start = u32::from(expr.range().start());
                self.seqs.borrow_mut().insert(start, elts);
                one(Value::Seq(start, scope))
            }
            Expr::Dict(d) => {
                let start = u32::from(d.range().start());
                self.dicts
                    .borrow_mut()
                    .insert(start, DictSource::Literal(d));
                one(Value::Dict(start, scope))
            }
            // A comprehension's result holds what its element may be.
            Expr::ListComp(ast::ExprListComp { elt, .. })
            | Expr::SetComp(ast::ExprSetComp { elt, .. })
            | Expr::Generator(ast::ExprGenerator { elt, .. }) => {
                match self
                    .model
                    .scope_of(expr.range().start(), NODE_COMPREHENSION)
                {
                    Some(s) => one(Value::Items(Box::new(normalize(self.eval_in(
                        elt,
                        s,
                        depth + 1,
                    ))))),
                    None => one(Value::Unknown),
                }
            }
            Expr::DictComp(d) => {
                match self
                    .model
                    .scope_of(expr.range().start(), NODE_COMPREHENSION)
                {
                    Some(s) => {
                        let mut held = match d.key.as_deref() {
                            Some(k) => self.eval_in(k, s, depth + 1),
                            None => one(Value::Unknown),
                        };
                        held.extend(self.eval_in(&d.value, s, depth + 1));
                        one(Value::Items(Box::new(normalize(held))))
                    }
                    None => one(Value::Unknown),
                }
            }
            Expr::Lambda(l) => {
                match self
                    .model
                    .scope_of(l.range().start(), super::semantic::NODE_LAMBDA)
                    .and_then(|s| self.model.scopes[s].func)
                {
                    Some(f) => one(Value::Function(f)),
                    None => one(Value::Unknown),
                }
            }
            _ => one(Value::Unknown),
        };
        self.made(values)
    }

    /// An evaluation's values, normalised and counted.
    fn made(&self, values: Values) -> Values {
        let values = normalize(values);
        // Work is counted by values made, not only by nodes visited: a
        // remembered name can stand for hundreds of values.
        self.steps.set(self.steps.get() + values.len());
        if values.len() > MAX_VALUES {
            self.truncated.set(true);
            return one(Value::Unknown);
        }
        values
    }

    /// What `receiver.attr` may be, the receiver's values already known: as
    /// `eval_in` of the attribute, without evaluating the receiver again.
    fn attribute_of_values(&self, receiver: &Values, attr: &'a str, depth: usize) -> Values {
        if !self.step(depth) {
            return one(Value::Unknown);
        }
        let values = self.attributes_of(receiver, attr, depth);
        self.made(values)
    }

    /// `attr` of each value of `base`, in order (one base, the usual case,
    /// without a second vector).
    fn attributes_of(&self, base: &Values, attr: &'a str, depth: usize) -> Values {
        match base.as_slice() {
            [v] => self.attribute_of(v, attr, depth),
            _ => base
                .iter()
                .flat_map(|v| self.attribute_of(v, attr, depth))
                .collect(),
        }
    }

    /// The values `name` may have when loaded in `scope`.
    pub fn name(&self, scope: ScopeId, name: &str, depth: usize) -> Values {
        let remembered = self.lookups.borrow().get(scope).and_then(|m| {
            let (values, steps) = m.get(name)?.values.as_deref()?;
            Some((copied(values), *steps))
        });
        if let Some((values, steps)) = remembered {
            self.steps.set(self.steps.get() + steps);
            return values;
        }
        let lookup = self.lookup(scope, name);
        let mut out = Values::new();
        let mut all_remembered = true;
        let mut steps = 0;
        for s in lookup.scopes {
            let (values, remembered) = self.bound_values_noted(s, name, depth);
            all_remembered &= remembered;
            steps += values.len();
            if out.is_empty() {
                out = values; // the usual single scope: no second vector
            } else {
                out.extend(values);
            }
        }
        if lookup.builtin {
            // `lookup.builtin` holds only for names of the builtins table.
            out.push(match super::semantic::builtin_name(name) {
                Some(b) => Value::Builtin(b),
                None => Value::Unknown,
            });
        }
        if out.is_empty() {
            out.push(Value::Unknown); // bound nowhere: P111 says so
        }
        if all_remembered
            && let Some(memo) =
                (self.lookups.borrow_mut().get_mut(scope)).and_then(|m| m.get_mut(name))
        {
            memo.values = Some(Box::new((out.clone(), steps)));
        }
        out
    }

    /// `SemanticModel::lookup`, remembered.
    fn lookup(&self, scope: ScopeId, name: &str) -> Lookup {
        if let Some(memo) = self.lookups.borrow().get(scope).and_then(|m| m.get(name)) {
            // Not `clone`: SmallVec's goes through `extend`, this is a copy.
            return Lookup {
                scopes: ScopeList::from_slice(&memo.lookup.scopes),
                builtin: memo.lookup.builtin,
            };
        }
        let l = self.model.lookup(scope, name);
        if let Some(m) = self.lookups.borrow_mut().get_mut(scope) {
            let memo = NameMemo {
                lookup: l.clone(),
                values: None,
            };
            m.insert(name.into(), memo);
        }
        l
    }

    /// Forgets the values `name` remembered (`names` is being cleared).
    pub(super) fn forget_name_values(&self) {
        for m in self.lookups.borrow_mut().iter_mut() {
            for memo in m.values_mut() {
                memo.values = None;
            }
        }
    }

    fn bound_values(&self, scope: ScopeId, name: &str, depth: usize) -> Values {
        self.bound_values_noted(scope, name, depth).0
    }

    /// `bound_values`, and whether they came from `names` without other
    /// work (or the scope binds nothing there).
    fn bound_values_noted(&self, scope: ScopeId, name: &str, depth: usize) -> (Values, bool) {
        let model = self.model;
        // A name the scope does not bind has no values there.
        let Some((name, _)) = model.scopes[scope].bindings.get_key_value(name) else {
            return (Values::new(), true);
        };
        let key = (scope, name.as_str());
        if let Some(v) = self.names.borrow().get(&key) {
            self.steps.set(self.steps.get() + v.len());
            return (copied(v), true);
        }
        (self.bound_values_uncached(scope, name, depth), false)
    }

    /// `bound_values` of a name `names` does not hold (`name` is the
    /// model's own copy).
    fn bound_values_uncached(&self, scope: ScopeId, name: &'m str, depth: usize) -> Values {
        let key = (scope, name);
        if self.too_many.borrow().contains(&key) {
            self.truncated.set(true);
            return one(Value::Unknown);
        }
        // A name whose value refers back to itself (`x = [x][0]`): its
        // provisional values are read, and it is evaluated again until they
        // settle (a least fixed point); one that keeps growing (`x = x.a`)
        // is a cycle (P111).
        let me = {
            let mut active = self.active.borrow_mut();
            if let Some(i) = active.iter().position(|(k, _, _)| *k == key) {
                active[i].2 = true;
                self.provisional.set(self.provisional.get().min(i));
                return copied(&active[i].1);
            }
            active.push((key, Values::new(), false));
            active.len() - 1
        };
        let cycle_before = self.cycle.replace(false);
        let provisional_before = self.provisional.replace(usize::MAX);
        let truncated_before = self.truncated.get();
        let mut settled = false;
        let mut out = Values::new();
        for _ in 0..FIXPOINT_ROUNDS {
            out = normalize(self.bindings_values(scope, name, depth));
            let mut active = self.active.borrow_mut();
            let entry = &mut active[me];
            if !entry.2 || entry.1 == out || out.len() > MAX_VALUES {
                settled = true;
                break;
            }
            entry.1 = out.clone();
            entry.2 = false;
        }
        self.active.borrow_mut().truncate(me);
        if !settled {
            self.cycle.set(true);
        }
        // Settled on its own provisional values only: final.
        let leans_on_outer = self.provisional.get() < me;
        self.provisional
            .set(provisional_before.min(if leans_on_outer {
                self.provisional.get()
            } else {
                usize::MAX
            }));
        if out.len() > MAX_VALUES {
            // Too many by itself, whatever the budget: remembered as such.
            self.too_many.borrow_mut().insert(key);
            self.truncated.set(true);
            return one(Value::Unknown);
        }
        // A result cut short by a cycle or the budget, or resting on a
        // provisional value, is not remembered.
        let clean =
            !self.cycle.get() && !leans_on_outer && (!self.truncated.get() || truncated_before);
        if clean && !self.truncated.get() {
            self.names.borrow_mut().insert(key, out.clone());
        }
        self.cycle.set(self.cycle.get() || cycle_before);
        out
    }

    /// The values every live binding of `name` in `scope` may give.
    fn bindings_values(&self, scope: ScopeId, name: &str, depth: usize) -> Values {
        let mut out = Values::new();
        let mut augmented = false;
        if let Some(bindings) = self.model.scopes[scope].bindings.get(name) {
            for b in bindings {
                if !self.guards_hold_at(&b.guards, depth) {
                    continue;
                }
                augmented |= matches!(b.kind, BindingKind::Augmented);
                out.extend(self.binding_values(&b.kind, depth + 1));
            }
        }
        // `x += y` keeps a list or dict (the addition is recorded on it);
        // anything else becomes a new, unknown value.
        if augmented && out.iter().any(|v| !Self::is_tracked(v)) {
            out.push(Value::Unknown);
        }
        out
    }

    fn binding_values(&self, kind: &BindingKind<'a>, depth: usize) -> Values {
        match kind {
            BindingKind::Value { value, scope } => self.eval_in(value, *scope, depth + 1),
            BindingKind::Import(p) | BindingKind::ImportFrom(p) => {
                one(Value::Lib(p.as_str().into()))
            }
            BindingKind::Param { func, index } => self.param(*func, *index, depth + 1),
            BindingKind::Function(f) => self.decorated(*f, depth),
            BindingKind::Class(c) => one(Value::Class(*c)),
            BindingKind::SubmissionFile => one(Value::LocalStr),
            BindingKind::Select { value, scope, path } => self.select(value, *scope, path, depth),
            BindingKind::Augmented => Values::new(),
            BindingKind::Caught {
                type_,
                scope,
                group,
            } => self.caught(*type_, *scope, *group, depth),
            BindingKind::Unknown(_) => one(Value::Unknown),
        }
    }

    /// Whether a call's first argument names something inside the
    /// submission (`Path(weights_path)`, `str(p)`).
    fn first_arg_local(&self, c: &'a ast::ExprCall, scope: ScopeId, depth: usize) -> bool {
        c.arguments
            .args
            .first()
            .is_some_and(|a| all_local(&self.eval_in(a, scope, depth + 1)))
    }

    fn fstring(&self, f: &'a ast::ExprFString, scope: ScopeId, depth: usize) -> Value {
        let mut text = String::new();
        for (i, e) in f.value.elements().enumerate() {
            match e {
                ast::InterpolatedStringElement::Literal(l) => text.push_str(&l.value),
                ast::InterpolatedStringElement::Interpolation(x) => {
                    let v = self.eval_in(&x.expression, scope, depth + 1);
                    if i == 0 && all_local(&v) {
                        return Value::LocalStr;
                    }
                    // One known string, shown as it is: part of the text.
                    let plain =
                        x.conversion == ast::ConversionFlag::None && x.format_spec.is_none();
                    match v.as_slice() {
                        [
                            Value::Str {
                                text: t,
                                exact: true,
                            },
                        ] if plain => text.push_str(t),
                        _ => {
                            return Value::Str {
                                text: text.into(),
                                exact: false,
                            };
                        }
                    }
                }
            }
        }
        Value::Str {
            text: text.into(),
            exact: true,
        }
    }

    fn binop(&self, b: &'a ast::ExprBinOp, scope: ScopeId, depth: usize) -> Values {
        let left = self.eval_in(&b.left, scope, depth + 1);
        let right = self.eval_in(&b.right, scope, depth + 1);
        let mut out = Values::new();
        for l in &left {
            for r in &right {
                out.push(match (b.op, l, r) {
                    (
                        ast::Operator::Add,
                        Value::Str {
                            text: a,
                            exact: true,
                        },
                        Value::Str { text: c, exact },
                    ) => Value::Str {
                        text: format!("{a}{c}").into(),
                        exact: *exact,
                    },
                    (ast::Operator::Add, Value::Str { text, .. }, _) => Value::Str {
                        text: text.clone(),
                        exact: false,
                    },
                    // Joined with a literal relative name, a local path stays
                    // local; `Path(p) / "/etc/x"` or `/ "../.."` does not.
                    (ast::Operator::Add, Value::LocalStr, Value::Str { text, exact: true })
                        if stays_inside(text) =>
                    {
                        Value::LocalStr
                    }
                    (ast::Operator::Div, Value::LocalPath, Value::Str { text, exact: true })
                        if stays_inside(text) =>
                    {
                        Value::LocalPath
                    }
                    (ast::Operator::Div, Value::LocalPath, _) => Value::Path,
                    (ast::Operator::Div, Value::Path, _) => Value::Path,
                    (ast::Operator::Mod, Value::Str { text, .. }, _) => Value::Str {
                        text: text.split('%').next().unwrap_or("").into(),
                        exact: false,
                    },
                    _ => Value::Unknown,
                });
            }
        }
        out
    }

    fn subscript(&self, s: &'a ast::ExprSubscript, scope: ScopeId, depth: usize) -> Values {
        let int_index = |e: &Expr| match e {
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => i.as_i64(),
                _ => None,
            },
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => match u.operand.as_ref() {
                Expr::NumberLiteral(n) => match &n.value {
                    ast::Number::Int(i) => i.as_i64().map(|i| -i),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        let mut out = Values::new();
        for v in self.eval_in(&s.value, scope, depth + 1) {
            let container = matches!(
                v,
                Value::Seq(..) | Value::Items(_) | Value::Dict(..) | Value::ConfigKwargs
            );
            match s.slice.as_ref() {
                Expr::StringLiteral(k) => out.extend(match self.entry(&v, k.value.to_str()) {
                    Entry::Found(vals) => vals,
                    // Or a KeyError: no value.
                    Entry::Maybe(vals) => vals,
                    Entry::Absent | Entry::Unknown => one(Value::Unknown),
                }),
                // A slice of a sequence: a new list of some of its elements.
                Expr::Slice(_) if container => out.push(Value::Items(Box::new(normalize(
                    self.iterate(&v, depth + 1),
                )))),
                e if container => match int_index(e) {
                    Some(i) => out.extend(self.index(&v, i, depth + 1)),
                    // An index or key gasguard cannot pin down: any element
                    // (or the KeyError of none).
                    None => {
                        out.extend(self.values_of(&v, depth + 1));
                        out.push(Value::Unknown);
                    }
                },
                _ => out.push(Value::Unknown),
            }
        }
        out
    }

    /// Key `key` of a mapping value.
    fn entry(&self, v: &Value, key: &str) -> Entry {
        match v {
            Value::ConfigKwargs => match self.config_kwargs().get(key) {
                Some(j) => Entry::Found(one(from_json(j))),
                None => Entry::Absent,
            },
            // An empty mapping (a `**kwargs` that received nothing).
            Value::Dict(u32::MAX, _) => Entry::Absent,
            Value::Dict(start, scope) => self.dict_entry(*start, *scope, key),
            // An untracked container: any of what it holds.
            Value::Items(items) => Entry::Maybe((**items).clone()),
            _ => Entry::Unknown,
        }
    }

    /// What `load_model`'s `**kwargs` receives: the `model:` keys that no
    /// named parameter takes.
    fn config_kwargs(&self) -> serde_json::Map<String, serde_json::Value> {
        let named: Vec<&str> = self
            .load_model()
            .map(|f| {
                self.model.functions[f]
                    .params
                    .iter()
                    .filter(|p| !matches!(p.kind, ParamKind::VarArgs | ParamKind::VarKeywords))
                    .map(|p| p.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        self.facts
            .model_section
            .iter()
            .filter(|(k, _)| !named.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::None,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n.as_i64().map_or(Value::Float, Value::Int),
        serde_json::Value::String(s) => Value::Str {
            text: s.as_str().into(),
            exact: true,
        },
        _ => Value::Unknown,
    }
}

/// Every value names something inside the submission (and there is one).
fn all_local(values: &Values) -> bool {
    !values.is_empty()
        && values
            .iter()
            .all(|v| matches!(v, Value::LocalPath | Value::LocalStr))
}

/// A literal path part that cannot leave the folder it is joined to.
fn stays_inside(text: &str) -> bool {
    !text.starts_with('/') && !text.starts_with('~') && !text.split(['/', '\\']).any(|p| p == "..")
}

/// `if __name__ == "__main__":` (either order).
pub fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(c) = test else { return false };
    let name_is_main = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let lit_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    c.comparators.len() == 1
        && c.ops.first() == Some(&ast::CmpOp::Eq)
        && ((name_is_main(&c.left) && lit_main(&c.comparators[0]))
            || (lit_main(&c.left) && name_is_main(&c.comparators[0])))
}

/// Which argument of `call` fills parameter `index` of `params`, the first
/// `shift` parameters being bound already (`self`).
pub fn bind_argument<'a>(
    call: &'a ast::ExprCall,
    params: &[super::semantic::Param],
    index: usize,
    shift: usize,
) -> Argument<'a> {
    let p = &params[index];
    if index < shift {
        return Argument::Missing;
    }
    let positional_slot = match p.kind {
        ParamKind::Positional | ParamKind::PositionalOrKeyword => Some(index - shift),
        _ => None,
    };
    let mut star: Option<&'a Expr> = None;
    let mut position = 0usize;
    for a in call.arguments.args.iter() {
        if let Expr::Starred(s) = a {
            star = Some(&s.value);
            break;
        }
        if Some(position) == positional_slot {
            return Argument::Given(a);
        }
        position += 1;
    }
    if let Some(s) = star
        && positional_slot.is_some_and(|slot| slot >= position)
    {
        return Argument::Unpacked(s);
    }
    if p.kind != ParamKind::Positional {
        for k in &call.arguments.keywords {
            match &k.arg {
                Some(a) if a.as_str() == p.name => return Argument::Given(&k.value),
                None => return Argument::Unpacked(&k.value),
                _ => {}
            }
        }
    }
    Argument::Missing
}

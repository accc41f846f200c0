//! The escape fixed point: the checks run over the whole file in rounds,
//! each with the escapes the rounds before found (`escapes.rs`), until a
//! round finds none new; its findings are the file's.

use super::*;

/// What every round reads.
struct FileInput<'x, 'a> {
    file: &'x str,
    source: &'x str,
    module: &'a ast::ModModule,
    policy: &'x Policy,
    facts: &'x ConfigFacts,
}

/// Runs every AST check.
pub fn analyze(
    file: &str,
    source: &str,
    module: &ast::ModModule,
    policy: &Policy,
    facts: &ConfigFacts,
) -> (Vec<Diagnostic>, CodeInventory) {
    let model = SemanticModel::build(module);
    // First pass: what runs, with every call site counted; then the values
    // the analysis uses count only call sites in code that runs.
    let first = Interpreter::new(&model, facts, None);
    let live = first.reachable_scopes();
    let methods = escapes::MethodIndex::new(&model);
    let predicted = escapes::predicted_escapes(&model, &first, &methods);
    drop(first);
    let input = FileInput {
        file,
        source,
        module,
        policy,
        facts,
    };
    escape_fixed_point(&input, &model, &live, &methods, predicted)
}

/// Escapes by where values flow, to a fixed point: each round takes the
/// escapes the last one found; they only grow. It starts from those
/// `predicted`, which the last round must find again: a prediction it
/// does not confirm might make the fixed point larger than the least one
/// (less precise), so the rounds start over from none.
fn escape_fixed_point<'a>(
    input: &FileInput<'_, 'a>,
    model: &SemanticModel<'a>,
    live: &HashSet<crate::python::semantic::ScopeId>,
    methods: &escapes::MethodIndex<'_>,
    mut predicted: HashSet<crate::python::semantic::FuncId>,
) -> (Vec<Diagnostic>, CodeInventory) {
    let mut escaping = predicted.clone();
    let mut path_memo = paths::PathMemo::default();
    let mut round = 0;
    loop {
        round += 1;
        let interp =
            Interpreter::with_escapes(model, input.facts, Some(live.clone()), Some(&escaping));
        let mut a = Analyzer {
            file: input.file,
            source: input.source,
            policy: input.policy,
            model,
            interp,
            live: live.clone(),
            scope: MODULE_SCOPE,
            dead: 0,
            eval_steps: 0,
            per_rule: HashMap::new(),
            diags: Vec::new(),
            inventory: CodeInventory::default(),
            reported: HashSet::new(),
            path_memo: std::mem::take(&mut path_memo),
            escaping: HashSet::new(),
            methods,
            foreign_wrappers: None,
            line_starts: std::cell::OnceCell::new(),
            reachable_instances: HashSet::new(),
            pending_stores: Vec::new(),
        };
        for stmt in &input.module.body {
            a.visit_stmt(stmt);
        }
        a.scope = MODULE_SCOPE;
        a.check_load_model(input.module, input.facts);
        a.check_module_statements(input.module);
        a.record_protocol_flows();
        a.judge_pending_stores();
        let grown = a.new_escapes();
        if grown.is_empty() {
            if predicted.iter().all(|f| a.escaping.contains(f)) {
                return (a.diags, a.inventory);
            }
            predicted.clear();
            escaping.clear();
            round = 0;
            path_memo = a.path_memo;
            continue;
        }
        if round >= escapes::MAX_ESCAPE_ROUNDS {
            a.report(
                Diagnostic::new(
                    &rules::UNRESOLVABLE_NAME,
                    "model.py passes its own functions around through more steps than gasguard follows",
                )
                .help("call your functions directly instead of passing them through several others"),
                0..0,
            );
            return (a.diags, a.inventory);
        }
        escaping.extend(grown);
        path_memo = a.path_memo;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The findings with every function of `source` predicted to escape,
    /// and with none predicted.
    fn with_and_without_prediction(source: &str) -> (Vec<String>, Vec<String>) {
        let parsed = ruff_python_parser::parse_module(source).expect("test source parses");
        let module = parsed.syntax();
        let policy = Policy::builtin();
        let facts = ConfigFacts::default();
        let input = FileInput {
            file: "model.py",
            source,
            module,
            policy: &policy,
            facts: &facts,
        };
        let model = SemanticModel::build(module);
        let live = Interpreter::new(&model, &facts, None).reachable_scopes();
        let methods = escapes::MethodIndex::new(&model);
        let codes = |d: Vec<Diagnostic>| {
            d.iter()
                .map(|d| format!("{} {}", d.rule.code, d.message))
                .collect::<Vec<_>>()
        };
        let all = (0..model.functions.len()).collect();
        let wrong = codes(escape_fixed_point(&input, &model, &live, &methods, all).0);
        let none = codes(escape_fixed_point(&input, &model, &live, &methods, HashSet::new()).0);
        (wrong, none)
    }

    #[test]
    fn a_prediction_the_last_round_does_not_confirm_changes_nothing() {
        // `pick` is only called directly: it does not escape. Taken as
        // escaping, its call's argument (a module) would be passed on
        // where gasguard does not follow it (P112).
        let source = "import torch\n\ndef pick(m):\n    return m\n\ndef load_model(weights_path, num_classes=2):\n    pick(torch)\n    return torch.nn.Identity()\n";
        let (wrong, none) = with_and_without_prediction(source);
        assert!(none.is_empty(), "{none:?}");
        assert_eq!(wrong, none);
    }
}

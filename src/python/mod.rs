//! `model.py`: decoded as CPython decodes it, parsed with ruff's parser
//! (which NFKC-normalises identifiers as CPython does), and checked against
//! the policy.

use crate::config::ConfigFacts;
use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::rules::code as rules;

pub mod analyze;
pub mod decode;
pub mod semantic;
pub mod values;

pub use analyze::CodeInventory;

/// The oldest Python the evaluator supports ("Python >= 3.10", the SN34
/// evaluation environment); newer syntax is P006.
const EVALUATOR_MIN_PYTHON: ruff_python_ast::PythonVersion = ruff_python_ast::PythonVersion::PY310;

/// What checking model.py found.
#[derive(Debug, Default)]
pub struct CodeCheck {
    pub diagnostics: Vec<Diagnostic>,
    /// The decoded source (for rendering snippets), when it could be decoded.
    pub source: Option<String>,
    /// Imports and calls, when the file parsed.
    pub inventory: Option<CodeInventory>,
}

/// Checks `model.py`.
pub fn check(file: &str, bytes: &[u8], policy: &Policy, facts: &ConfigFacts) -> CodeCheck {
    let mut diags = Vec::new();
    let Some(source) = decode::decode(
        file,
        bytes,
        policy.limits.python_max_bytes,
        policy.limits.python_max_depth,
        &mut diags,
    ) else {
        return CodeCheck {
            diagnostics: diags,
            source: std::str::from_utf8(bytes).ok().map(str::to_string),
            inventory: None,
        };
    };
    let mut inventory = None;
    let options = ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module)
        .with_target_version(EVALUATOR_MIN_PYTHON);
    match ruff_python_parser::parse(&source, options) {
        Err(e) => {
            let start = usize::from(e.location.start());
            let end = usize::from(e.location.end());
            diags.push(
                Diagnostic::new(&rules::SYNTAX_ERROR, format!("syntax error: {}", e.error))
                    .in_file(file)
                    .at(start..end.max(start))
                    .help("fix the syntax; the evaluator's import of model.py would fail"),
            );
        }
        Ok(parsed) => {
            for e in parsed.unsupported_syntax_errors() {
                let r = ruff_text_size::Ranged::range(e);
                diags.push(
                    Diagnostic::new(&rules::NEWER_SYNTAX, e.to_string())
                        .in_file(file)
                        .at(usize::from(r.start())..usize::from(r.end()))
                        .help("the evaluator may run Python 3.10; write it the older way"),
                );
            }
            match parsed.try_into_module() {
                Some(module) => {
                    let (found, seen) =
                        analyze::analyze(file, &source, module.syntax(), policy, facts);
                    diags.extend(found);
                    inventory = Some(seen);
                }
                // Cannot happen in module mode; never pass unanalysed code.
                None => diags.push(
                    Diagnostic::new(&rules::SYNTAX_ERROR, "model.py did not parse as a module")
                        .in_file(file),
                ),
            }
        }
    }
    CodeCheck {
        diagnostics: diags,
        source: Some(source),
        inventory,
    }
}

//! String annotations (`x: "torch.Tensor"`, and every annotation under
//! `from __future__ import annotations`) are code that libraries evaluate
//! (`typing.get_type_hints` and its many callers): parsed and checked as
//! the expressions they are, in the scope they would be evaluated in.

use std::ops::Range;

use ruff_python_ast::Expr;
use ruff_python_ast::visitor::{self, Visitor};

use super::Analyzer;
use crate::diagnostic::Diagnostic;
use crate::python::values::Value;
use crate::rules::code as rules;

/// Strings inside string annotations are annotations too; this deep.
const MAX_NESTING: usize = 3;

/// What an annotation's expression references.
#[derive(Default)]
struct Collected {
    /// Dotted chains rooted at a name: (root, attributes).
    chains: Vec<(String, Vec<String>)>,
    attributes: Vec<String>,
    strings: Vec<String>,
    other_code: bool,
}

impl<'e> Visitor<'e> for Collected {
    fn visit_expr(&mut self, expr: &'e Expr) {
        match expr {
            Expr::Name(n) => self.chains.push((n.id.to_string(), Vec::new())),
            Expr::Attribute(a) => {
                self.attributes.push(a.attr.to_string());
                let mut attrs = vec![a.attr.to_string()];
                let mut base = a.value.as_ref();
                while let Expr::Attribute(inner) = base {
                    self.attributes.push(inner.attr.to_string());
                    attrs.push(inner.attr.to_string());
                    base = inner.value.as_ref();
                }
                attrs.reverse();
                match base {
                    Expr::Name(n) => self.chains.push((n.id.to_string(), attrs)),
                    other => self.visit_expr(other),
                }
            }
            Expr::StringLiteral(s) => self.strings.push(s.value.to_str().to_string()),
            Expr::Call(_)
            | Expr::Lambda(_)
            | Expr::Named(_)
            | Expr::Await(_)
            | Expr::Yield(_)
            | Expr::YieldFrom(_) => {
                self.other_code = true;
                visitor::walk_expr(self, expr);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

impl Analyzer<'_, '_> {
    pub(super) fn check_string_annotation(&mut self, text: &str, at: Range<usize>, depth: usize) {
        if depth > MAX_NESTING {
            return self.report(
                Diagnostic::new(
                    &rules::UNRESOLVABLE_NAME,
                    "string annotations nested deeper than gasguard reads",
                )
                .help("write annotations as plain expressions"),
                at,
            );
        }
        let parsed = match ruff_python_parser::parse_expression(text) {
            Ok(p) => p,
            // A library evaluating it would fail: not code that runs.
            Err(_) => return,
        };
        let mut c = Collected::default();
        c.visit_expr(parsed.expr());
        if c.other_code {
            self.report(
                Diagnostic::new(
                    &rules::DUNDER_ACCESS,
                    "a string annotation holds a call or other code, which libraries evaluate",
                )
                .help("annotations name types: `x: torch.Tensor`"),
                at.clone(),
            );
        }
        for attr in &c.attributes {
            self.check_attribute_name(attr, at.clone());
        }
        for (root, attrs) in &c.chains {
            self.interp.begin();
            let values = self.interp.name(self.scope, root, 0);
            for v in values {
                let path = match v {
                    Value::Lib(p) => p,
                    Value::Builtin(b) => format!("builtins.{b}"),
                    _ => continue,
                };
                let full = std::iter::once(path)
                    .chain(attrs.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(".");
                self.check_path(&full, at.clone());
            }
        }
        for s in &c.strings {
            self.check_string_annotation(s, at.clone(), depth + 1);
        }
    }
}

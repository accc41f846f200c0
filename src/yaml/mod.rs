//! A span-aware YAML reader that resolves values the way the evaluator's
//! PyYAML `safe_load` does (YAML 1.1 implicit types), and refuses what a
//! config never needs: tags, merge keys, complex keys, multiple documents,
//! duplicate keys, deep nesting and alias bombs.
//!
//! Events come from `saphyr-parser`; the tree and the scalar resolution are
//! ours so that every node keeps its byte span and its original text.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;
use std::ops::Range;

mod scalars;
pub use scalars::{resolve_yaml11, resolve_yaml12};

/// Bounds on what one YAML document may cost.
#[derive(Clone, Debug)]
pub struct YamlLimits {
    pub max_depth: usize,
    /// Nodes in the document after expanding every alias.
    pub max_nodes: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer PyYAML would build but that does not fit in 64 bits.
    BigInt(String),
    Float(f64),
    Str(String),
    /// A date or datetime (PyYAML builds `datetime` objects).
    Timestamp(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Byte range in the source.
    pub span: Range<usize>,
    /// The scalar's source text for plain scalars (used in messages).
    pub plain: Option<String>,
}

impl Node {
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::BigInt(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::Timestamp(_) => "a date",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Looks a string key up in a mapping.
    pub fn get(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// A number as f64 (ints and floats, as Python arithmetic would).
    pub fn as_f64(&self) -> Option<f64> {
        match &self.value {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// A plain scalar that YAML 1.1 (PyYAML) and YAML 1.2 read differently.
#[derive(Clone, Debug)]
pub struct Pitfall {
    pub span: Range<usize>,
    pub text: String,
    pub yaml11: String,
    pub yaml12: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    Syntax {
        span: Range<usize>,
        message: String,
    },
    Tag {
        span: Range<usize>,
        message: String,
    },
    AliasBudget {
        span: Range<usize>,
        message: String,
    },
    DuplicateKey {
        span: Range<usize>,
        first: Range<usize>,
        key: String,
    },
}

#[derive(Debug, Default)]
pub struct Document {
    /// `None` when the stream is empty or a fatal problem stopped the build.
    pub root: Option<Node>,
    pub pitfalls: Vec<Pitfall>,
    pub problems: Vec<Problem>,
}

impl Document {
    pub fn is_fatal(&self) -> bool {
        self.problems
            .iter()
            .any(|p| !matches!(p, Problem::DuplicateKey { .. }))
    }
}

/// Parses one YAML document.
pub fn parse(source: &str, limits: &YamlLimits) -> Document {
    let mut builder = Builder::new(source, limits);
    match builder.run() {
        Ok(root) => Document {
            root,
            pitfalls: builder.pitfalls,
            problems: builder.problems,
        },
        Err(problem) => {
            let mut problems = builder.problems;
            problems.push(problem);
            Document {
                root: None,
                pitfalls: builder.pitfalls,
                problems,
            }
        }
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
        size: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        start: usize,
        anchor: usize,
        size: usize,
    },
}

struct Builder<'a> {
    source: &'a str,
    limits: &'a YamlLimits,
    /// Byte offset of each character index (saphyr marks characters).
    char_offsets: Vec<usize>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    pitfalls: Vec<Pitfall>,
    problems: Vec<Problem>,
}

impl<'a> Builder<'a> {
    fn new(source: &'a str, limits: &'a YamlLimits) -> Self {
        let mut char_offsets: Vec<usize> = source.char_indices().map(|(i, _)| i).collect();
        char_offsets.push(source.len());
        Builder {
            source,
            limits,
            char_offsets,
            anchors: HashMap::new(),
            nodes: 0,
            pitfalls: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.char_offsets
            .get(char_index)
            .copied()
            .unwrap_or(self.source.len())
    }

    fn span(&self, span: Span) -> Range<usize> {
        let start = self.byte(span.start.index());
        let end = self.byte(span.end.index()).max(start);
        start..end
    }

    fn count_nodes(&mut self, n: usize, span: &Range<usize>) -> Result<(), Problem> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(Problem::AliasBudget {
                span: span.clone(),
                message: format!(
                    "the document expands to more than {} nodes (aliases included)",
                    self.limits.max_nodes
                ),
            });
        }
        Ok(())
    }

    fn run(&mut self) -> Result<Option<Node>, Problem> {
        let mut parser = Parser::new_from_str(self.source);
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<Node> = None;
        let mut documents = 0usize;
        while let Some(event) = parser.next_event() {
            let (event, span) = event.map_err(|e| {
                let at = self.byte(e.marker().index());
                Problem::Syntax {
                    span: at..at,
                    message: e.info().to_string(),
                }
            })?;
            let span = self.span(span);
            let is_sequence = matches!(event, Event::SequenceStart(..));
            let complete: Option<(Node, usize, usize)> = match event {
                Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => None,
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(Problem::Syntax {
                            span,
                            message: "more than one YAML document; the evaluator's safe_load refuses a stream".into(),
                        });
                    }
                    None
                }
                Event::Alias(id) => {
                    let Some((node, size)) = self.anchors.get(&id).cloned() else {
                        return Err(Problem::Syntax {
                            span,
                            message: "alias to an unknown anchor".into(),
                        });
                    };
                    self.count_nodes(size, &span)?;
                    let mut node = node;
                    node.span = span.clone();
                    Some((node, 0, size))
                }
                Event::Scalar(text, style, anchor, tag) => {
                    if let Some(tag) = tag {
                        return Err(Problem::Tag {
                            span,
                            message: format!("explicit tag `{}{}`", tag.handle, tag.suffix),
                        });
                    }
                    self.count_nodes(1, &span)?;
                    let node = self.scalar(&text, style, span)?;
                    Some((node, anchor, 1))
                }
                Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                    if let Some(tag) = tag {
                        return Err(Problem::Tag {
                            span,
                            message: format!("explicit tag `{}{}`", tag.handle, tag.suffix),
                        });
                    }
                    if stack.len() >= self.limits.max_depth {
                        return Err(Problem::Syntax {
                            span,
                            message: format!(
                                "nesting deeper than {} levels",
                                self.limits.max_depth
                            ),
                        });
                    }
                    self.count_nodes(1, &span)?;
                    let frame = if is_sequence {
                        Frame::Seq {
                            items: Vec::new(),
                            start: span.start,
                            anchor,
                            size: 1,
                        }
                    } else {
                        Frame::Map {
                            entries: Vec::new(),
                            key: None,
                            start: span.start,
                            anchor,
                            size: 1,
                        }
                    };
                    stack.push(frame);
                    None
                }
                Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                    Some(Frame::Seq {
                        items,
                        start,
                        anchor,
                        size,
                    }) => {
                        let end = items.last().map_or(span.end, |n| n.span.end.max(span.end));
                        Some((
                            Node {
                                value: Value::Seq(items),
                                span: start..end,
                                plain: None,
                            },
                            anchor,
                            size,
                        ))
                    }
                    Some(Frame::Map {
                        entries,
                        start,
                        anchor,
                        size,
                        ..
                    }) => {
                        let end = entries
                            .last()
                            .map_or(span.end, |(_, v)| v.span.end.max(span.end));
                        Some((
                            Node {
                                value: Value::Map(entries),
                                span: start..end,
                                plain: None,
                            },
                            anchor,
                            size,
                        ))
                    }
                    None => {
                        return Err(Problem::Syntax {
                            span,
                            message: "unbalanced collection".into(),
                        });
                    }
                },
            };
            let Some((node, anchor, size)) = complete else {
                continue;
            };
            if anchor != 0 {
                self.anchors.insert(anchor, (node.clone(), size));
            }
            match stack.last_mut() {
                None => root = Some(node),
                Some(Frame::Seq {
                    items,
                    size: parent,
                    ..
                }) => {
                    *parent = parent.saturating_add(size);
                    items.push(node);
                }
                Some(Frame::Map {
                    entries,
                    key,
                    size: parent,
                    ..
                }) => {
                    *parent = parent.saturating_add(size);
                    match key.take() {
                        None => {
                            check_key(&node)?;
                            *key = Some(node);
                        }
                        Some(k) => {
                            if let Some((first, _)) = entries.iter().find(|(e, _)| same_key(e, &k))
                            {
                                self.problems.push(Problem::DuplicateKey {
                                    span: k.span.clone(),
                                    first: first.span.clone(),
                                    key: key_text(&k),
                                });
                                // PyYAML keeps the last value; so do we, so that
                                // later checks judge what the evaluator sees.
                                entries.retain(|(e, _)| !same_key(e, &k));
                            }
                            entries.push((k, node));
                        }
                    }
                }
            }
        }
        Ok(root)
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        span: Range<usize>,
    ) -> Result<Node, Problem> {
        if style != ScalarStyle::Plain {
            return Ok(Node {
                value: Value::Str(text.to_string()),
                span,
                plain: None,
            });
        }
        if text == "<<" {
            return Err(Problem::Tag {
                span,
                message: "merge key `<<`".into(),
            });
        }
        if text == "=" {
            return Err(Problem::Syntax {
                span,
                message: "a bare `=` is the YAML 1.1 value key, which safe_load cannot construct"
                    .into(),
            });
        }
        let value = resolve_yaml11(text);
        let v12 = resolve_yaml12(text);
        if !same_reading(&value, &v12) {
            self.pitfalls.push(Pitfall {
                span: span.clone(),
                text: text.to_string(),
                yaml11: describe(&value),
                yaml12: describe(&v12),
            });
        }
        Ok(Node {
            value,
            span,
            plain: Some(text.to_string()),
        })
    }
}

fn check_key(key: &Node) -> Result<(), Problem> {
    match key.value {
        Value::Seq(_) | Value::Map(_) => Err(Problem::Syntax {
            span: key.span.clone(),
            message: "a list or mapping used as a key (safe_load cannot hash it)".into(),
        }),
        _ => Ok(()),
    }
}

/// Key equality as Python dicts see it: `1`, `1.0` and `true` are one key.
fn same_key(a: &Node, b: &Node) -> bool {
    fn number(v: &Value) -> Option<f64> {
        match v {
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
    match (number(&a.value), number(&b.value)) {
        (Some(x), Some(y)) => x == y,
        _ => a.value == b.value,
    }
}

fn key_text(key: &Node) -> String {
    match &key.value {
        Value::Str(s) => s.clone(),
        _ => key.plain.clone().unwrap_or_else(|| describe(&key.value)),
    }
}

fn same_reading(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

/// A short description of a value for messages (`the boolean true`).
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {}", if *b { "True" } else { "False" }),
        Value::Int(i) => format!("the integer {i}"),
        Value::BigInt(s) => format!("the integer {s}"),
        Value::Float(f) => format!("the float {f:?}"),
        Value::Str(s) => format!("the string {s:?}"),
        Value::Timestamp(s) => format!("the date {s}"),
        Value::Seq(_) => "a list".into(),
        Value::Map(_) => "a mapping".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> YamlLimits {
        YamlLimits {
            max_depth: 16,
            max_nodes: 1000,
        }
    }

    #[test]
    fn resolves_like_pyyaml() {
        assert_eq!(resolve_yaml11("yes"), Value::Bool(true));
        assert_eq!(resolve_yaml11("Off"), Value::Bool(false));
        assert_eq!(resolve_yaml11("y"), Value::Str("y".into()));
        assert_eq!(resolve_yaml11("010"), Value::Int(8));
        assert_eq!(resolve_yaml11("0x1F"), Value::Int(31));
        assert_eq!(resolve_yaml11("1_000"), Value::Int(1000));
        assert_eq!(resolve_yaml11("1:30"), Value::Int(90));
        assert_eq!(resolve_yaml11("1e3"), Value::Str("1e3".into()));
        assert_eq!(resolve_yaml11("1.0e+3"), Value::Float(1000.0));
        assert_eq!(resolve_yaml11("6.0"), Value::Float(6.0));
        assert_eq!(resolve_yaml11("-.inf"), Value::Float(f64::NEG_INFINITY));
        assert_eq!(
            resolve_yaml11("2024-01-02"),
            Value::Timestamp("2024-01-02".into())
        );
        assert_eq!(resolve_yaml11("~"), Value::Null);
        assert_eq!(
            resolve_yaml11("99999999999999999999"),
            Value::BigInt("99999999999999999999".into())
        );
    }

    #[test]
    fn flags_values_that_change_meaning_between_yaml_versions() {
        let doc = parse("a: on\nb: 010\nc: 1e3\nd: 2\ne: 1.5\n", &limits());
        let texts: Vec<_> = doc.pitfalls.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["on", "010", "1e3"]);
    }

    #[test]
    fn keeps_spans_and_detects_duplicates() {
        let src = "model:\n  num_classes: 2\n  num_classes: 5\n";
        let doc = parse(src, &limits());
        assert!(!doc.is_fatal());
        let Some(Problem::DuplicateKey { span, first, key }) = doc.problems.first() else {
            panic!("expected a duplicate key, got {:?}", doc.problems)
        };
        assert_eq!(key, "num_classes");
        assert_eq!(&src[span.clone()], "num_classes");
        assert!(first.start < span.start);
        // The evaluator keeps the last value; so does the tree.
        let root = doc.root.expect("root");
        let (_, model) = root.get("model").expect("model");
        let (_, n) = model.get("num_classes").expect("num_classes");
        assert_eq!(n.value, Value::Int(5));
        assert_eq!(&src[n.span.clone()], "5");
    }

    #[test]
    fn refuses_tags_merges_and_streams() {
        for src in [
            "a: !!python/object:os.system x\n",
            "a: &x {b: 1}\nc:\n  <<: *x\n",
            "a: 1\n---\nb: 2\n",
        ] {
            let doc = parse(src, &limits());
            assert!(doc.is_fatal(), "{src:?} accepted");
        }
    }

    #[test]
    fn billion_laughs_stops_at_the_budget() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            src.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let doc = parse(&src, &limits());
        assert!(
            matches!(doc.problems.last(), Some(Problem::AliasBudget { .. })),
            "{:?}",
            doc.problems
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let src = "[".repeat(100_000);
        let doc = parse(&src, &limits());
        assert!(doc.is_fatal());
    }

    #[test]
    fn python_key_equality() {
        let doc = parse("1: a\n1.0: b\n", &limits());
        assert!(matches!(
            doc.problems.first(),
            Some(Problem::DuplicateKey { .. })
        ));
    }
}

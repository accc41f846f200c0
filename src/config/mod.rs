//! `model_config.yaml`: parsed as PyYAML would read it, validated per
//! modality, every finding pointing at the key or value at fault. The
//! `preprocessing` section's checks are in `preprocessing.rs`.

use std::ops::Range;

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::rules::config as rules;
use crate::yaml::{self, Node, Problem, Value};

mod preprocessing;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Image,
    Video,
    Audio,
}

impl Modality {
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Image => "image",
            Modality::Video => "video",
            Modality::Audio => "audio",
        }
    }
}

pub const DEFAULT_WEIGHTS_FILE: &str = "model.safetensors";
pub const AUDIO_SAMPLES: i64 = 96_000;
const DTYPES: &[(&str, &str)] = &[
    ("float32", "float32"),
    ("fp32", "float32"),
    ("float16", "float16"),
    ("fp16", "float16"),
    ("bfloat16", "bfloat16"),
    ("bf16", "bfloat16"),
];
const TOP_KEYS: &[&str] = &[
    "name",
    "version",
    "modality",
    "dtype",
    "preprocessing",
    "model",
];
const PRE_KEYS: &[&str] = &[
    "resize",
    "normalize",
    "num_frames",
    "max_frames",
    "frame_rate",
    "sample_rate",
    "duration_seconds",
];

/// What the rest of the pipeline needs to know from a valid-enough config.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ConfigFacts {
    pub modality: Option<Modality>,
    /// Canonical evaluation dtype (`float32`, `float16`, `bfloat16`).
    pub dtype: String,
    pub num_classes: Option<i64>,
    pub weights_file: String,
    /// Keys under `model:` passed to `load_model` as keyword arguments.
    pub load_model_kwargs: Vec<String>,
    /// The evaluator's dummy input shape for batch size 1, when known.
    pub input_shape: Option<Vec<i64>>,
    #[serde(skip)]
    pub kwarg_spans: Vec<Range<usize>>,
    /// The `model:` section without `weights_file`, as the evaluator passes it.
    #[serde(skip)]
    pub model_section: serde_json::Map<String, serde_json::Value>,
}

/// A YAML value as the JSON the harness receives (what PyYAML would build).
fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::BigInt(s) | Value::Timestamp(s) | Value::Str(s) => J::String(s.clone()),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str()
                            .map_or_else(|| yaml::describe(&k.value), str::to_string),
                        to_json(v),
                    )
                })
                .collect(),
        ),
    }
}

struct ConfigCheck<'a> {
    file: &'a str,
    diags: Vec<Diagnostic>,
}

/// Validates the config; returns its facts and diagnostics.
pub fn check(
    file: &str,
    bytes: &[u8],
    policy: &Policy,
    expected: Option<Modality>,
) -> (ConfigFacts, Vec<Diagnostic>, Option<String>) {
    let mut facts = ConfigFacts {
        dtype: "float32".into(),
        weights_file: DEFAULT_WEIGHTS_FILE.into(),
        ..ConfigFacts::default()
    };
    if bytes.len() as u64 > policy.limits.config_max_bytes {
        let d = Diagnostic::new(
            &rules::YAML_SYNTAX,
            format!(
                "{} bytes is over the {}-byte limit for model_config.yaml",
                bytes.len(),
                policy.limits.config_max_bytes
            ),
        )
        .in_file(file);
        return (facts, vec![d], None);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let d = Diagnostic::new(
                &rules::YAML_SYNTAX,
                format!("not valid UTF-8 at byte {}", e.valid_up_to()),
            )
            .in_file(file)
            .help("save the file as UTF-8");
            return (facts, vec![d], None);
        }
    };
    let mut c = ConfigCheck {
        file,
        diags: Vec::new(),
    };
    // PyYAML's reader refuses these before parsing.
    if let Some((i, ch)) = text.char_indices().find(|&(_, ch)| !pyyaml_printable(ch)) {
        c.push(
            Diagnostic::new(
                &rules::YAML_SYNTAX,
                format!(
                    "character U+{:04X} is not allowed in YAML (PyYAML refuses it)",
                    ch as u32
                ),
            )
            .at(i..i + ch.len_utf8()),
        );
        return (facts, c.diags, Some(text.to_string()));
    }
    let source = text.strip_prefix('\u{feff}').unwrap_or(text);
    let offset = text.len() - source.len();
    let doc = yaml::parse(source, &policy.yaml_limits());
    let shift = |r: &Range<usize>| r.start + offset..r.end + offset;
    for problem in &doc.problems {
        let d = match problem {
            Problem::Syntax { span, message } => {
                Diagnostic::new(&rules::YAML_SYNTAX, message.clone()).at(shift(span))
            }
            Problem::Tag { span, message } => {
                Diagnostic::new(&rules::YAML_TAG, format!("{message} is not allowed"))
                    .at(shift(span))
                    .help("write the value plainly; a config needs no tags or merge keys")
            }
            Problem::AliasBudget { span, message } => {
                Diagnostic::new(&rules::YAML_ALIAS_BOMB, message.clone())
                    .at(shift(span))
                    .help("write values out instead of aliasing them")
            }
            Problem::DuplicateKey { span, first, key } => Diagnostic::new(
                &rules::DUPLICATE_KEY,
                format!(
                    "the key `{key}` is defined twice; PyYAML keeps this second value silently"
                ),
            )
            .at(shift(span))
            .label(shift(first), "first defined here")
            .help("keep exactly one definition"),
        };
        c.push(d);
    }
    for p in &doc.pitfalls {
        c.push(
            Diagnostic::new(
                &rules::YAML11_PITFALL,
                format!(
                    "`{}` is {} to PyYAML (YAML 1.1) but {} to YAML 1.2 tools",
                    p.text, p.yaml11, p.yaml12
                ),
            )
            .at(shift(&p.span))
            .help("quote strings (\"on\"), write numbers unambiguously (16000, 6.0, 1.0e+3)"),
        );
    }
    if doc.is_fatal() {
        return (facts, c.diags, Some(text.to_string()));
    }
    let Some(mut root) = doc.root else {
        c.push(Diagnostic::new(&rules::MISSING_KEY, "model_config.yaml is empty").at(0..0).help(
            "start from the documented template: name, version, modality, preprocessing, model",
        ));
        return (facts, c.diags, Some(text.to_string()));
    };
    shift_node(&mut root, offset);
    c.validate(&root, expected, policy, &mut facts);
    (facts, c.diags, Some(text.to_string()))
}

fn shift_node(node: &mut Node, by: usize) {
    if by == 0 {
        return;
    }
    node.span = node.span.start + by..node.span.end + by;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| shift_node(n, by)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            shift_node(k, by);
            shift_node(v, by);
        }),
        _ => {}
    }
}

/// PyYAML's `Reader.NON_PRINTABLE`, inverted.
fn pyyaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\x20'..='\x7e' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

impl ConfigCheck<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d.in_file(self.file.to_string()));
    }

    fn wrong_type(&mut self, key: &str, node: &Node, expected: &str) {
        let mut message = format!(
            "`{key}` must be {expected}, but PyYAML reads {}",
            yaml::describe(&node.value)
        );
        if let Some(plain) = &node.plain {
            let v12 = yaml::resolve_yaml12(plain);
            if v12 != node.value {
                message.push_str(&format!(
                    " (YAML 1.2 tools show {}, which is not what the evaluator sees)",
                    yaml::describe(&v12)
                ));
            }
        }
        self.push(Diagnostic::new(&rules::WRONG_TYPE, message).at(node.span.clone()));
    }

    fn unknown_keys(&mut self, map: &Node, known: &[&str], section: &str) {
        let Some(entries) = map.as_map() else { return };
        for (k, _) in entries {
            let Some(key) = k.as_str() else {
                let text = k.plain.clone().unwrap_or_default();
                self.push(
                    Diagnostic::new(
                        &rules::UNKNOWN_KEY,
                        format!(
                            "the key `{text}` in {section} is {} to PyYAML, not a string",
                            yaml::describe(&k.value)
                        ),
                    )
                    .at(k.span.clone())
                    .help(format!("quote it: \"{text}\"")),
                );
                continue;
            };
            if known.contains(&key) {
                continue;
            }
            let best = known
                .iter()
                .map(|cand| (strsim::jaro_winkler(key, cand), *cand))
                .filter(|(score, _)| *score > 0.85)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let mut d = Diagnostic::new(
                &rules::UNKNOWN_KEY,
                format!("the evaluator does not read `{key}` in {section}"),
            )
            .at(k.span.clone());
            d = match best {
                Some((_, cand)) => d.help(format!("did you mean `{cand}`?")),
                None => d.help(format!("known keys here: {}", known.join(", "))),
            };
            self.push(d);
        }
    }

    fn validate(
        &mut self,
        root: &Node,
        expected: Option<Modality>,
        policy: &Policy,
        facts: &mut ConfigFacts,
    ) {
        if root.as_map().is_none() {
            self.wrong_type("the document", root, "a mapping of keys");
            return;
        }
        self.unknown_keys(root, TOP_KEYS, "the top level");
        for key in ["name", "version"] {
            match root.get(key) {
                None => self.push(
                    Diagnostic::new(&rules::MISSING_KEY, format!("`{key}` is missing"))
                        .at(root.span.start..root.span.start)
                        .help(format!("add `{key}: \"...\"` at the top level")),
                ),
                Some((_, v)) if v.as_str().is_none() => {
                    let n = self.diags.len();
                    self.wrong_type(key, v, "a string");
                    // The evaluator only logs these: a warning, not a rejection.
                    if let Some(d) = self.diags.get_mut(n) {
                        d.severity = crate::diagnostic::Severity::Warning;
                        d.help = Some(format!(
                            "quote it: {key}: \"{}\"",
                            v.plain.clone().unwrap_or_default()
                        ));
                    }
                }
                Some(_) => {}
            }
        }

        facts.modality = self.modality(root, expected);

        if let Some((_, v)) = root.get("dtype") {
            if let Some(d) = self.dtype(v) {
                facts.dtype = d;
            }
        }

        let pre = root.get("preprocessing").map(|(_, v)| v);
        if let Some(p) = pre {
            if p.as_map().is_some() {
                self.unknown_keys(p, PRE_KEYS, "`preprocessing`");
            } else {
                self.wrong_type("preprocessing", p, "a mapping");
            }
        }
        let pre = pre.filter(|p| p.as_map().is_some());
        facts.input_shape = match facts.modality {
            Some(Modality::Image) => self
                .resize(root, pre, policy)
                .map(|(h, w)| vec![1, 3, h, w]),
            Some(Modality::Video) => {
                let hw = self.resize(root, pre, policy);
                let t = self.frames(pre, policy);
                match (hw, t) {
                    (Some((h, w)), Some(t)) => Some(vec![1, t, 3, h, w]),
                    _ => None,
                }
            }
            Some(Modality::Audio) => self.audio(pre).map(|n| vec![1, n]),
            None => {
                // The modality is unknown, but a present resize is still judged.
                if pre.is_some_and(|p| p.get("resize").is_some()) {
                    self.resize(root, pre, policy);
                }
                None
            }
        };
        if let Some(p) = pre
            && let Some((_, n)) = p.get("normalize")
        {
            // The evaluator never reads `normalize` (models normalise in
            // forward()): a problem there is worth a warning, not a rejection.
            let before = self.diags.len();
            self.normalize(n);
            for d in &mut self.diags[before..] {
                d.severity = crate::diagnostic::Severity::Warning;
                d.message
                    .push_str(" (the evaluator does not read `normalize`)");
            }
        }

        match root.get("model") {
            None => self.push(
                Diagnostic::new(&rules::MISSING_KEY, "`model` is missing")
                    .at(root.span.start..root.span.start)
                    .help("add `model: {num_classes: 2}`"),
            ),
            Some((_, m)) if m.as_map().is_none() => self.wrong_type("model", m, "a mapping"),
            Some((_, m)) => self.model(m, facts),
        }
    }

    fn modality(&mut self, root: &Node, expected: Option<Modality>) -> Option<Modality> {
        let Some((_, v)) = root.get("modality") else {
            self.push(
                Diagnostic::new(&rules::MISSING_KEY, "`modality` is missing")
                    .at(root.span.start..root.span.start)
                    .help("add `modality: image` (or video, audio)"),
            );
            return None;
        };
        let Some(text) = v.as_str() else {
            self.wrong_type("modality", v, "one of image, video, audio");
            return None;
        };
        let modality = match text {
            "image" => Modality::Image,
            "video" => Modality::Video,
            "audio" => Modality::Audio,
            other => {
                let lower = other.to_ascii_lowercase();
                let base = ["image", "video", "audio"]
                    .into_iter()
                    .find(|m| lower.starts_with(m));
                let help = match base {
                    Some(m) if lower.contains("human") || lower.contains("general") => format!(
                        "the vertical is chosen when pushing (`gascli d push --vertical human`), not in the config: write `modality: {m}`"
                    ),
                    Some(m) => format!("write `modality: {m}`"),
                    None => "write image, video or audio".to_string(),
                };
                self.push(
                    Diagnostic::new(
                        &rules::INVALID_MODALITY,
                        format!("`{other}` is not a modality"),
                    )
                    .at(v.span.clone())
                    .help(help),
                );
                return None;
            }
        };
        if let Some(e) = expected
            && e != modality
        {
            self.push(
                Diagnostic::new(
                    &rules::MODALITY_MISMATCH,
                    format!(
                        "the config says `{}` but --modality is `{}`",
                        modality.as_str(),
                        e.as_str()
                    ),
                )
                .at(v.span.clone())
                .help(format!(
                    "push this model with --{}-model, or check the right folder",
                    modality.as_str()
                )),
            );
        }
        Some(modality)
    }

    fn dtype(&mut self, v: &Node) -> Option<String> {
        let Some(text) = v.as_str() else {
            self.wrong_type("dtype", v, "a string such as float32, float16 or bfloat16");
            return None;
        };
        let lower = text.to_ascii_lowercase();
        match DTYPES.iter().find(|(k, _)| *k == lower) {
            Some((_, canonical)) => Some((*canonical).to_string()),
            None => {
                self.push(
                    Diagnostic::new(
                        &rules::INVALID_DTYPE,
                        format!("`{text}` is not a dtype the evaluator accepts"),
                    )
                    .at(v.span.clone())
                    .help("use one of float32, fp32, float16, fp16, bfloat16, bf16"),
                );
                None
            }
        }
    }

    fn int(&mut self, key: &str, v: &Node) -> Option<i64> {
        match v.value {
            Value::Int(i) => Some(i),
            _ => {
                self.wrong_type(key, v, "an integer");
                None
            }
        }
    }

    fn model(&mut self, m: &Node, facts: &mut ConfigFacts) {
        let Some(entries) = m.as_map() else { return };
        match m.get("num_classes") {
            None => self.push(
                Diagnostic::new(&rules::MISSING_KEY, "`model.num_classes` is missing")
                    .at(m.span.clone())
                    .help("add `num_classes: 2` ([real, synthetic])"),
            ),
            Some((_, v)) => {
                if let Some(n) = self.int("num_classes", v) {
                    facts.num_classes = Some(n);
                    match n {
                        2 => {}
                        1 => self.push(
                            Diagnostic::new(&rules::LEGACY_NUM_CLASSES, "`num_classes: 1` is read as a single sigmoid logit for \"synthetic\"")
                                .at(v.span.clone())
                                .help("accepted; a 2-class head [real, synthetic] is the documented target"),
                        ),
                        3 => self.push(
                            Diagnostic::new(
                                &rules::LEGACY_NUM_CLASSES,
                                "`num_classes: 3` is the legacy [real, synthetic, semisynthetic] head; synthetic and semisynthetic are merged when scored",
                            )
                            .at(v.span.clone())
                            .help("accepted; retrain with num_classes: 2 to spend no capacity on a distinction that earns nothing"),
                        ),
                        other => self.push(
                            Diagnostic::new(&rules::INVALID_NUM_CLASSES, format!("`num_classes: {other}` cannot be scored"))
                                .at(v.span.clone())
                                .help("use 2 ([real, synthetic]); 1 (sigmoid) and 3 (legacy) are also read"),
                        ),
                    }
                }
            }
        }
        if let Some((_, v)) = m.get("weights_file") {
            match v.as_str() {
                Some(name) if valid_weights_name(name) => facts.weights_file = name.to_string(),
                Some(name) => self.push(
                    Diagnostic::new(&rules::INVALID_WEIGHTS_FILE, format!("`{name}` is not a plain file name ending in .safetensors"))
                        .at(v.span.clone())
                        .help("name a file at the top of the submission, e.g. `weights_file: model.safetensors`"),
                ),
                None => self.wrong_type("weights_file", v, "a file name"),
            }
        }
        if let Some((k, _)) = m.get("dtype") {
            self.push(
                Diagnostic::new(
                    &rules::DTYPE_UNDER_MODEL,
                    "`dtype` under `model:` is passed to load_model(dtype=...) and does not set the evaluation dtype",
                )
                .at(k.span.clone())
                .help("move it to the top level (`dtype: bfloat16`) to evaluate in that dtype; keep it here only if load_model reads it"),
            );
        }
        for (k, _) in entries {
            if k.as_str().is_none() {
                self.push(
                    Diagnostic::new(
                        &rules::WRONG_TYPE,
                        format!(
                            "the key `{}` under `model:` is {} to PyYAML; load_model(**model) needs string keys and the call fails",
                            k.plain.clone().unwrap_or_default(),
                            yaml::describe(&k.value)
                        ),
                    )
                    .at(k.span.clone())
                    .help(format!("quote it: \"{}\"", k.plain.clone().unwrap_or_default())),
                );
            }
            if let Some(key) = k.as_str()
                && key != "weights_file"
            {
                facts.load_model_kwargs.push(key.to_string());
                facts.kwarg_spans.push(k.span.clone());
                if let Some((_, v)) = m.get(key) {
                    facts.model_section.insert(key.to_string(), to_json(v));
                }
            }
        }
    }
}

fn valid_weights_name(name: &str) -> bool {
    name.ends_with(".safetensors")
        && name.len() > ".safetensors".len()
        && !name.contains(['/', '\\', '\0'])
        && !name.starts_with('.')
        && crate::submission::names::unsafe_name_reason(name).is_none()
}

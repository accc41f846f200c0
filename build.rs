//! Build-time work that would otherwise cost every run: the module-attribute
//! table becomes a sorted static array (a binary search per look-up), and the
//! built-in policy is parsed once, with gasguard's own YAML reader, into JSON
//! that loads in a fraction of the time.

use std::fmt::Write;

#[allow(dead_code)]
#[path = "src/yaml/mod.rs"]
mod yaml;

fn to_json(node: &yaml::Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        yaml::Value::Null => J::Null,
        yaml::Value::Bool(b) => J::Bool(*b),
        yaml::Value::Int(i) => J::from(*i),
        yaml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        yaml::Value::Str(s) | yaml::Value::BigInt(s) | yaml::Value::Timestamp(s) => {
            J::String(s.clone())
        }
        yaml::Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        yaml::Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str()
                            .map_or_else(|| format!("{:?}", k.value), str::to_string),
                        to_json(v),
                    )
                })
                .collect(),
        ),
    }
}

fn builtin_policy() {
    let src = "rules/sn34.yaml";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-changed=src/yaml");
    let text = std::fs::read_to_string(src).unwrap_or_else(|e| panic!("cannot read {src}: {e}"));
    let doc = yaml::parse(
        &text,
        &yaml::YamlLimits {
            max_depth: 16,
            max_nodes: 100_000,
        },
    );
    // A broken policy still builds: the runtime parser reports it with
    // locations (and a unit test fails); the JSON is then just `null`.
    let json = match (&doc.root, doc.problems.is_empty()) {
        (Some(root), true) => to_json(root),
        _ => serde_json::Value::Null,
    };
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("sn34.json");
    std::fs::write(dest, json.to_string()).expect("write sn34.json");
}

/// `rules/api-objects.txt`: the policy APIs' signatures and the other paths
/// to the same objects, as sorted static arrays.
fn api_objects() {
    let src = "rules/api-objects.txt";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).unwrap_or_else(|e| panic!("cannot read {src}: {e}"));
    let mut sigs: Vec<(&str, &str)> = Vec::new();
    let mut aliases: Vec<(&str, &str)> = Vec::new();
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut p = l.split(' ');
        match (p.next(), p.next(), p.next(), p.next()) {
            (Some("sig"), Some(a), Some(b), None) => sigs.push((a, b)),
            (Some("alias"), Some(a), Some(b), None) => aliases.push((a, b)),
            _ => panic!("{src}: malformed line {l:?}"),
        }
    }
    sigs.sort_unstable();
    aliases.sort_unstable();
    let mut out = String::from(
        "/// `(api, parameters)`, sorted.\npub static API_SIGNATURES: &[(&str, &str)] = &[\n",
    );
    for (a, b) in sigs {
        let _ = writeln!(out, "    ({a:?}, {b:?}),");
    }
    out.push_str("];\n/// `(path, policy api it is)`, sorted.\npub static API_ALIASES: &[(&str, &str)] = &[\n");
    for (a, b) in aliases {
        let _ = writeln!(out, "    ({a:?}, {b:?}),");
    }
    out.push_str("];\n");
    let dest =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("api_objects.rs");
    std::fs::write(dest, out).expect("write api_objects.rs");
}

fn main() {
    builtin_policy();
    api_objects();
    let src = "rules/module-attributes.txt";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).unwrap_or_else(|e| panic!("cannot read {src}: {e}"));
    let mut rows: Vec<(&str, &str, &str)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut p = l.split(' ');
            match (p.next(), p.next(), p.next(), p.next()) {
                (Some(a), Some(b), Some(c), None) => (a, b, c),
                _ => panic!("{src}: malformed line {l:?}"),
            }
        })
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let mut out = String::from(
        "/// `(container, attribute, real module)`, sorted.\npub static MODULE_ATTRIBUTES: &[(&str, &str, &str)] = &[\n",
    );
    for (a, b, c) in rows {
        let _ = writeln!(out, "    ({a:?}, {b:?}, {c:?}),");
    }
    out.push_str("];\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR"))
        .join("module_attributes.rs");
    std::fs::write(dest, out).expect("write module_attributes.rs");
}

//! Turns rules/module-attributes.txt into a sorted static table, so that
//! looking an attribute up costs a binary search and no start-up work.

use std::fmt::Write;

fn main() {
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

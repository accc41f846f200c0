//! Resource bounds of the static stage: the worst inputs we know of are
//! judged (exit 0 or 1, never a signal or a panic) within 2 s of wall time
//! and 128 MiB of peak RSS, measured from outside with getrusage.
//!
//! A spawned child's ru_maxrss starts from this test process's own peak
//! (the kernel carries it across fork and exec), so the inputs are built
//! without holding large buffers here: the figure is an upper bound.

mod common;
use common::*;

use std::time::{Duration, Instant};

const MAX_RSS_KIB: i64 = 128 * 1024;
const MAX_WALL: Duration = Duration::from_secs(2);

fn children_max_rss_kib() -> i64 {
    // SAFETY: getrusage fills the struct we pass.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    }
}

fn judge(label: &str, path: &std::path::Path, expected: &str) {
    let start = Instant::now();
    let (exit, report) = check_json(path, &[]);
    let wall = start.elapsed();
    let rss = children_max_rss_kib();
    let found = codes(&report);
    assert_eq!(exit, 1, "{label}: expected a rejection, found {found:?}");
    assert!(
        found.iter().any(|c| c == expected),
        "{label}: expected {expected}, found {found:?}"
    );
    assert!(wall < MAX_WALL, "{label}: took {wall:?}");
    assert!(rss < MAX_RSS_KIB, "{label}: peak RSS {rss} KiB");
    eprintln!("{label}: {wall:?}, peak RSS so far {} MiB", rss / 1024);
}

#[test]
fn worst_cases_stay_within_time_and_memory() {
    // Overlapping-entries bomb: 1000 central records, one 10 MiB deflated kernel.
    let mut entries = vec![ZipEntrySpec::new("config.json", &vec![0u8; 10 << 20]).deflated()];
    for i in 1..900 {
        let mut alias = ZipEntrySpec::new(&format!("c{i}.json"), &[]);
        alias.alias_of = Some(0);
        alias.declared_size = Some(10 << 20);
        entries.push(alias);
    }
    let mut all: Vec<ZipEntrySpec> = example_files("image")
        .iter()
        .map(|(n, b)| ZipEntrySpec::new(n, b))
        .collect();
    all.extend(entries);
    let (_d1, p) = write_temp("overlap.zip", &build_zip(&all, &[], &[]));
    judge("overlapping bomb", &p, "A011");

    // Ratio bomb: 8 MiB of zeros deflated ~1000x into a text file.
    let (_d2, p) = write_temp(
        "ratio.zip",
        &example_zip(vec![
            ZipEntrySpec::new("notes.json", &vec![b'0'; 8 << 20]).deflated(),
        ]),
    );
    judge("ratio bomb", &p, "A014");

    // A declared 4 GiB model.py (read whole, it would be a memory bomb).
    let mut big = ZipEntrySpec::new("model.py", b"import torch\n");
    big.declared_size = Some(u32::MAX);
    let mut files: Vec<ZipEntrySpec> = example_files("image")
        .iter()
        .filter(|(n, _)| n != "model.py")
        .map(|(n, b)| ZipEntrySpec::new(n, b))
        .collect();
    files.push(big);
    let (_d3, p) = write_temp("declared.zip", &build_zip(&files, &[], &[]));
    judge("declared 4 GiB model.py", &p, "A012");

    // Billion laughs.
    let mut yaml = String::from(
        "name: x\nversion: '1'\nmodality: image\npreprocessing: {resize: [224, 224]}\nmodel: {num_classes: 2}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..12 {
        yaml.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(", ")
        ));
    }
    let d4 = example_dir(&[("model_config.yaml", Some(yaml.as_bytes()))]);
    judge("billion laughs", d4.path(), "C003");

    // 100,000-deep YAML nesting.
    let deep_yaml = format!("name: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let d5 = example_dir(&[("model_config.yaml", Some(deep_yaml.as_bytes()))]);
    judge("deep YAML", d5.path(), "C001");

    // 100,000-deep Python nesting and a 200,000-term expression.
    let deep_py = format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    let d6 = example_dir(&[("model.py", Some(deep_py.as_bytes()))]);
    judge("deep Python", d6.path(), "P005");
    let long_py = format!("x = {}1\n", "1 + ".repeat(200_000));
    let d7 = example_dir(&[("model.py", Some(long_py.as_bytes()))]);
    judge("200,000-term expression", d7.path(), "P005");

    // Aliases that multiply: each name bound eight ways to attributes of
    // the one before (8^30 paths), then used 100,000 times.
    let mut alias_py = String::from("import torch\nn0 = torch\n");
    for i in 1..30 {
        for j in 0..8 {
            alias_py.push_str(&format!("n{i} = n{}.a{j}\n", i - 1));
        }
    }
    alias_py.push_str(&"n29\n".repeat(100_000));
    let d9 = example_dir(&[("model.py", Some(alias_py.as_bytes()))]);
    judge("exploding aliases", d9.path(), "P111");
    // ... and re-resolved in 60,000 scopes.
    let mut scoped_py = alias_py.replace(&"n29\n".repeat(100_000), "");
    for k in 0..60_000 {
        scoped_py.push_str(&format!("def f{k}(): n29\n"));
    }
    let d10 = example_dir(&[("model.py", Some(scoped_py.as_bytes()))]);
    judge("exploding aliases in every scope", d10.path(), "P111");

    // 10,000 bindings each guarded by the one before: guards of guards are
    // evaluated within the depth bound and remembered (no stack overflow, no
    // quadratic walk); the module-level call is what gets reported.
    let mut guarded_py = String::from("import torch\ng0 = torch.nn\n");
    for i in 1..10_000 {
        guarded_py.push_str(&format!("if g{}:\n    g{i} = g{}\n", i - 1, i - 1));
    }
    guarded_py.push_str("g9999.Linear(1, 2)\n");
    let d12 = example_dir(&[("model.py", Some(guarded_py.as_bytes()))]);
    judge("10,000 chained guards", d12.path(), "P110");

    // 100,000 findings of one rule: the report lists 50 and counts the rest.
    let flood_py = format!("import os\n{}", "os\n".repeat(100_000));
    let d11 = example_dir(&[("model.py", Some(flood_py.as_bytes()))]);
    let start = Instant::now();
    let (_, flood) = check_json(d11.path(), &[]);
    let listed = codes(&flood).iter().filter(|c| *c == "P110").count();
    assert_eq!(listed, 51, "50 findings and one summary");
    assert!(flood.to_string().contains("99950 more P110 findings"));
    judge("100,000 findings", d11.path(), "P101");
    eprintln!("(flood took {:?})", start.elapsed());

    // A 100 MB safetensors header (the reference implementation's maximum),
    // written in chunks.
    let d8 = example_dir(&[]);
    {
        use std::io::Write;
        let mut f = std::fs::File::create(d8.path().join("model.safetensors")).expect("create");
        let open = b"{\"__metadata__\":{\"pad\":\"";
        let total: u64 = 100_000_000;
        f.write_all(&total.to_le_bytes()).expect("write");
        f.write_all(open).expect("write");
        let chunk = vec![b'x'; 1 << 20];
        let mut left = total as usize - open.len() - 3;
        while left > 0 {
            let n = left.min(chunk.len());
            f.write_all(&chunk[..n]).expect("write");
            left -= n;
        }
        f.write_all(b"\"}}").expect("write");
    }
    judge("100 MB safetensors header", d8.path(), "W002");

    // An 8 MiB header (the policy's maximum) of 100,000 tiny tensors.
    let mut tensors = Vec::new();
    let mut offset = 0u64;
    let mut n = 0;
    let mut len = 2;
    while len < (8 << 20) - 200 {
        let entry = format!(
            "\"t{n}\":{{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[{offset},{}]}}",
            offset + 1
        );
        len += entry.len() + 1;
        tensors.push(entry);
        offset += 1;
        n += 1;
    }
    let header = format!("{{{}}}", tensors.join(","));
    let mut data = safetensors(&header, &vec![0u8; offset as usize]);
    data.push(0); // one trailing byte: W008, after parsing every entry
    let d9 = example_dir(&[("model.safetensors", Some(&data))]);
    judge("8 MiB header of tiny tensors", d9.path(), "W008");
}

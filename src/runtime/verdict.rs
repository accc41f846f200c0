//! From what a run left behind to diagnostics. The security verdict (R010,
//! R011, R012, R013) comes from facts outside the model's process: the
//! kernel's exit status and signals, the supervisor's observed calls and
//! deaths, the cgroup's OOM kills, the timeout. The harness's result is the
//! model's word: it yields functional findings (R002-R009, R014), labelled
//! as such, and can only make a run fail, never pass a security check.

use crate::config::{ConfigFacts, Modality};
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::runtime as rules;
use crate::sanitize::sanitize;

use super::launch::Outcome;
use super::observe::Fact;
use super::{RuntimeOptions, seccomp};

/// The label on findings that rest on the harness's result.
const HARNESS_WORD: &str = "reported by the harness inside the model's process: the model's word, not a verdict of the sandbox";

/// Findings from the supervisor's and the cgroup's facts.
fn observed(outcome: &Outcome, options: &RuntimeOptions) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for fact in &outcome.facts {
        match fact {
            Fact::Attempt { what, call, detail } if what == "forbidden-call" => {
                if seen.len() < 20 && seen.insert((what.clone(), detail.clone())) {
                    diags.push(
                        Diagnostic::new(
                            &rules::SANDBOX_VIOLATION,
                            format!("the model called {detail} ({what}; `{call}`, caught by seccomp and killed by the supervisor)"),
                        )
                        .help("models never need these calls; remove the code that makes them"),
                    );
                }
            }
            Fact::Attempt { what, call, detail } => {
                if seen.len() < 20 && seen.insert((what.clone(), detail.clone())) {
                    diags.push(
                        Diagnostic::new(
                            &rules::SANDBOX_VIOLATION,
                            format!("the model attempted {detail} ({what}; `{call}`, seen by the supervisor)"),
                        )
                        .help("the evaluator runs without network, processes or writable files; remove this"),
                    );
                }
            }
            Fact::Killed { pid, signal, main } if *signal == libc::SIGSYS && !main => diags.push(
                Diagnostic::new(
                    &rules::SANDBOX_VIOLATION,
                    format!(
                        "a process the model started (pid {pid} in the sandbox) was killed by seccomp for a forbidden system call (one of: {})",
                        seccomp::killed_call_names().join(", ")
                    ),
                )
                .help("models never need these calls; remove the code that makes them"),
            ),
            _ => {}
        }
    }
    if let Some(cg) = &outcome.cgroup
        && cg.oom_kills > 0
    {
        diags.push(
            Diagnostic::new(
                &rules::RESOURCE_LIMIT,
                format!(
                    "the kernel ended {} process(es) of the run at its memory limit ({} MiB for every process together{})",
                    cg.oom_kills,
                    options.memory >> 20,
                    cg.memory_peak.map_or(String::new(), |p| format!("; peak {} MiB", p >> 20))
                ),
            )
            .help(format!(
                "the whole run (every process, its scratch files included) must stay under --memory ({} MiB)",
                options.memory >> 20
            )),
        );
    }
    if outcome.output_dropped > 0 {
        diags.push(
            Diagnostic::new(
                &rules::RESOURCE_LIMIT,
                format!(
                    "the model printed more than 64 KiB; {} bytes were discarded",
                    outcome.output_dropped
                ),
            )
            .help("remove prints from model.py"),
        );
    }
    diags
}

/// Findings about the sandbox itself: a run whose total memory was not
/// bounded, and anything of the run its cleanup could not remove.
pub fn containment(
    outcome: &Outcome,
    unbounded_memory: Option<&str>,
    cleanup_error: Option<&str>,
    options: &RuntimeOptions,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if let Some(reason) = unbounded_memory {
        diags.push(
            Diagnostic::new(
                &rules::CONTAINMENT_REDUCED,
                format!(
                    "the run's total memory was not bounded (no usable cgroup: {reason}); only each process's address space was ({} MiB)",
                    options.memory >> 20
                ),
            )
            .help("run as root, or in a cgroup v2 with the memory and pids controllers delegated"),
        );
    }
    let cgroup_cleanup = outcome
        .cgroup
        .as_ref()
        .and_then(|c| c.cleanup_error.as_deref());
    for error in [cleanup_error, cgroup_cleanup].into_iter().flatten() {
        diags.push(
            Diagnostic::new(
                &rules::CONTAINMENT_REDUCED,
                format!("cleanup failed: {error}"),
            )
            .severity(Severity::Error)
            .help("something of the run was left on this machine; remove it by hand"),
        );
    }
    diags
}

/// The diagnostics of one run: kernel and supervisor facts first (the
/// security verdict), then the harness's functional findings.
pub fn interpret(
    outcome: &Outcome,
    facts: &ConfigFacts,
    modality: Modality,
    options: &RuntimeOptions,
) -> Vec<Diagnostic> {
    let result = outcome.result.as_ref();
    let (timed_out, signal, code) = (outcome.timed_out, outcome.signal, outcome.code);
    let stderr_tail = outcome.stderr_tail.as_str();
    let oom_kills = outcome.cgroup.as_ref().map_or(0, |c| c.oom_kills);
    let killed_by_supervisor = outcome
        .facts
        .iter()
        .any(|f| matches!(f, Fact::Attempt { what, .. } if what == "forbidden-call"));
    let mut diags = observed(outcome, options);
    let model = "model.py";
    if timed_out {
        diags.push(
            Diagnostic::new(
                &rules::TIMEOUT,
                format!(
                    "the run did not finish within {} s",
                    options.timeout.as_secs()
                ),
            )
            .help("make load_model and forward fast; raise --timeout for very large models"),
        );
    }
    match signal {
        Some(libc::SIGSYS) => diags.push(
            Diagnostic::new(
                &rules::SANDBOX_VIOLATION,
                format!(
                    "the model's main process was killed by seccomp for a forbidden system call (one of: {})",
                    seccomp::killed_call_names().join(", ")
                ),
            )
            .help("models never need these calls; remove the code that makes them"),
        ),
        Some(libc::SIGXCPU) => diags.push(
            Diagnostic::new(&rules::RESOURCE_LIMIT, "the run used up its CPU time")
                .help("make the model cheaper"),
        ),
        Some(libc::SIGXFSZ) => diags.push(
            Diagnostic::new(
                &rules::RESOURCE_LIMIT,
                "the model wrote a file larger than 1 GiB",
            )
            .help("models must not write files"),
        ),
        // The cgroup's OOM kills and the supervisor's kills of forbidden
        // calls are reported by `observed`.
        Some(libc::SIGKILL) if !timed_out && (oom_kills > 0 || killed_by_supervisor) => {}
        Some(libc::SIGKILL) if !timed_out => diags.push(
            Diagnostic::new(
                &rules::RESOURCE_LIMIT,
                "the model was killed (out of memory or a limit)",
            )
            .help(format!(
                "peak memory must stay under --memory ({} GiB)",
                options.memory >> 30
            )),
        ),
        Some(_)
            if !timed_out
                && [
                    "bad_alloc",
                    "MemoryError",
                    "Cannot allocate memory",
                    "out of memory",
                ]
                .iter()
                .any(|m| stderr_tail.contains(m)) =>
        {
            diags.push(
                Diagnostic::new(
                    &rules::RESOURCE_LIMIT,
                    "the interpreter ran out of memory and crashed",
                )
                .help(format!(
                    "peak memory must stay under --memory ({} GiB)",
                    options.memory >> 30
                )),
            )
        }
        Some(s) if !timed_out => diags.push(
            Diagnostic::new(
                &rules::NO_RESULT,
                format!("the interpreter died with signal {s}"),
            )
            .help(format!("the last output was: {stderr_tail}")),
        ),
        _ => {}
    }
    let Some(r) = result else {
        if !timed_out && signal.is_none() {
            diags.push(
                Diagnostic::new(&rules::NO_RESULT, format!("the run ended ({}) without a result", code.map_or("no exit code".into(), |c| format!("exit {c}"))))
                    .help(format!("model code exited the process or corrupted the harness; the last output was: {stderr_tail}")),
            );
        }
        return diags;
    };
    let memory = r.error_type.as_deref() == Some("MemoryError");
    let error = r.error.clone().unwrap_or_default();
    let at_line = |d: Diagnostic| match r.error_line {
        Some(l) => d
            .in_file(model)
            .help(format!("raised at model.py line {l}")),
        None => d,
    };
    match (r.stage.as_str(), r.ok) {
        (_, true) | ("done", _) => {}
        (_, _) if memory => diags.push(
            Diagnostic::new(
                &rules::RESOURCE_LIMIT,
                format!("out of memory ({} stage): {error}", r.stage),
            )
            .help(format!(
                "peak memory must stay under --memory ({} GiB)",
                options.memory >> 30
            )),
        ),
        ("import-libraries", _) => diags.push(
            Diagnostic::new(
                &rules::NO_RESULT,
                format!("the interpreter cannot import torch inside the sandbox: {error}"),
            )
            .help("check the interpreter with --python"),
        ),
        ("import-model", _) => diags.push(at_line(Diagnostic::new(
            &rules::IMPORT_FAILED,
            format!("importing model.py raised {error}"),
        ))),
        ("load", _) => diags.push(at_line(Diagnostic::new(
            &rules::LOAD_FAILED,
            format!("load_model failed: {error}"),
        ))),
        ("forward", _) => diags.push(at_line(Diagnostic::new(
            &rules::FORWARD_FAILED,
            format!(
                "the forward pass on a {} input raised {error}",
                shape_text(facts)
            ),
        ))),
        (stage, _) => diags.push(Diagnostic::new(
            &rules::NO_RESULT,
            format!("the run stopped at stage `{stage}`"),
        )),
    }
    for (names, what) in [
        (
            &r.missing,
            "are not in the weights file and keep their random initialisation",
        ),
        (
            &r.unexpected,
            "are in the weights file but not in the model",
        ),
        (
            &r.shape_mismatch,
            "have a different shape in the weights file",
        ),
    ] {
        if !names.is_empty() {
            let shown: Vec<_> = names.iter().take(10).map(|n| sanitize(n)).collect();
            diags.push(
                Diagnostic::new(&rules::WEIGHTS_MISMATCH, format!("{} parameter(s) {what}: {}{}", names.len(), shown.join(", "), if names.len() > 10 { ", ..." } else { "" }))
                    .help("save the exact state_dict of the model load_model builds; load with strict=True"),
            );
        }
    }
    if r.ok {
        if let Some(shape) = &r.output_shape {
            let n = facts.num_classes.unwrap_or(2);
            let fits = shape.len() == 2
                && shape[0] == 2
                && (shape[1] == n || [1, 2, 3].contains(&shape[1]));
            if !fits {
                diags.push(
                    Diagnostic::new(
                        &rules::OUTPUT_SHAPE,
                        format!(
                            "the output has shape {shape:?}; expected [2, {n}] for a batch of 2"
                        ),
                    )
                    .help("end forward with a linear head of num_classes outputs"),
                );
            }
        }
        if r.finite == Some(false) {
            diags.push(
                Diagnostic::new(
                    &rules::NON_FINITE_OUTPUT,
                    "the output contains NaN or infinity",
                )
                .help("check normalisation and the dtype"),
            );
        }
        if r.deterministic == Some(false) {
            diags.push(
                Diagnostic::new(
                    &rules::NONDETERMINISTIC,
                    "the same input gave different outputs",
                )
                .help("call model.eval() and remove randomness from forward"),
            );
        }
        if r.batch_independent == Some(false) {
            diags.push(
                Diagnostic::new(
                    &rules::BATCH_DEPENDENT,
                    "a sample's output changed with the rest of its batch",
                )
                .help("keep batch-norm in eval mode; do not normalise across the batch"),
            );
        }
        let mut summary = format!(
            "loaded in {:.0} ms; forward {:.1} ms for a batch of 2 ({} {}); peak {:.0} MiB; {} parameters; {}",
            r.load_ms.unwrap_or(0.0),
            r.forward_ms.unwrap_or(0.0),
            modality.as_str(),
            shape_text(facts),
            r.peak_rss_mb.unwrap_or(0.0),
            r.parameters.unwrap_or(0),
            r.dtype.as_deref().unwrap_or("?")
        );
        if r.fallback_call {
            summary.push_str("; load_model did not accept the config's keywords: the evaluator's fallback call was used");
        }
        diags.push(Diagnostic::new(&rules::RUNTIME_SUMMARY, summary).help(HARNESS_WORD));
    }
    // The audit hook's events are hints: attached to the supervisor's
    // findings of the same kind, never findings of their own.
    for e in r.events.iter().take(20) {
        let kind = match e.kind.as_str() {
            "file-change" => "file-write",
            k => k,
        };
        if let Some(d) = diags.iter_mut().find(|d| {
            d.rule.code == rules::SANDBOX_VIOLATION.code && d.message.contains(&format!("({kind};"))
        }) {
            let hint = format!("the harness's audit hook saw: {}", sanitize(&e.detail));
            d.help = Some(match d.help.take() {
                Some(h) if !h.contains(&hint) => format!("{h}; {hint}"),
                Some(h) => h,
                None => hint,
            });
        }
    }
    diags
}

fn shape_text(facts: &ConfigFacts) -> String {
    facts.input_shape.as_ref().map_or("?".into(), |s| {
        let mut s = s.clone();
        if let Some(b) = s.first_mut() {
            *b = 2;
        }
        format!("{s:?}")
    })
}

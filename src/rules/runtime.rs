//! `R`: the runtime stage (sandboxed load and forward pass).

declare_rules! {
    /// ## What it does
    /// Reports that the runtime stage (loading the model and running one
    /// forward pass in a sandbox) did not run.
    ///
    /// ## Why is this bad?
    /// Static checks cannot prove that `load_model` works, that the weights
    /// match the architecture, or that the output has the right shape. Those
    /// failures spend an upload slot just as a policy violation does.
    ///
    /// ## Example
    /// ```text
    /// gasguard check --sandbox auto model/   # warning when no usable Python is found
    /// gasguard check --sandbox on --python .venv/bin/python model/
    /// ```
    RUNTIME_SKIPPED = "R001", "runtime-skipped", Warning, "The runtime stage did not run";

    /// ## What it does
    /// Reports that importing `model.py` raised, as the evaluator's import
    /// would, with the exception and the line in `model.py`.
    ///
    /// ## Why is this bad?
    /// The evaluator fails the submission before calling `load_model`.
    ///
    /// ## Example
    /// ```python
    /// import torch
    /// WIDTH = CONFIG["width"]   # NameError at import
    /// ```
    IMPORT_FAILED = "R002", "model-import-failed", Error, "Importing model.py raised an exception";

    /// ## What it does
    /// Reports that `load_model(weights_path, **model)` raised, or returned
    /// something other than a `torch.nn.Module`.
    ///
    /// ## Why is this bad?
    /// The evaluator requires an `nn.Module`; anything else fails the run.
    ///
    /// ## Example
    /// ```python
    /// def load_model(weights_path, num_classes=2):
    ///     return load_file(weights_path)   # a dict, not a module
    /// ```
    LOAD_FAILED = "R003", "load-model-failed", Error, "load_model raised or did not return an nn.Module";

    /// ## What it does
    /// Compares the module's `state_dict()` with the safetensors file: a
    /// parameter missing from the file (it keeps its random initialisation), a
    /// tensor the model never uses, or a shape that differs. Each is named.
    ///
    /// ## Why is this bad?
    /// `load_state_dict(strict=False)` hides all three; the model then runs
    /// with random weights and scores at chance. A very common silent failure.
    ///
    /// ## Example
    /// A timm model whose file lacks `head.fc.weight`.
    WEIGHTS_MISMATCH = "R004", "weights-mismatch", Warning, "The model's parameters and the weights file disagree";

    /// ## What it does
    /// Reports that the forward pass on a correctly shaped dummy batch raised.
    ///
    /// ## Why is this bad?
    /// The evaluator feeds exactly that input: uint8 `[B, 3, H, W]` images,
    /// uint8 `[B, T, 3, H, W]` videos, float32 `[B, 96000]` audio.
    ///
    /// ## Example
    /// A model that expects float input in [0, 1] and calls `F.conv2d` on uint8.
    FORWARD_FAILED = "R005", "forward-failed", Error, "The forward pass raised an exception";

    /// ## What it does
    /// Requires the (unwrapped) output to have shape `[batch, num_classes]`
    /// (or `[batch, 1]` for a sigmoid head).
    ///
    /// ## Why is this bad?
    /// The evaluator reads one row of class logits per sample.
    ///
    /// ## Example
    /// A backbone returning `[2, 768]` features without a head.
    OUTPUT_SHAPE = "R006", "output-shape", Error, "The output does not have shape [batch, num_classes]";

    /// ## What it does
    /// Rejects NaN or infinite outputs.
    ///
    /// ## Why is this bad?
    /// They cannot be scored; usually a normalisation dividing by zero or a
    /// float16 overflow.
    ///
    /// ## Example
    /// `x / x.std()` on a constant image.
    NON_FINITE_OUTPUT = "R007", "non-finite-output", Error, "The output contains NaN or infinity";

    /// ## What it does
    /// Warns when the same input twice gives different outputs.
    ///
    /// ## Why is this bad?
    /// Dropout or randomness left on in evaluation makes scores noisy.
    ///
    /// ## Example
    /// `F.dropout(x, 0.5)` without `training=self.training`.
    NONDETERMINISTIC = "R008", "nondeterministic-output", Warning, "The same input gives different outputs";

    /// ## What it does
    /// Warns when a sample's output depends on the rest of its batch.
    ///
    /// ## Why is this bad?
    /// Batch-norm left in training mode, or batch-level normalisation, makes
    /// a sample's score depend on its neighbours.
    ///
    /// ## Example
    /// `x = (x - x.mean(0)) / x.std(0)` in `forward`.
    BATCH_DEPENDENT = "R009", "batch-dependent-output", Warning, "A sample's output depends on the rest of the batch";

    /// ## What it does
    /// Reports a run that exceeded the wall-clock timeout (`--timeout`).
    ///
    /// ## Why is this bad?
    /// The evaluator has a time budget per sample and per benchmark.
    ///
    /// ## Example
    /// `while True: pass` in `load_model`.
    TIMEOUT = "R010", "timeout", Error, "The run exceeded its time limit";

    /// ## What it does
    /// Reports a run that exhausted its memory limit (`--memory`), its CPU time,
    /// its file-size or its process limit.
    ///
    /// ## Why is this bad?
    /// The same model would fail or be killed on the evaluator's machine.
    ///
    /// ## Example
    /// `torch.zeros(10**11)`.
    RESOURCE_LIMIT = "R011", "resource-limit", Error, "The run hit a memory, CPU, file-size or process limit";

    /// ## What it does
    /// Reports what the model tried that the sandbox forbids: network
    /// connections, process execution, writes outside the scratch folder,
    /// native library loading, signals, and forbidden system calls (the
    /// process is killed by seccomp), seen from outside the model's
    /// process: the supervisor receives each socket, connect, send, open,
    /// file change, execve and fork as a seccomp user notification (with
    /// the path or address read from the caller's memory) and records
    /// what the policy does not allow; a process of the run killed by
    /// seccomp is reported with its pid. The Python audit hook inside the
    /// model's process only adds hints (it can be switched off by the
    /// model, so it never decides).
    ///
    /// ## Why is this bad?
    /// The evaluator runs without network in a sandbox; code that tries these
    /// things is either broken there or hostile.
    ///
    /// ## Example
    /// ```python
    /// socket.create_connection(("1.2.3.4", 80))
    /// ```
    SANDBOX_VIOLATION = "R012", "sandbox-violation", Error, "The model attempted something the sandbox forbids";

    /// ## What it does
    /// Reports that the harness produced no valid result: the process exited
    /// early (`os._exit`, a crash) or wrote something that is not the
    /// expected result.
    ///
    /// ## Why is this bad?
    /// gasguard cannot vouch for a run it could not observe.
    ///
    /// ## Example
    /// `os._exit(0)` inside `load_model`.
    NO_RESULT = "R013", "no-result", Error, "The run ended without a valid result";

    /// ## What it does
    /// Reports what the run measured: load time, forward latency, peak memory,
    /// parameter count and dtype.
    ///
    /// ## Why is this bad?
    /// It is not; this is information for sizing a submission against the
    /// evaluator's time budget.
    ///
    /// ## Example
    /// `loaded in 812 ms; forward 35 ms for a batch of 2; peak 1.9 GB; 25.6M parameters; float32`
    RUNTIME_SUMMARY = "R014", "runtime-summary", Info, "What the runtime stage measured";

    /// ## What it does
    /// Reports that the sandbox ran with less containment than it is built
    /// for, or left something behind: the run's total memory could not be
    /// bounded by a cgroup (`--allow-unlimited-memory` was given; only each
    /// process's address space was limited), or gasguard could not remove
    /// the run's folder or cgroup afterwards (an error: something of the
    /// run is still on this machine).
    ///
    /// ## Why is this bad?
    /// Without a cgroup, a model that forks can use the per-process limit
    /// many times over; a cleanup failure leaves files or kernel objects of
    /// an untrusted run on the machine.
    ///
    /// ## Example
    /// ```text
    /// gasguard sandbox --allow-unlimited-memory model/   # on a machine without usable cgroups
    /// ```
    CONTAINMENT_REDUCED = "R015", "containment-reduced", Warning, "The sandbox ran with reduced containment or left something behind";
}

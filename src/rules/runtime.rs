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
}

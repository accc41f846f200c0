//! `P`: `model.py`.

declare_rules! {
    /// ## What it does
    /// Reports a `model.py` that is not valid Python, with the parser's message
    /// at the exact location.
    ///
    /// ## Why is this bad?
    /// The evaluator's import of the module fails, spending an upload slot.
    ///
    /// ## Example
    /// ```python
    /// def load_model(weights_path, num_classes=2)   # bad: missing colon
    /// ```
    SYNTAX_ERROR = "P001", "syntax-error", Error, "model.py is not valid Python";
}

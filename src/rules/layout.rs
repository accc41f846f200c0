//! `L`: which files a submission holds and where.

declare_rules! {
    /// ## What it does
    /// Requires `model_config.yaml` and `model.py` at the top of the submission.
    ///
    /// ## Why is this bad?
    /// The evaluator looks for exactly these names and fails the submission
    /// (spending an upload slot) when either is missing.
    ///
    /// ## Example
    /// ```text
    /// config.yaml, net.py, model.safetensors              # bad
    /// model_config.yaml, model.py, model.safetensors      # good
    /// ```
    MISSING_REQUIRED_FILE = "L001", "missing-required-file", Error, "A required file is missing";

    /// ## What it does
    /// Requires the weights file named by `model.weights_file`
    /// (default `model.safetensors`) to be present.
    ///
    /// ## Why is this bad?
    /// The evaluator opens `<submission>/<weights_file>` and fails when it is
    /// absent.
    ///
    /// ## Example
    /// ```yaml
    /// model:
    ///   weights_file: "detector.safetensors"   # but the zip holds model.safetensors
    /// ```
    MISSING_WEIGHTS = "L002", "missing-weights", Error, "The weights file named by the config is missing";

    /// ## What it does
    /// Warns when every file sits under one top-level folder
    /// (`my_model/model.py`) instead of at the root of the archive, which is
    /// what `zip -r ../m.zip my_model` produces.
    ///
    /// ## Why is this bad?
    /// The documented layout is flat (`cd my_model && zip -r ../m.zip .`). How
    /// the evaluator locates files in a nested archive is not public; if it
    /// looks at the root only, it finds no `model_config.yaml`. gasguard checks
    /// the files inside the folder and warns; `--strict` makes this an error.
    ///
    /// ## Example
    /// ```text
    /// my_model/model.py, my_model/model_config.yaml   # warning
    /// model.py, model_config.yaml                     # good
    /// ```
    NESTED_LAYOUT = "L003", "nested-layout", Warning, "All files sit under one top-level folder instead of the archive root";

    /// ## What it does
    /// Rejects compiled or native code: `.so`, `.pyd`, `.dylib`, `.dll`,
    /// `.pyc`, `.pyo`, and anything under `__pycache__/`.
    ///
    /// ## Why is this bad?
    /// Native code runs outside every Python-level check. A `.pyc` in
    /// `__pycache__/` with an unchecked hash is executed by Python's import
    /// machinery *instead of* the reviewed `model.py`, whatever its source says.
    ///
    /// ## Example
    /// ```text
    /// __pycache__/model.cpython-311.pyc   # bad
    /// ```
    NATIVE_CODE = "L004", "native-or-compiled-code", Error, "The submission ships compiled or native code";

    /// ## What it does
    /// Rejects files that can hijack Python's imports or start-up: `*.pth`,
    /// `sitecustomize.py`, `usercustomize.py`, and any file or folder named
    /// like an allowed, blocked or standard-library module (`torch/`,
    /// `numpy.py`, `os.py`).
    ///
    /// ## Why is this bad?
    /// If the submission folder is ever on `sys.path`, `import torch` would load
    /// the shipped `torch/__init__.py` instead of the real library, and a
    /// `.pth` file runs code at interpreter start. (A `.pth` is also the
    /// suffix of pickled PyTorch checkpoints, which are not accepted either.)
    ///
    /// ## Example
    /// ```text
    /// numpy.py          # bad
    /// torch/__init__.py # bad
    /// ```
    IMPORT_HIJACK = "L005", "import-hijack", Error, "A file could shadow a module or hook interpreter start-up";

    /// ## What it does
    /// Rejects scripts and executables: files with the executable bit, ELF /
    /// Mach-O / PE binaries, `#!` scripts, and `.sh`, `.bash`, `.exe`, `.bat`,
    /// `.cmd`, `.ps1` files.
    ///
    /// ## Why is this bad?
    /// The evaluator runs nothing but `model.py`; an executable beside it is
    /// only useful to code that tries to start it.
    ///
    /// ## Example
    /// ```text
    /// install.sh   # bad
    /// ```
    EXECUTABLE_FILE = "L006", "executable-file", Error, "The submission ships a script or executable";

    /// ## What it does
    /// Rejects Python modules other than `model.py`.
    ///
    /// ## Why is this bad?
    /// The evaluator imports `model.py` alone, by file path, without putting
    /// the folder on `sys.path`: `import helpers` fails there even though it
    /// works on your machine. Code in other files is also code the static
    /// analyzer never reviewed. Put everything in `model.py`.
    ///
    /// ## Example
    /// ```text
    /// model.py + layers.py   # bad: inline layers.py into model.py
    /// ```
    EXTRA_PYTHON_MODULE = "L007", "extra-python-module", Error, "A Python file other than model.py is shipped";

    /// ## What it does
    /// Rejects `.onnx` files anywhere in the submission.
    ///
    /// ## Why is this bad?
    /// SN34 no longer accepts ONNX models: submissions are safetensors weights
    /// plus a `model.py` that builds the network. Export the PyTorch weights
    /// with `safetensors.torch.save_file(model.state_dict(), "model.safetensors")`
    /// and write the architecture in `model.py`.
    ///
    /// ## Example
    /// ```text
    /// image_detector.zip/model.onnx   # bad (ONNX era)
    /// ```
    ONNX_MODEL = "L008", "onnx-model", Error, "ONNX models are no longer accepted";

    /// ## What it does
    /// Warns about files the evaluator does not use (anything but
    /// `model_config.yaml`, `model.py`, `config.json` and `*.safetensors`),
    /// including `__MACOSX/` and `.DS_Store` debris.
    ///
    /// ## Why is this bad?
    /// They are uploaded for nothing and make review harder.
    ///
    /// ## Example
    /// ```text
    /// notes.txt, __MACOSX/._model.py   # warning
    /// ```
    UNUSED_FILE = "L009", "unused-file", Warning, "A file is not used by the evaluator";

    /// ## What it does
    /// Rejects pickled checkpoints: `.pt`, `.pth`, `.bin`, `.ckpt`, `.pkl`,
    /// `.pickle`, `.joblib`, `.npy`, `.npz`, `.h5` files, and any file whose
    /// content starts with a pickle protocol header.
    ///
    /// ## Why is this bad?
    /// Unpickling runs arbitrary code, so SN34 accepts weights only as
    /// safetensors. Convert with
    /// `safetensors.torch.save_file(torch.load(p, weights_only=True), "model.safetensors")`.
    ///
    /// ## Example
    /// ```text
    /// pytorch_model.bin   # bad
    /// ```
    PICKLED_WEIGHTS = "L010", "pickled-weights", Error, "The submission ships a pickled checkpoint";
}

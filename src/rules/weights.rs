//! `W`: safetensors weights, judged from their header alone.

declare_rules! {
    /// ## What it does
    /// Rejects a `.safetensors` file that is not safetensors at all, and names
    /// what it is when recognisable: a pickle, a PyTorch ZIP checkpoint, an
    /// ONNX model, a NumPy file, HDF5, or a Git LFS pointer.
    ///
    /// ## Why is this bad?
    /// The evaluator loads weights with `safetensors`; renaming `model.pt` does
    /// not convert it, and a pickle must never be loaded at all.
    ///
    /// ## Example
    /// ```text
    /// mv model.pt model.safetensors   # bad: still a pickle
    /// ```
    NOT_SAFETENSORS = "W001", "not-safetensors", Error, "The weights file is not safetensors";

    /// ## What it does
    /// Checks the 8-byte header length: within the file and within
    /// `limits.weights.max_header_bytes` (8 MiB by default; the reference
    /// implementation allows 100 MB).
    ///
    /// ## Why is this bad?
    /// Real headers are kilobytes; a huge one only serves to exhaust the tools
    /// that parse it, and a length past the end of the file means a truncated
    /// upload.
    ///
    /// ## Example
    /// A file whose first 8 bytes claim a 2^60-byte header.
    HEADER_LENGTH = "W002", "header-length", Error, "The safetensors header length is invalid";

    /// ## What it does
    /// Requires the header to be UTF-8 JSON: an object whose entries are
    /// tensors `{dtype, shape, data_offsets}` plus an optional `__metadata__`.
    ///
    /// ## Why is this bad?
    /// The loader fails on anything else.
    ///
    /// ## Example
    /// ```json
    /// {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}   // bad: unclosed
    /// ```
    HEADER_JSON = "W003", "header-json", Error, "The safetensors header is not valid JSON of the expected shape";

    /// ## What it does
    /// Requires `__metadata__`, when present, to map strings to strings.
    ///
    /// ## Why is this bad?
    /// The reference loader rejects other values.
    ///
    /// ## Example
    /// ```json
    /// {"__metadata__": {"epoch": 3}}      // bad
    /// {"__metadata__": {"epoch": "3"}}    // good
    /// ```
    METADATA = "W004", "metadata", Error, "__metadata__ is not a map of strings to strings";

    /// ## What it does
    /// Requires each tensor's `dtype` to be one safetensors defines (`F64`,
    /// `F32`, `F16`, `BF16`, `I64`, `I32`, `I16`, `I8`, `U64`, `U32`, `U16`,
    /// `U8`, `BOOL`, `F8_E4M3`, `F8_E5M2`, ...).
    ///
    /// ## Why is this bad?
    /// The loader cannot interpret an unknown dtype.
    ///
    /// ## Example
    /// ```json
    /// {"w": {"dtype": "F128", ...}}   // bad
    /// ```
    UNKNOWN_DTYPE = "W005", "unknown-dtype", Error, "A tensor has an unknown dtype";

    /// ## What it does
    /// Requires each tensor's byte length (`end - begin`) to equal the product
    /// of its shape times its dtype size.
    ///
    /// ## Why is this bad?
    /// A mismatch is a corrupt file or a crafted one that makes readers read
    /// past a tensor.
    ///
    /// ## Example
    /// ```json
    /// {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}   // bad: needs 16 bytes
    /// ```
    SHAPE_SIZE_MISMATCH = "W006", "shape-size-mismatch", Error, "A tensor's shape does not match its byte length";

    /// ## What it does
    /// Requires tensor data offsets, sorted by start, to be contiguous and
    /// non-overlapping from 0 to the end of the buffer.
    ///
    /// ## Why is this bad?
    /// Overlapping tensors alias each other's memory; gaps hide unreviewed
    /// bytes. The reference implementation rejects both.
    ///
    /// ## Example
    /// Two tensors both at `[0, 16]`.
    INVALID_OFFSETS = "W007", "invalid-offsets", Error, "Tensor data offsets overlap, leave gaps or are out of order";

    /// ## What it does
    /// Requires the file size to equal 8 + header length + the end of the last
    /// tensor: no missing and no trailing bytes.
    ///
    /// ## Why is this bad?
    /// Missing bytes mean a truncated upload; trailing bytes are hidden payload.
    ///
    /// ## Example
    /// `cat model.safetensors payload.bin > model.safetensors`
    SIZE_MISMATCH = "W008", "file-size-mismatch", Error, "The file size disagrees with the header";

    /// ## What it does
    /// Rejects a header that names the same tensor twice.
    ///
    /// ## Why is this bad?
    /// JSON readers keep one of the two silently, and not always the same one.
    ///
    /// ## Example
    /// ```json
    /// {"w": {...}, "w": {...}}   // bad
    /// ```
    DUPLICATE_TENSOR = "W009", "duplicate-tensor", Error, "A tensor name appears twice in the header";

    /// ## What it does
    /// Warns when the dominant floating-point dtype of the weights differs
    /// from the config's `dtype` (default float32).
    ///
    /// ## Why is this bad?
    /// The evaluator casts the model to the config dtype. bf16 weights run as
    /// float32 cost twice the memory; float32 weights run as float16 may
    /// overflow. Usually the config is what was forgotten.
    ///
    /// ## Example
    /// BF16 weights with no `dtype:` in the config.
    DTYPE_DISAGREES = "W010", "dtype-disagrees", Warning, "The weights' dtype differs from the config dtype";

    /// ## What it does
    /// Warns when the weights file holds no tensors.
    ///
    /// ## Why is this bad?
    /// The model will run with random initial weights.
    ///
    /// ## Example
    /// `save_file({}, "model.safetensors")`
    NO_TENSORS = "W011", "no-tensors", Warning, "The weights file holds no tensors";
}

//! `C`: `model_config.yaml`.

declare_rules! {
    /// ## What it does
    /// Rejects a `model_config.yaml` that is not valid UTF-8 YAML, holds more
    /// than one document, nests deeper than the policy allows, or is larger
    /// than `limits.config.max_bytes`.
    ///
    /// ## Why is this bad?
    /// The evaluator reads it with PyYAML `safe_load`; a file it cannot read
    /// fails the submission.
    ///
    /// ## Example
    /// ```yaml
    /// model:
    ///   num_classes: [2     # bad: unclosed flow sequence
    /// ```
    YAML_SYNTAX = "C001", "yaml-syntax", Error, "model_config.yaml is not valid YAML";

    /// ## What it does
    /// Rejects explicit YAML tags (`!!python/object`, `!!str`, `!custom`) and
    /// merge keys (`<<`).
    ///
    /// ## Why is this bad?
    /// `safe_load` refuses Python tags outright, and tags or merges make the
    /// value a reviewer reads differ from the one the evaluator builds. A
    /// config needs neither.
    ///
    /// ## Example
    /// ```yaml
    /// name: !!python/object/apply:os.system ["id"]   # bad
    /// name: "my-detector"                             # good
    /// ```
    YAML_TAG = "C002", "yaml-tag", Error, "model_config.yaml uses a YAML tag or merge key";

    /// ## What it does
    /// Rejects anchors and aliases whose expansion exceeds the policy's node
    /// budget (`limits.config.max_alias_expansion`), and aliases to unknown
    /// anchors.
    ///
    /// ## Why is this bad?
    /// "Billion laughs": nine nested aliases of ten items each expand to a
    /// billion nodes in any loader that materialises them.
    ///
    /// ## Example
    /// ```yaml
    /// a: &a [x, x, x, x, x, x, x, x, x, x]
    /// b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
    /// c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]   # ...and so on: bad
    /// ```
    YAML_ALIAS_BOMB = "C003", "yaml-alias-expansion", Error, "YAML aliases expand beyond the policy budget";

    /// ## What it does
    /// Rejects a mapping that defines the same key twice.
    ///
    /// ## Why is this bad?
    /// PyYAML silently keeps the last value. A reviewer reading the first
    /// `num_classes: 2` and the evaluator using a later `num_classes: 5`
    /// disagree without anyone noticing.
    ///
    /// ## Example
    /// ```yaml
    /// model:
    ///   num_classes: 2
    ///   num_classes: 5   # bad
    /// ```
    DUPLICATE_KEY = "C004", "duplicate-key", Error, "A YAML mapping defines the same key twice";

    /// ## What it does
    /// Reports plain scalars that PyYAML (YAML 1.1, what the evaluator uses)
    /// reads differently from a YAML 1.2 reader: `yes`/`no`/`on`/`off`
    /// (booleans in 1.1), `010` (octal 8 in 1.1), `1e3` (a *string* in 1.1),
    /// `1_000`, `1:30` (sexagesimal 90), `0b101`. An error where the key needs
    /// a number or a string, a warning elsewhere.
    ///
    /// ## Why is this bad?
    /// Editors, linters and most YAML libraries are YAML 1.2; they show you a
    /// value the evaluator never sees. `duration_seconds: 6e0` is the string
    /// `"6e0"` to PyYAML.
    ///
    /// ## Example
    /// ```yaml
    /// enabled: on            # PyYAML: True; YAML 1.2: the string "on"
    /// sample_rate: 16e3      # a string for PyYAML: write 16000
    /// ```
    YAML11_PITFALL = "C005", "yaml11-pitfall", Warning, "A value reads differently under YAML 1.1 (PyYAML) than under YAML 1.2";

    /// ## What it does
    /// Requires the keys the evaluator needs: `name`, `version`, `modality`,
    /// `model`, `model.num_classes`, and `preprocessing.resize` for image and
    /// video.
    ///
    /// ## Why is this bad?
    /// The evaluator builds the input tensor and the `load_model` call from
    /// them.
    ///
    /// ## Example
    /// ```yaml
    /// name: "x"
    /// version: "1.0"
    /// modality: image
    /// preprocessing: {resize: [224, 224]}
    /// model: {num_classes: 2}
    /// ```
    MISSING_KEY = "C006", "missing-key", Error, "A required config key is missing";

    /// ## What it does
    /// Checks that each known key has the type the evaluator expects (string,
    /// integer, number, list, mapping) after PyYAML's resolution.
    ///
    /// ## Why is this bad?
    /// `num_classes: "2"` is a string; the model is then built with the wrong
    /// type and fails or misbehaves at evaluation.
    ///
    /// ## Example
    /// ```yaml
    /// model:
    ///   num_classes: "2"   # bad
    ///   num_classes: 2     # good
    /// ```
    WRONG_TYPE = "C007", "wrong-type", Error, "A config value has the wrong type";

    /// ## What it does
    /// Requires `modality` to be one of `image`, `video`, `audio`.
    ///
    /// ## Why is this bad?
    /// Values seen in the wild such as `image_human` mix in the *vertical*,
    /// which is a push flag (`--vertical human`), not a modality.
    ///
    /// ## Example
    /// ```yaml
    /// modality: image_human   # bad
    /// modality: image         # good (push with --vertical human)
    /// ```
    INVALID_MODALITY = "C008", "invalid-modality", Error, "modality is not image, video or audio";

    /// ## What it does
    /// Compares the config's `modality` with `--modality`, the slot you intend
    /// to push to.
    ///
    /// ## Why is this bad?
    /// An image model pushed as `--video-model` is fed 5-D tensors and fails.
    ///
    /// ## Example
    /// ```text
    /// gasguard check --modality video image_model/   # bad: config says image
    /// ```
    MODALITY_MISMATCH = "C009", "modality-mismatch", Error, "The config's modality differs from --modality";

    /// ## What it does
    /// Rejects a `num_classes` the evaluator cannot score: anything but 1, 2
    /// or 3.
    ///
    /// ## Why is this bad?
    /// Outputs are read as `[real, synthetic]` logits (2), a single sigmoid
    /// logit (1) or the legacy `[real, synthetic, semisynthetic]` (3).
    ///
    /// ## Example
    /// ```yaml
    /// model: {num_classes: 1000}   # bad: an ImageNet head
    /// ```
    INVALID_NUM_CLASSES = "C010", "invalid-num-classes", Error, "num_classes is not one the evaluator can score";

    /// ## What it does
    /// Warns when `num_classes` is 1 or 3.
    ///
    /// ## Why is this bad?
    /// Both are accepted but not the target: 1 is read as a sigmoid logit for
    /// "synthetic"; 3 is the legacy `[real, synthetic, semisynthetic]` head
    /// whose last two classes are merged into "synthetic" when scored, which
    /// wastes capacity on a distinction that earns nothing.
    ///
    /// ## Example
    /// ```yaml
    /// model: {num_classes: 3}   # warning
    /// model: {num_classes: 2}   # good
    /// ```
    LEGACY_NUM_CLASSES = "C011", "legacy-num-classes", Warning, "num_classes is accepted but is not the 2-class target";

    /// ## What it does
    /// Requires `dtype` to be one of `float32`, `fp32`, `float16`, `fp16`,
    /// `bfloat16`, `bf16` (any case).
    ///
    /// ## Why is this bad?
    /// The evaluator raises on any other value before loading the model.
    ///
    /// ## Example
    /// ```yaml
    /// dtype: half      # bad
    /// dtype: float16   # good
    /// ```
    INVALID_DTYPE = "C012", "invalid-dtype", Error, "dtype is not an accepted spelling";

    /// ## What it does
    /// Warns when `dtype` appears under `model:` instead of at the top level.
    ///
    /// ## Why is this bad?
    /// Every key under `model:` is passed to `load_model` as a keyword
    /// argument. A `dtype` there reaches your function but does *not* set the
    /// evaluation dtype, which is read from the top level only (default
    /// float32).
    ///
    /// ## Example
    /// ```yaml
    /// model: {num_classes: 2, dtype: bfloat16}   # warning
    /// dtype: bfloat16                             # good
    /// ```
    DTYPE_UNDER_MODEL = "C013", "dtype-under-model", Warning, "dtype under model: is passed to load_model and does not set the evaluation dtype";

    /// ## What it does
    /// Requires `preprocessing.resize` to be two positive integers `[H, W]`
    /// within `limits.preprocessing.max_side`.
    ///
    /// ## Why is this bad?
    /// It sets the input tensor shape; `[224]` or `[0, 224]` fails, and very
    /// large sizes exhaust evaluator memory.
    ///
    /// ## Example
    /// ```yaml
    /// preprocessing: {resize: 224}          # bad
    /// preprocessing: {resize: [224, 224]}   # good
    /// ```
    INVALID_RESIZE = "C014", "invalid-resize", Error, "resize is not two positive integers within bounds";

    /// ## What it does
    /// Checks video settings: `num_frames` (or the legacy `max_frames`) an
    /// integer within `limits.preprocessing.max_frames`, `frame_rate` a
    /// positive number; warns when both frame keys are given.
    ///
    /// ## Why is this bad?
    /// The evaluator samples that many frames into a `[B, T, 3, H, W]` tensor.
    ///
    /// ## Example
    /// ```yaml
    /// preprocessing: {num_frames: 0}    # bad
    /// preprocessing: {num_frames: 16}   # good
    /// ```
    INVALID_FRAMES = "C015", "invalid-video-frames", Error, "Video frame settings are invalid";

    /// ## What it does
    /// Requires audio settings to give exactly 96,000 samples:
    /// `int(sample_rate * duration_seconds) == 96000` (16 kHz, 6 s).
    ///
    /// ## Why is this bad?
    /// The evaluator feeds `[B, 96000]` waveforms; a model built for another
    /// length fails or silently crops.
    ///
    /// ## Example
    /// ```yaml
    /// preprocessing: {sample_rate: 22050, duration_seconds: 4}   # bad
    /// preprocessing: {sample_rate: 16000, duration_seconds: 6.0} # good
    /// ```
    INVALID_AUDIO = "C016", "invalid-audio-settings", Error, "Audio settings do not give 96000 samples";

    /// ## What it does
    /// Warns when `preprocessing.normalize` does not hold `mean` and `std`,
    /// each a list of three finite numbers, every `std` non-zero. A
    /// `normalize` of the wrong type (`normalize: true`) is reported under
    /// C-wrong-type, as a warning too.
    ///
    /// ## Why is this bad?
    /// The evaluator does not read `normalize` (models normalise inside
    /// `forward()`), so it cannot fail the submission; but code or people
    /// that take it as documentation get a zero `std` (NaN logits) or a
    /// length that does not broadcast over RGB.
    ///
    /// ## Example
    /// ```yaml
    /// normalize: {mean: [0.5, 0.5, 0.5], std: [0.5, 0.0, 0.5]}   # warning
    /// ```
    INVALID_NORMALIZE = "C017", "invalid-normalize", Warning, "normalize is not three finite means and non-zero stds (the evaluator ignores it)";

    /// ## What it does
    /// Requires `model.weights_file` to be a plain file name ending in
    /// `.safetensors` (no folders, no `..`, no absolute path).
    ///
    /// ## Why is this bad?
    /// The evaluator opens `<submission>/<weights_file>`; `../x` or
    /// `/etc/passwd` points outside the submission.
    ///
    /// ## Example
    /// ```yaml
    /// model: {weights_file: "../../secret"}        # bad
    /// model: {weights_file: "model.safetensors"}   # good
    /// ```
    INVALID_WEIGHTS_FILE = "C018", "invalid-weights-file", Error, "weights_file is not a plain .safetensors file name";

    /// ## What it does
    /// Warns about top-level and `preprocessing` keys the evaluator does not
    /// read, suggesting the closest known key.
    ///
    /// ## Why is this bad?
    /// A typo such as `num_frame` is silently ignored and the default is used.
    ///
    /// ## Example
    /// ```yaml
    /// preprocessing: {num_frame: 32}   # warning: did you mean num_frames?
    /// ```
    UNKNOWN_KEY = "C019", "unknown-key", Warning, "A config key is not read by the evaluator";
}

//! `A`: reading the submission itself (ZIP structure, directory entries).

declare_rules! {
    /// ## What it does
    /// Rejects a path that cannot be read as a submission: not a ZIP archive,
    /// a truncated one, or one whose end-of-central-directory record is missing
    /// or inconsistent.
    ///
    /// ## Why is this bad?
    /// The upload server and the evaluator read the archive with Python's
    /// `zipfile`. An archive that gasguard cannot fully parse is one whose
    /// contents nobody has reviewed, so it is refused rather than guessed at.
    ///
    /// ## Example
    /// ```text
    /// $ head -c 100 model.zip > broken.zip && gasguard check broken.zip
    /// error[A001]: not a ZIP archive: no end-of-central-directory record
    /// ```
    /// Re-create the archive with `zip -r ../model.zip .` from the model folder.
    NOT_A_ZIP = "A001", "unreadable-archive", Error, "The archive cannot be parsed as a ZIP file";

    /// ## What it does
    /// Flags an archive or directory with no files in it.
    ///
    /// ## Why is this bad?
    /// An empty submission always fails evaluation and spends an upload slot.
    ///
    /// ## Example
    /// ```text
    /// $ zip empty.zip -d '*' ; gasguard check empty.zip
    /// error[A002]: the submission contains no files
    /// ```
    EMPTY_SUBMISSION = "A002", "empty-submission", Error, "The submission contains no files";

    /// ## What it does
    /// Rejects ZIP entries that are encrypted (traditional PKWARE or strong
    /// encryption flags).
    ///
    /// ## Why is this bad?
    /// The evaluator cannot decrypt them and gasguard cannot review them.
    ///
    /// ## Example
    /// ```text
    /// zip -e model.zip model.py    # bad: prompts for a password
    /// zip model.zip model.py       # good
    /// ```
    ENCRYPTED_ENTRY = "A003", "encrypted-entry", Error, "A ZIP entry is encrypted";

    /// ## What it does
    /// Rejects ZIP entries compressed with anything other than *stored* (0)
    /// or *deflate* (8), and archive features gasguard does not read
    /// (multi-disk archives).
    ///
    /// ## Why is this bad?
    /// Other methods (bzip2, lzma, zstd...) depend on optional modules on the
    /// evaluator's side and cannot be reviewed here; refusing them keeps the
    /// gate and the evaluator seeing the same bytes.
    ///
    /// ## Example
    /// ```text
    /// zip -Z bzip2 model.zip ...   # bad
    /// zip -r model.zip .           # good: deflate
    /// ```
    UNSUPPORTED_COMPRESSION = "A004", "unsupported-compression", Error, "A ZIP entry uses an unsupported compression method or archive feature";

    /// ## What it does
    /// Rejects entry names that could escape the extraction folder or be read
    /// differently by different tools: `..` components, absolute paths,
    /// backslashes, drive letters, empty or `.` components, NUL and other
    /// control characters, names that are not valid text.
    ///
    /// ## Why is this bad?
    /// "Zip slip": an extractor that trusts `../../.bashrc` writes outside its
    /// folder. Backslashes and drive letters mean different paths on Windows
    /// and Linux, so a reviewer and the evaluator could see different files.
    ///
    /// ## Example
    /// ```text
    /// ../../home/user/.ssh/authorized_keys   # bad
    /// C:\model.py                            # bad
    /// model.py                               # good
    /// ```
    UNSAFE_ENTRY_NAME = "A005", "unsafe-entry-name", Error, "An entry name is a path traversal or otherwise unsafe";

    /// ## What it does
    /// Rejects symbolic links: ZIP entries whose Unix mode is a symlink, and
    /// symlinks anywhere in a submission directory.
    ///
    /// ## Why is this bad?
    /// A link named `model.safetensors` pointing at `/etc/shadow` or
    /// `~/.bittensor/wallets` makes the gate, the packer or the evaluator read
    /// (and upload) a file outside the submission.
    ///
    /// ## Example
    /// ```text
    /// ln -s ~/.bittensor/wallets/default/hotkeys/default model.safetensors  # bad
    /// cp trained.safetensors model.safetensors                              # good
    /// ```
    SYMLINK_ENTRY = "A006", "symlink-entry", Error, "The submission contains a symbolic link";

    /// ## What it does
    /// Rejects an archive that holds two entries with exactly the same name.
    ///
    /// ## Why is this bad?
    /// Readers disagree about which copy wins: Python's `zipfile` and the Rust
    /// `zip` crate keep the last, `unzip` asks, others keep the first. A
    /// reviewer could read a harmless `model.py` while the evaluator runs the
    /// other one.
    ///
    /// ## Example
    /// ```text
    /// zip model.zip model.py && zip -g model.zip other/model.py  # bad when stored under the same name
    /// ```
    DUPLICATE_ENTRY = "A007", "duplicate-entry", Error, "Two entries have the same name";

    /// ## What it does
    /// Rejects names that differ only by letter case or that become equal after
    /// Unicode NFC or NFKC normalisation (`model.py` and `MODEL.py`,
    /// `ﬁle.py` and `file.py`).
    ///
    /// ## Why is this bad?
    /// On a case-insensitive or normalising file system (macOS, Windows, some
    /// object stores) the two collapse into one file when extracted, and which
    /// one survives depends on order.
    ///
    /// ## Example
    /// ```text
    /// model.py + Model.py   # bad
    /// ```
    COLLIDING_NAMES = "A008", "colliding-names", Error, "Two entry names collide after case folding or Unicode normalisation";

    /// ## What it does
    /// Checks every entry's local file header against its central-directory
    /// record: same name, same compression method, same flags for encryption,
    /// same CRC and sizes (when no data descriptor is used), and a consistent
    /// Info-ZIP Unicode path field.
    ///
    /// ## Why is this bad?
    /// Tools that stream an archive read local headers; tools that seek read
    /// the central directory. When the two disagree, the file a reviewer sees is
    /// not the file that gets extracted.
    ///
    /// ## Example
    /// A central record naming `model.py` whose local header says `evil.py`.
    LOCAL_HEADER_MISMATCH = "A009", "local-header-mismatch", Error, "A local file header disagrees with the central directory";

    /// ## What it does
    /// Rejects bytes that belong to no entry: data before the first local
    /// header (self-extracting stubs, polyglot files), gaps between entries,
    /// or data after the end-of-central-directory record and its comment.
    ///
    /// ## Why is this bad?
    /// Hidden bytes are a classic way to smuggle a second archive or a script
    /// inside a file that looks like a ZIP to one tool and like something else
    /// to another.
    ///
    /// ## Example
    /// ```text
    /// cat stub.sh model.zip > sfx.zip   # bad: bytes before the first entry
    /// ```
    UNACCOUNTED_BYTES = "A010", "unaccounted-bytes", Error, "The archive holds bytes outside its entries";

    /// ## What it does
    /// Rejects archives whose entries share or overlap their compressed data.
    ///
    /// ## Why is this bad?
    /// This is the "overlapping files" zip bomb: many central records point at
    /// the same compressed kernel, so a few kilobytes expand to petabytes.
    ///
    /// ## Example
    /// Two central-directory records with the same local header offset.
    OVERLAPPING_ENTRIES = "A011", "overlapping-entries", Error, "Two entries overlap in the archive";

    /// ## What it does
    /// Rejects submissions whose total declared uncompressed size exceeds the
    /// policy limit (`limits.archive.max_total_bytes`, 20 GB by default).
    ///
    /// ## Why is this bad?
    /// A detector that needs more has no chance in the evaluator's time budget,
    /// and a huge declared size is how decompression bombs exhaust disks.
    ///
    /// ## Example
    /// An archive declaring a 100 GB `model.safetensors`.
    TOO_LARGE = "A012", "submission-too-large", Error, "The submission's total size is over the policy limit";

    /// ## What it does
    /// Rejects submissions with more entries than the policy allows
    /// (`limits.archive.max_entries`, 1000 by default).
    ///
    /// ## Why is this bad?
    /// A submission needs four files. Tens of thousands of entries only serve to
    /// slow down or exhaust the tools that read them.
    ///
    /// ## Example
    /// An archive with 100,000 empty files.
    TOO_MANY_ENTRIES = "A013", "too-many-entries", Error, "The submission has more entries than the policy allows";

    /// ## What it does
    /// Rejects non-weights entries whose uncompressed size is more than
    /// `limits.archive.max_ratio` (200 by default) times their compressed size.
    /// Weights are exempt: zero-initialised tensors compress legitimately well.
    ///
    /// ## Why is this bad?
    /// Real source and YAML compress 3-10x. A 1 KB entry that inflates to 1 GB
    /// is a decompression bomb aimed at whoever opens it.
    ///
    /// ## Example
    /// A `model.py` of 4 GB of spaces deflated to 4 MB.
    COMPRESSION_RATIO = "A014", "compression-ratio", Error, "An entry's compression ratio is over the policy limit";

    /// ## What it does
    /// Rejects archives inside the submission (`.zip`, `.tar`, `.gz`, `.7z`...),
    /// recognised by name or by content.
    ///
    /// ## Why is this bad?
    /// Nothing in the evaluator extracts them, so they can only be payload for
    /// code that unpacks them at run time, out of reach of any review.
    ///
    /// ## Example
    /// ```text
    /// model.zip containing backbone.tar.gz   # bad
    /// ```
    NESTED_ARCHIVE = "A015", "nested-archive", Error, "The submission contains another archive";

    /// ## What it does
    /// Rejects an entry whose data does not decompress, does not match its
    /// CRC-32, or decompresses to a size other than the one declared.
    ///
    /// ## Why is this bad?
    /// Corrupt data fails on the evaluator's side too, and a size that differs
    /// from the declared one defeats every limit computed from it.
    ///
    /// ## Example
    /// An archive with a flipped byte inside `model.py`'s compressed data.
    CORRUPT_ENTRY = "A016", "corrupt-entry", Error, "An entry's data is corrupt or not what its header declares";

    /// ## What it does
    /// Rejects entries that are neither regular files nor directories: FIFOs,
    /// sockets, device nodes (from Unix modes in a ZIP, or found in a
    /// directory).
    ///
    /// ## Why is this bad?
    /// Reading a FIFO or a device blocks or reads unbounded data; none belongs
    /// in a model submission.
    ///
    /// ## Example
    /// ```text
    /// mkfifo model.safetensors   # bad
    /// ```
    SPECIAL_FILE = "A017", "special-file", Error, "The submission contains a device, FIFO or socket";

    /// ## What it does
    /// Reports a file that could not be read from disk (permissions, I/O
    /// error) while checking a directory.
    ///
    /// ## Why is this bad?
    /// A file gasguard cannot read is a file it cannot vouch for.
    ///
    /// ## Example
    /// ```text
    /// chmod 000 model.py   # bad
    /// ```
    UNREADABLE_FILE = "A018", "unreadable-file", Error, "A file of the submission could not be read";
}

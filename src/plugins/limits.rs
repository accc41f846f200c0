//! The hard limits every plugin call runs under. A plugin that reaches one
//! is stopped and the command fails (exit 2) naming the plugin and the limit.

/// Largest plugin file read (a real policy plugin is kilobytes; a Python
/// or JavaScript one with its interpreter is tens of megabytes).
pub const MAX_PLUGIN_BYTES: u64 = 64 << 20;

/// Instructions (wasmtime fuel: about one per WebAssembly operator) per call.
/// A plugin walking the facts of a large submission uses well under 1 %;
/// an endless loop stops here within seconds.
pub const FUEL_PER_CALL: u64 = 2_000_000_000;

/// Linear memory of one instance, all memories together.
pub const MAX_MEMORY_BYTES: usize = 256 << 20;

/// Elements of all tables of one instance.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;

/// WebAssembly stack, so deep recursion traps instead of overflowing ours.
pub const MAX_WASM_STACK_BYTES: usize = 1 << 20;

/// Largest JSON document a plugin may return, from `describe` or `check`.
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;

/// Most rules a plugin may declare, and most findings one call may return.
pub const MAX_RULES: usize = 200;
pub const MAX_DIAGNOSTICS: usize = 1_000;

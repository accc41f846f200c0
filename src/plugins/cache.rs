//! Compiled plugins cached on disk: `<cache>/gasguard/plugins/<sha256 of
//! the plugin>-<engine hash>.cwasm`. The engine hash covers wasmtime's
//! version and every setting that changes compiled code, so an entry made
//! by another gasguard is a miss, never a wrong hit.
//!
//! Loading an entry maps native code into the process
//! (`Component::deserialize_file`, unsafe: the file must be one wasmtime
//! serialized). Sound here because gasguard only reads files it wrote
//! itself, in a directory it created for the current user alone: the
//! directory must be owned by the user and closed to group and others, or
//! the cache is not used. Whoever could still write there can already run
//! code as the user. wasmtime also checks the header, version and settings.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use wasmtime::Engine;
use wasmtime::component::Component;

/// `$GASGUARD_CACHE_DIR`, else `$XDG_CACHE_HOME/gasguard`, else
/// `~/.cache/gasguard`; plugins go in its `plugins/`.
fn cache_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = non_empty("GASGUARD_CACHE_DIR")
        .or_else(|| non_empty("XDG_CACHE_HOME").map(|d| d.join("gasguard")))
        .or_else(|| non_empty("HOME").map(|d| d.join(".cache").join("gasguard")))?;
    let dir = base.join("plugins");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .ok()?;
    // Only a directory that is ours alone (see the module's comment).
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    let uid = current_uid();
    (meta.is_dir() && meta.uid() == uid && meta.permissions().mode() & 0o077 == 0).then_some(dir)
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

fn engine_hash(engine: &Engine) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Where `sha256`'s compiled form lives, when there is a usable cache.
fn entry(engine: &Engine, sha256: &str) -> Option<PathBuf> {
    Some(cache_dir()?.join(format!("{sha256}-{}.cwasm", engine_hash(engine))))
}

/// Whether a load found the plugin compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Cache,
    Compiled,
}

/// The compiled component: from the cache when there, else compiled now
/// and stored (a failure to store only costs the next run a compile).
pub fn load(engine: &Engine, bytes: &[u8], sha256: &str) -> Result<(Component, Source), String> {
    let path = entry(engine, sha256);
    if let Some(path) = &path
        && path.is_file()
    {
        // SAFETY: see the module's comment: a file gasguard wrote, in a
        // directory only this user can write, named by the plugin's hash
        // and the engine's; wasmtime checks its header and settings too.
        match unsafe { Component::deserialize_file(engine, path) } {
            Ok(component) => return Ok((component, Source::Cache)),
            Err(_) => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    let component = Component::new(engine, bytes)
        .map_err(|e| format!("it is not a valid WebAssembly component: {e:?}"))?;
    if let (Some(path), Ok(serialized)) = (path, component.serialize()) {
        store(&path, &serialized);
    }
    Ok((component, Source::Compiled))
}

/// Writes through a temporary file and a rename, so a reader never sees a
/// partial entry.
fn store(path: &std::path::Path, bytes: &[u8]) {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes));
    if written.is_err() || std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

//! Running a plugin under wasmtime: one shared engine with fuel metering,
//! a fresh store and instance per call with a memory limit, and a linker
//! that offers nothing, so any import is refused before anything runs.

use std::sync::OnceLock;

use wasmtime::component::{Component, ComponentExportIndex, Linker};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};

use super::interface::{CHECK, DESCRIBE, EXPORT};
use super::limits::{
    FUEL_PER_CALL, MAX_MEMORY_BYTES, MAX_OUTPUT_BYTES, MAX_TABLE_ELEMENTS, MAX_WASM_STACK_BYTES,
};

/// The engine, built the first time a plugin is loaded: a check that
/// loads none never pays for it.
pub fn engine() -> Result<&'static Engine, String> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            config.consume_fuel(true);
            config.max_wasm_stack(MAX_WASM_STACK_BYTES);
            Engine::new(&config).map_err(|e| format!("cannot start the WebAssembly engine: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A compiled plugin with its two functions found.
pub struct Runner {
    component: Component,
    describe: ComponentExportIndex,
    check: ComponentExportIndex,
}

impl Runner {
    /// Checks the component's shape: it imports nothing, and exports the
    /// interface. Types are checked at the first call.
    pub fn new(component: Component) -> Result<Runner, String> {
        let engine = engine()?;
        let ty = component.component_type();
        let imports: Vec<String> = ty
            .imports(engine)
            .map(|(name, _)| name.to_string())
            .collect();
        if !imports.is_empty() {
            return Err(format!(
                "it imports {}, which gasguard does not offer: a plugin gets no capabilities (files, network, clocks, environment, randomness) and must import nothing",
                imports
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let missing = || {
            let exports: Vec<String> = ty
                .exports(engine)
                .map(|(name, _)| format!("`{name}`"))
                .collect();
            format!(
                "it does not export `{EXPORT}` with `{DESCRIBE}` and `{CHECK}` (it exports {}); build it against wit/gasguard-plugin.wit",
                if exports.is_empty() {
                    "nothing".to_string()
                } else {
                    exports.join(", ")
                }
            )
        };
        let interface = component
            .get_export_index(None, EXPORT)
            .ok_or_else(missing)?;
        let describe = component
            .get_export_index(Some(&interface), DESCRIBE)
            .ok_or_else(missing)?;
        let check = component
            .get_export_index(Some(&interface), CHECK)
            .ok_or_else(missing)?;
        Ok(Runner {
            component,
            describe,
            check,
        })
    }

    pub fn describe(&self) -> Result<String, String> {
        self.call(&self.describe, DESCRIBE, None)
    }

    pub fn check(&self, facts: &str) -> Result<String, String> {
        self.call(&self.check, CHECK, Some(facts))
    }

    /// One call in a fresh instance: no state survives from one submission
    /// to the next, and every call gets the whole fuel and memory budget.
    fn call(
        &self,
        index: &ComponentExportIndex,
        name: &str,
        input: Option<&str>,
    ) -> Result<String, String> {
        let engine = engine()?;
        let mut store = Store::new(engine, Limits::default());
        store.limiter(|limits| limits);
        store
            .set_fuel(FUEL_PER_CALL)
            .map_err(|e| format!("cannot set the fuel: {e}"))?;
        let linker = Linker::<Limits>::new(engine);
        let instance = linker
            .instantiate(&mut store, &self.component)
            .map_err(|e| explain(&e, &store, "instantiating it"))?;
        let wrong_type = |e: wasmtime::Error| {
            format!("`{name}` does not have the type wit/gasguard-plugin.wit declares: {e}")
        };
        let output = match input {
            None => {
                let f = instance
                    .get_typed_func::<(), (String,)>(&mut store, index)
                    .map_err(wrong_type)?;
                f.call(&mut store, ())
            }
            Some(facts) => {
                let f = instance
                    .get_typed_func::<(&str,), (String,)>(&mut store, index)
                    .map_err(wrong_type)?;
                f.call(&mut store, (facts,))
            }
        };
        let (text,) = output.map_err(|e| explain(&e, &store, &format!("`{name}`")))?;
        if text.len() > MAX_OUTPUT_BYTES {
            return Err(format!(
                "`{name}` returned {} bytes; the limit is {MAX_OUTPUT_BYTES}",
                text.len()
            ));
        }
        Ok(text)
    }
}

/// A failed instantiation or call, said in terms of the limits.
fn explain(e: &wasmtime::Error, store: &Store<Limits>, during: &str) -> String {
    if let Some(limit) = &store.data().refused {
        return format!("{during} went over the memory limit: it asked for {limit}");
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => format!(
            "{during} used up its fuel ({FUEL_PER_CALL} instructions): an endless loop, or far more work than a policy check needs"
        ),
        Some(Trap::StackOverflow) => format!(
            "{during} overflowed its stack ({MAX_WASM_STACK_BYTES} bytes): runaway recursion"
        ),
        Some(trap) => format!("{during} trapped: {trap}"),
        None => format!("{during} failed: {e}"),
    }
}

/// Memory and table limits of one store; remembers what it refused, so the
/// error can say so whatever the plugin's language makes of the failure.
#[derive(Default)]
struct Limits {
    refused: Option<String>,
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_MEMORY_BYTES {
            self.refused = Some(format!(
                "{desired} bytes of memory, over {MAX_MEMORY_BYTES}"
            ));
            wasmtime::bail!("memory limit of {MAX_MEMORY_BYTES} bytes reached");
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.refused = Some(format!(
                "{desired} table elements, over {MAX_TABLE_ELEMENTS}"
            ));
            wasmtime::bail!("table limit of {MAX_TABLE_ELEMENTS} elements reached");
        }
        Ok(true)
    }
}

//! The Rhai sandbox that rule scripts and configuration-check scripts run in: no module
//! resolver, no `eval`, `import` or `export`, print and debug silenced, limits on
//! operations, call depth, expression depth and string, array and map sizes; and the
//! compilation of a script's `const META = #{ … }` declaration with positioned errors.
//! Rules add their state API ([`crate::engine::script`]); checks add their read-only host
//! API ([`crate::checks::rhai_check`]).

use std::path::Path;

use rhai::{EvalAltResult, Map};

use super::diag::CompileError;

/// Operations one `on_event` call may use.
pub const MAX_OPERATIONS: u64 = 100_000;
/// Function call nesting.
pub const MAX_CALL_LEVELS: usize = 32;
/// Longest string, in bytes.
pub const MAX_STRING_SIZE: usize = 64 * 1024;
/// Most elements of one array or one map.
pub const MAX_ARRAY_SIZE: usize = 10_000;
pub const MAX_MAP_SIZE: usize = 10_000;
/// The sandbox without any host functions: no module resolver, no `eval`, `import` or
/// `export`, print and debug silenced, and the operation, depth and size limits above.
pub fn limited_engine() -> rhai::Engine {
    let mut e = rhai::Engine::new();
    e.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    e.disable_symbol("eval");
    e.disable_symbol("import");
    e.disable_symbol("export");
    e.set_max_operations(MAX_OPERATIONS);
    e.set_max_call_levels(MAX_CALL_LEVELS);
    e.set_max_expr_depths(64, 32);
    e.set_max_string_size(MAX_STRING_SIZE);
    e.set_max_array_size(MAX_ARRAY_SIZE);
    e.set_max_map_size(MAX_MAP_SIZE);
    e.set_max_modules(0);
    e.on_print(|_| {});
    e.on_debug(|_, _, _| {});
    e
}

/// `file:line:col: message` for the innermost error.
pub fn describe_error(file: &Path, err: &EvalAltResult, fallback_line: usize) -> String {
    let mut inner = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, e, _) = inner {
        inner = e;
    }
    let pos = inner.position();
    let pos = if pos.is_none() { err.position() } else { pos };
    let mut msg = inner.to_string();
    // Rhai appends the position itself: keep one, in front.
    if let Some(i) = msg.rfind(" (line ") {
        msg.truncate(i);
    }
    format!(
        "{}:{}:{}: {msg}",
        file.display(),
        pos.line().unwrap_or(fallback_line),
        pos.position().unwrap_or(1)
    )
}

pub fn meta_error(file: &Path, line: u32, message: impl Into<String>) -> CompileError {
    CompileError {
        file: file.to_path_buf(),
        line,
        column: 1,
        message: message.into(),
    }
}

/// Compiles a script and runs its top level for `const META = #{ … }` (rules and checks
/// both declare themselves so); every error carries its position. Also gives META's line.
pub fn compile_meta(
    engine: &rhai::Engine,
    source: &str,
    file: &Path,
) -> Result<(rhai::AST, Map, u32), Vec<CompileError>> {
    let ast = engine.compile(source).map_err(|e| {
        let pos = e.position();
        vec![CompileError {
            file: file.to_path_buf(),
            line: pos.line().unwrap_or(0) as u32,
            column: pos.position().unwrap_or(0) as u32,
            message: e.err_type().to_string(),
        }]
    })?;
    let meta_line = source
        .lines()
        .position(|l| l.contains("META"))
        .map_or(1, |i| i as u32 + 1);
    let mut scope = rhai::Scope::new();
    engine.run_ast_with_scope(&mut scope, &ast).map_err(|e| {
        vec![meta_error(
            file,
            meta_line,
            describe_error(file, &e, meta_line as usize),
        )]
    })?;
    let meta: Map = scope
        .get_value::<Map>("META")
        .ok_or_else(|| vec![meta_error(file, 1, "no `const META = #{ … }` map")])?;
    Ok((ast, meta, meta_line))
}

//! What the CLI and HTTP test binaries share: running the real binary and reading fit reports.
//! Each test binary uses part of it.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The `market-svc` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_market-svc"))
}

/// Runs `cmd`, which must exit 0 (else the test fails with its stderr): its output.
pub fn succeeded(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The parameter names of a fit report (or anything with its `params` list).
pub fn param_names(report: &serde_json::Value) -> Vec<&str> {
    report["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

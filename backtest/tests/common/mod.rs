//! The reference fixture (`scripts/fixtures/gen_backtest_fixtures.py`) and small helpers.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

pub fn fixture() -> &'static Value {
    static F: OnceLock<Value> = OnceLock::new();
    F.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/backtest_reference.json");
        let text = std::fs::read_to_string(&path).expect("fixture");
        let v: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["versions"]["arch"], "8.0.0", "fixture from another arch");
        v
    })
}

pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

pub fn nasdaq() -> Vec<f64> {
    floats(&fixture()["series"]["returns"])
}

pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

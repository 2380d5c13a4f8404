//! What the arch-agreement tests share: a fixture case (a series, a model, arch's numbers) and
//! the loader of a folder of fixture files written by the scripts in `scripts/fixtures/`.

#![allow(dead_code)]

use std::path::PathBuf;

use garch_core::{FittedModel, ModelSpec, Returns, fix};
use serde_json::Value;

/// One fixture case.
pub struct Case {
    pub label: String,
    pub returns: Returns,
    pub spec: ModelSpec,
    pub json: Value,
}

impl Case {
    pub fn floats(&self, path: &[&str]) -> Vec<f64> {
        let v = path.iter().fold(&self.json, |v, p| &v[*p]);
        v.as_array()
            .unwrap_or_else(|| panic!("{}: missing {path:?}", self.label))
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect()
    }

    pub fn float(&self, path: &[&str]) -> f64 {
        let v = path.iter().fold(&self.json, |v, p| &v[*p]);
        v.as_f64()
            .unwrap_or_else(|| panic!("{}: missing {path:?}", self.label))
    }
}

/// The cases of `tests/fixtures/<folder>/<series>.json` (made by arch 8.0.0), the model of
/// each read by `spec_of` from its JSON.
pub fn load_cases(
    folder: &str,
    series: &[&str],
    spec_of: impl Fn(&Value) -> ModelSpec,
) -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder);
    let mut out = Vec::new();
    for name in series {
        let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("fixture");
        let doc: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(doc["arch_version"], "8.0.0");
        let returns: Vec<f64> = doc["returns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let returns = Returns::new(returns).expect("valid returns");
        for c in doc["cases"].as_array().unwrap() {
            let spec = spec_of(c);
            out.push(Case {
                label: format!("{name} {spec}"),
                returns: returns.clone(),
                spec,
                json: c.clone(),
            });
        }
    }
    out
}

/// Relative difference from `b`.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}

/// `fix` at arch's fixed parameters of `case`: the log-likelihood and the conditional variances
/// (the first ones and the last) within 1e-10 relative of arch's. Returns the model and the
/// log-likelihood's relative difference.
pub fn assert_fixed_matches_arch(case: &Case) -> (FittedModel, f64) {
    let params = case.floats(&["fixed", "params"]);
    let model = fix(&case.returns, case.spec, &params).expect("feasible fixed params");
    let ll = model.report().log_likelihood;
    let expected = case.float(&["fixed", "loglik"]);
    assert!(
        rel(ll, expected) <= 1e-10,
        "{}: loglik {ll} vs arch {expected}",
        case.label
    );
    let s2 = model.conditional_variance();
    let head = case.floats(&["fixed", "conditional_variance_head"]);
    for (i, (a, b)) in s2.iter().zip(&head).enumerate() {
        assert!(rel(*a, *b) <= 1e-10, "{} σ²[{i}] {a} vs {b}", case.label);
    }
    let last = case.float(&["fixed", "conditional_variance_last"]);
    assert!(
        rel(*s2.last().unwrap(), last) <= 1e-10,
        "{} σ²_T",
        case.label
    );
    (model, rel(ll, expected))
}

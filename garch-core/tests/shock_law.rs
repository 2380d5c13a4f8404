//! [`ShockLaw`] against scipy (and arch, for the laws only arch defines): densities, CDFs,
//! quantiles and expected shortfalls of the unit-variance shock laws to 1e-12 relative, on the
//! fixture `tests/fixtures/laws/shock_laws.json` made by
//! `scripts/fixtures/gen_shock_law_fixtures.py` (its expected shortfalls are closed forms
//! checked there against numerical integration).

use std::path::PathBuf;

use garch_core::{Distribution, FitOptions, ModelSpec, Returns, ShockLaw, SpecError, fit};
use serde_json::Value;

const TOL: f64 = 1e-12;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Relative error, absolute where the reference is exactly zero.
fn error(got: f64, expected: f64) -> f64 {
    if expected == 0.0 {
        got.abs()
    } else {
        ((got - expected) / expected).abs()
    }
}

#[test]
fn laws_agree_with_scipy() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/laws/shock_laws.json");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    assert!(doc["scipy_version"].is_string());
    let mut checked = 0;
    let mut worst = 0.0f64;
    for law in doc["laws"].as_array().expect("laws") {
        let dist: Distribution = law["dist"].as_str().unwrap().parse().unwrap();
        let shape = floats(&law["shape"]);
        let sl = ShockLaw::new(dist, &shape).expect("valid shape");
        let label = format!("{dist} {shape:?}");
        let z = floats(&law["z"]);
        for (what, f, expected) in [
            (
                "pdf",
                &(|x| sl.pdf(x)) as &dyn Fn(f64) -> f64,
                floats(&law["pdf"]),
            ),
            ("cdf", &|x| sl.cdf(x), floats(&law["cdf"])),
        ] {
            for (&x, &e) in z.iter().zip(&expected) {
                let got = f(x);
                let err = error(got, e);
                assert!(err < TOL, "{label}: {what}({x}) = {got:e}, scipy {e:e}");
                worst = worst.max(err);
                checked += 1;
            }
        }
        let p = floats(&law["p"]);
        for (what, f, expected) in [
            (
                "quantile",
                &(|x| sl.quantile(x)) as &dyn Fn(f64) -> f64,
                floats(&law["quantile"]),
            ),
            (
                "expected_shortfall",
                &|x| sl.expected_shortfall(x),
                floats(&law["expected_shortfall"]),
            ),
        ] {
            for (&x, &e) in p.iter().zip(&expected) {
                let got = f(x);
                let err = error(got, e);
                assert!(err < TOL, "{label}: {what}({x}) = {got:e}, scipy {e:e}");
                worst = worst.max(err);
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "only {checked} values checked");
    eprintln!("{checked} values, largest relative error {worst:e}");
}

#[test]
fn invalid_shapes_are_errors() {
    for (dist, shape) in [
        (Distribution::Normal, vec![5.0]),
        (Distribution::StudentT, vec![]),
        (Distribution::StudentT, vec![2.0]),
        (Distribution::StudentT, vec![f64::NAN]),
        (Distribution::StudentT, vec![f64::INFINITY]),
        (Distribution::StudentT, vec![5.0, 0.1]),
    ] {
        let err = ShockLaw::new(dist, &shape).expect_err("must reject");
        assert!(matches!(err, SpecError::InvalidShape { .. }), "{err}");
    }
    let n = ShockLaw::new(Distribution::Normal, &[]).unwrap();
    assert_eq!(n.quantile(0.0), f64::NEG_INFINITY);
    assert_eq!(n.quantile(1.0), f64::INFINITY);
    assert!(n.quantile(1.5).is_nan() && n.quantile(f64::NAN).is_nan());
    assert_eq!(n.expected_shortfall(1.0), 0.0);
}

#[test]
fn fitted_model_exposes_its_law() {
    let spec = ModelSpec::new(
        garch_core::MeanModel::Constant,
        garch_core::VolatilityModel::garch(),
        Distribution::StudentT,
    );
    let sim = garch_core::simulate(spec, &[0.03, 0.05, 0.08, 0.9, 6.0], 800, 11).unwrap();
    let model = fit(
        &Returns::new(sim.returns).unwrap(),
        spec,
        &FitOptions::default(),
    )
    .unwrap();
    let nu = *model.params().last().unwrap();
    let law = model.shock_law().unwrap();
    assert_eq!(law, ShockLaw::new(Distribution::StudentT, &[nu]).unwrap());
    assert!(
        law.quantile(0.01)
            < ShockLaw::new(Distribution::Normal, &[])
                .unwrap()
                .quantile(0.01)
    );
}

/// The simulator's shocks follow the law: with ω = 1 and no ARCH terms the simulated returns are
/// the shocks themselves; their empirical CDF at a few quantiles is within four binomial
/// standard errors of `p` (seeded, so deterministic).
#[test]
fn simulated_shocks_follow_the_law() {
    let n = 100_000;
    for (dist, shape) in [
        (Distribution::Normal, vec![]),
        (Distribution::StudentT, vec![5.0]),
        (Distribution::SkewT, vec![5.0, -0.4]),
        (Distribution::SkewT, vec![12.0, 0.6]),
        (Distribution::Ged, vec![1.2]),
        (Distribution::Ged, vec![3.0]),
    ] {
        let spec = ModelSpec::new(
            garch_core::MeanModel::Zero,
            garch_core::VolatilityModel::garch(),
            dist,
        );
        let mut params = vec![1.0, 0.0, 0.0];
        params.extend(&shape);
        let sim = garch_core::simulate(spec, &params, n, 5).unwrap();
        let law = ShockLaw::new(dist, &shape).unwrap();
        for p in [0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99] {
            let q = law.quantile(p);
            let share = sim.returns.iter().filter(|&&z| z <= q).count() as f64 / n as f64;
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (share - p).abs() < 4.0 * se,
                "{dist} {shape:?}: P(z ≤ q({p})) = {share}"
            );
        }
        let mean = sim.returns.iter().sum::<f64>() / n as f64;
        let var = sim.returns.iter().map(|z| z * z).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.05,
            "{dist}: {mean} {var}"
        );
    }
}

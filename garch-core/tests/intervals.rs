//! Forecast intervals: exact one-step quantiles from the fitted law, seeded simulated ones
//! beyond that agree with the analytic variance forecast, and typed errors for bad requests.

use garch_core::{
    Distribution, FitOptions, ForecastError, ForecastMethod, ForecastOptions, MeanModel, ModelSpec,
    Returns, VolatilityModel, fit, simulate,
};

fn model(vol: VolatilityModel, dist: Distribution, truth: &[f64]) -> garch_core::FittedModel {
    let spec = ModelSpec::new(MeanModel::Constant, vol, dist);
    let sim = simulate(spec, truth, 1500, 21).unwrap();
    fit(
        &Returns::new(sim.returns).unwrap(),
        spec,
        &FitOptions::default(),
    )
    .unwrap()
}

#[test]
fn one_step_quantiles_are_the_laws() {
    for (vol, dist, truth) in [
        (
            VolatilityModel::garch(),
            Distribution::Normal,
            vec![0.05, 0.02, 0.08, 0.9],
        ),
        (
            VolatilityModel::gjr(),
            Distribution::SkewT,
            vec![0.03, 0.03, 0.03, 0.1, 0.85, 6.0, -0.3],
        ),
        (
            VolatilityModel::egarch(),
            Distribution::Ged,
            vec![0.02, 0.01, 0.12, -0.08, 0.95, 1.4],
        ),
    ] {
        let m = model(vol, dist, &truth);
        let levels = [0.01, 0.05, 0.5, 0.95, 0.99];
        let iv = m
            .forecast_intervals(1, &levels, &ForecastOptions::default())
            .unwrap();
        assert_eq!(iv.method, ForecastMethod::Analytic);
        let f1 = m.forecast(1, &ForecastOptions::default()).unwrap().steps[0].variance;
        let law = m.shock_law().unwrap();
        let mu = m.params()[0];
        for (q, &level) in iv.steps[0].quantiles.iter().zip(&levels) {
            assert_eq!(q.level, level);
            let expected = mu + f1.sqrt() * law.quantile(level);
            assert!((q.value - expected).abs() <= 1e-12 * expected.abs().max(1.0));
        }
    }
}

#[test]
fn simulated_quantiles_match_the_variance_forecast() {
    // GARCH-normal: r_{T+h} − μ has mean 0 and variance E_T[σ²_{T+h}] (the analytic forecast);
    // with 20,000 paths the simulated 16th-84th percentile half-width is within a few percent
    // of the standard deviation a normal law would give (the mixture's is slightly narrower).
    let m = model(
        VolatilityModel::garch(),
        Distribution::Normal,
        &[0.05, 0.02, 0.08, 0.9],
    );
    let options = ForecastOptions {
        simulations: 20_000,
        seed: 3,
    };
    let h = 10;
    let iv = m
        .forecast_intervals(h, &[0.1587, 0.5, 0.8413], &options)
        .unwrap();
    assert_eq!(
        (iv.method, iv.simulations, iv.steps.len()),
        (ForecastMethod::Simulation, 20_000, h)
    );
    let f = m.forecast(h, &ForecastOptions::default()).unwrap();
    let mu = m.params()[0];
    for (step, fs) in iv.steps.iter().zip(&f.steps) {
        let [lo, mid, hi] = [0, 1, 2].map(|i| step.quantiles[i].value);
        assert!(lo < mid && mid < hi);
        let sd = fs.variance.sqrt();
        assert!(
            (mid - mu).abs() < 0.05 * sd,
            "h={}: median {mid} vs μ {mu}",
            step.horizon
        );
        let half = 0.5 * (hi - lo);
        assert!(
            (half / sd - 1.0).abs() < 0.06,
            "h={}: {half} vs {sd}",
            step.horizon
        );
    }
    // Seeded: the same seed gives the same numbers, another seed different ones.
    let again = m
        .forecast_intervals(h, &[0.1587, 0.5, 0.8413], &options)
        .unwrap();
    assert_eq!(again, iv);
    let other = m
        .forecast_intervals(
            h,
            &[0.1587, 0.5, 0.8413],
            &ForecastOptions { seed: 4, ..options },
        )
        .unwrap();
    assert_ne!(other.steps[1], iv.steps[1]);
    assert_eq!(other.steps[0], iv.steps[0], "the first step is exact");
}

#[test]
fn bad_requests_are_errors() {
    let m = model(
        VolatilityModel::garch(),
        Distribution::StudentT,
        &[0.05, 0.02, 0.08, 0.9, 6.0],
    );
    let o = ForecastOptions::default();
    assert!(matches!(
        m.forecast_intervals(0, &[0.5], &o),
        Err(ForecastError::Horizon { .. })
    ));
    for bad in [0.0, 1.0, -0.1, f64::NAN] {
        assert!(matches!(
            m.forecast_intervals(5, &[0.5, bad], &o),
            Err(ForecastError::Level(_))
        ));
    }
    let many = vec![0.5; 17];
    assert!(matches!(
        m.forecast_intervals(5, &many, &o),
        Err(ForecastError::TooManyLevels { .. })
    ));
    let none = ForecastOptions {
        simulations: 0,
        ..o
    };
    assert!(matches!(
        m.forecast_intervals(2, &[0.5], &none),
        Err(ForecastError::NoSimulations)
    ));
}

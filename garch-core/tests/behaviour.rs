//! End-to-end behaviour of the public API: degenerate inputs, parameter recovery, forecasts,
//! filtering and batches.

use garch_core::{
    Distribution, Execution, FitError, FitOptions, ForecastError, ForecastMethod, ForecastOptions,
    MeanModel, ModelSpec, Returns, SeriesError, VolatilityModel, fit, fit_batch, fix, simulate,
};

fn spec(vol: VolatilityModel, dist: Distribution) -> ModelSpec {
    ModelSpec::new(MeanModel::Constant, vol, dist)
}

#[test]
fn degenerate_inputs_are_typed_errors() {
    assert!(matches!(
        Returns::new(vec![0.1, -0.2, 0.3]),
        Err(SeriesError::TooShort {
            got: 3,
            needed: 100
        })
    ));
    let mut v: Vec<f64> = (0..500).map(|i| (i as f64).sin()).collect();
    v[321] = f64::NAN;
    assert!(matches!(
        Returns::new(v),
        Err(SeriesError::NonFinite { index: 321, .. })
    ));
    assert!(matches!(
        Returns::new(vec![0.0; 500]),
        Err(SeriesError::ZeroVariance { .. })
    ));
    let mut prices: Vec<f64> = (0..500).map(|i| 100.0 + (i as f64).sin()).collect();
    prices[17] = -1.0;
    assert!(matches!(
        Returns::from_prices(prices),
        Err(SeriesError::NonPositivePrice { index: 17, .. })
    ));
    // Constant prices: zero returns, nothing to model.
    assert!(matches!(
        Returns::from_prices(vec![50.0; 300]),
        Err(SeriesError::ZeroVariance { .. })
    ));
}

/// A series whose squares overflow f64 (values near 1e200, as a fuzzer posts them) is an error
/// under every mean, at once. With an AR mean it used to hang: the least-squares start ran
/// nalgebra's SVD on infinite normal equations, which never returns. Run on a thread so a
/// regression fails the test instead of hanging the suite.
#[test]
fn an_overflowing_series_is_an_error_under_every_mean_not_a_hang() {
    let y: Vec<f64> = (0..120)
        .map(|i| {
            if i % 3 == 0 {
                1e200
            } else {
                -(i as f64) * 1e199
            }
        })
        .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let returns = Returns::new(y).unwrap();
        let outcomes: Vec<bool> = [
            MeanModel::Constant,
            MeanModel::from_name_and_lags("ar", Some(2)).unwrap(),
        ]
        .into_iter()
        .map(|mean| {
            let spec = ModelSpec::new(mean, VolatilityModel::garch(), Distribution::Ged);
            fit(&returns, spec, &FitOptions::default()).is_err()
        })
        .collect();
        let _ = tx.send(outcomes);
    });
    let outcomes = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the fits return");
    assert_eq!(outcomes, [true, true]);
}

#[test]
fn wrong_or_infeasible_parameters_are_rejected() {
    let r = Returns::new((0..300).map(|i| (i as f64 * 0.7).sin()).collect()).unwrap();
    let s = ModelSpec::default();
    assert!(matches!(
        fix(&r, s, &[0.0, 0.1, 0.1]),
        Err(FitError::WrongParameterCount {
            expected: 4,
            got: 3,
            ..
        })
    ));
    // α + β > 1: outside arch's constraints.
    assert!(matches!(
        fix(&r, s, &[0.0, 0.1, 0.2, 0.85]),
        Err(FitError::InfeasibleParameters(_))
    ));
    // α + β = 1 exactly is on the closed constraint set, where the active-set refinement can end
    // a fit: fix (and so filtering after an append) must take it.
    assert!(fix(&r, s, &[0.0, 0.1, 0.25, 0.75]).is_ok());
    assert!(matches!(
        simulate(s, &[0.0, -0.1, 0.1, 0.8], 100, 1),
        Err(FitError::InfeasibleParameters(_))
    ));
}

/// Every model recovers its true parameters from a long simulated series: each estimate within
/// 3.5 standard errors (a 1-in-2000 miss per parameter under correct standard errors).
#[test]
fn parameter_recovery() {
    let cases = [
        (
            spec(VolatilityModel::garch(), Distribution::Normal),
            vec![0.05, 0.02, 0.08, 0.9],
        ),
        (
            spec(VolatilityModel::garch(), Distribution::StudentT),
            vec![0.05, 0.02, 0.08, 0.9, 6.0],
        ),
        (
            spec(VolatilityModel::gjr(), Distribution::Normal),
            vec![0.03, 0.03, 0.03, 0.1, 0.88],
        ),
        (
            spec(VolatilityModel::gjr(), Distribution::StudentT),
            vec![0.03, 0.03, 0.03, 0.1, 0.88, 7.0],
        ),
        (
            spec(VolatilityModel::egarch(), Distribution::Normal),
            vec![0.02, 0.01, 0.12, -0.08, 0.97],
        ),
        (
            spec(VolatilityModel::egarch(), Distribution::StudentT),
            vec![0.02, 0.01, 0.12, -0.08, 0.97, 8.0],
        ),
    ];
    for (i, (s, truth)) in cases.iter().enumerate() {
        let sim = simulate(*s, truth, 8000, 1000 + i as u64).unwrap();
        let model = fit(
            &Returns::new(sim.returns).unwrap(),
            *s,
            &FitOptions::default(),
        )
        .unwrap();
        let r = model.report();
        assert!(r.converged, "{s}: {}", r.status);
        for (p, t) in r.params.iter().zip(truth) {
            let se = p.std_err.expect("standard error");
            assert!(
                (p.value - t).abs() <= 3.5 * se,
                "{s} {}: estimate {} ± {se}, truth {t}",
                p.name,
                p.value
            );
        }
    }
}

#[test]
fn report_is_internally_consistent() {
    let s = spec(VolatilityModel::gjr(), Distribution::StudentT);
    let sim = simulate(s, &[0.03, 0.03, 0.03, 0.1, 0.88, 7.0], 3000, 5).unwrap();
    let model = fit(
        &Returns::new(sim.returns).unwrap(),
        s,
        &FitOptions::default(),
    )
    .unwrap();
    let r = model.report();
    let k = r.params.len() as f64;
    assert!((r.aic - (2.0 * k - 2.0 * r.log_likelihood)).abs() < 1e-9);
    assert!((r.bic - (k * 3000f64.ln() - 2.0 * r.log_likelihood)).abs() < 1e-9);
    let v = r.values();
    assert!((r.persistence - (v[2] + v[3] / 2.0 + v[4])).abs() < 1e-12);
    let uv = r.unconditional_variance.unwrap();
    assert!((uv - v[1] / (1.0 - r.persistence)).abs() < 1e-12);
    assert!((r.annualized_volatility.unwrap() - (252.0 * uv).sqrt()).abs() < 1e-12);
    assert!((r.half_life_days.unwrap() - 0.5f64.ln() / r.persistence.ln()).abs() < 1e-9);
    for p in &r.params {
        let t = p.t_stat.unwrap();
        assert!((t - p.value / p.std_err.unwrap()).abs() < 1e-12);
        assert!((0.0..=1.0).contains(&p.p_value.unwrap()));
    }
    assert_eq!(model.conditional_variance().len(), 3000);
    assert_eq!(r.nobs, 3000);
}

#[test]
fn garch_forecasts_revert_to_the_unconditional_variance() {
    let s = ModelSpec::default();
    let params = [0.05, 0.02, 0.08, 0.9];
    let r = Returns::new(simulate(s, &params, 2000, 3).unwrap().returns).unwrap();
    let model = fix(&r, s, &params).unwrap();
    let f = model.forecast(1000, &ForecastOptions::default()).unwrap();
    assert_eq!(f.method, ForecastMethod::Analytic);
    assert_eq!(f.steps.len(), 1000);
    let long_run = 0.02 / (1.0 - 0.98);
    assert!((f.steps[999].variance - long_run).abs() < 1e-6);
    // Each step closes the gap by the persistence.
    let gap = |h: usize| f.steps[h].variance - long_run;
    assert!((gap(5) - 0.98 * gap(4)).abs() < 1e-12);
    let st = f.steps[0];
    assert!((st.volatility - st.variance.sqrt()).abs() < 1e-15);
    assert!((st.annualized_volatility - (252.0 * st.variance).sqrt()).abs() < 1e-12);
    assert_eq!(
        model.forecast(0, &ForecastOptions::default()),
        Err(ForecastError::Horizon { got: 0, max: 1000 })
    );
    assert!(model.forecast(1001, &ForecastOptions::default()).is_err());
}

#[test]
fn egarch_forecasts_are_simulated_seeded_and_consistent() {
    let s = spec(VolatilityModel::egarch(), Distribution::StudentT);
    let params = [0.02, 0.01, 0.12, -0.08, 0.97, 8.0];
    let r = Returns::new(simulate(s, &params, 2000, 9).unwrap().returns).unwrap();
    let model = fix(&r, s, &params).unwrap();
    let opts = ForecastOptions {
        simulations: 4000,
        seed: 1,
    };
    let a = model.forecast(20, &opts).unwrap();
    let b = model.forecast(20, &opts).unwrap();
    assert_eq!(a, b, "same seed, same forecast");
    assert_eq!(a.method, ForecastMethod::Simulation);
    let one = model.forecast(1, &opts).unwrap();
    assert_eq!(one.method, ForecastMethod::Analytic);
    assert_eq!(one.steps[0], a.steps[0], "h = 1 is analytic either way");
    // Two independent seeds agree to Monte-Carlo accuracy.
    let c = model
        .forecast(
            20,
            &ForecastOptions {
                simulations: 4000,
                seed: 2,
            },
        )
        .unwrap();
    for (x, y) in a.steps.iter().zip(&c.steps) {
        assert!((x.variance - y.variance).abs() / x.variance < 0.05);
    }
    assert!(
        model
            .forecast(
                5,
                &ForecastOptions {
                    simulations: 0,
                    seed: 1
                }
            )
            .is_err()
    );
}

#[test]
fn filter_extends_without_refitting() {
    let s = spec(VolatilityModel::gjr(), Distribution::Normal);
    let truth = [0.03, 0.03, 0.03, 0.1, 0.88];
    let all = simulate(s, &truth, 1500, 21).unwrap().returns;
    let head = Returns::new(all[..1400].to_vec()).unwrap();
    let model = fit(&head, s, &FitOptions::default()).unwrap();
    let extended = model.filter(&Returns::new(all.clone()).unwrap()).unwrap();
    assert_eq!(extended.params(), model.params());
    assert_eq!(extended.conditional_variance().len(), 1500);
    // The paths agree over the shared sample once the backcast has decayed.
    let a = &model.conditional_variance()[200..1400];
    let b = &extended.conditional_variance()[200..1400];
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() / x < 1e-6);
    }
    // The forecast starts from the new end.
    let f_old = model
        .forecast(1, &ForecastOptions::default())
        .unwrap()
        .steps[0]
        .variance;
    let f_new = extended
        .forecast(1, &ForecastOptions::default())
        .unwrap()
        .steps[0]
        .variance;
    assert_ne!(f_old, f_new);
}

#[test]
fn parallel_batch_is_bit_identical_and_isolates_failures() {
    let s = ModelSpec::default();
    let mut series: Vec<Returns> = (0..12)
        .map(|i| {
            Returns::new(
                simulate(s, &[0.05, 0.02, 0.08, 0.9], 1200, i)
                    .unwrap()
                    .returns,
            )
            .unwrap()
        })
        .collect();
    // Absurdly scaled data: squared residuals overflow, so this one asset cannot be fitted.
    series.insert(
        5,
        Returns::new((0..300).map(|i| 1e200 * (i as f64).sin()).collect()).unwrap(),
    );
    let opts = FitOptions::default();
    let seq = fit_batch(&series, s, &opts, Execution::Sequential).unwrap();
    let par = fit_batch(&series, s, &opts, Execution::ParallelWith { threads: 2 }).unwrap();
    assert_eq!(seq.len(), 13);
    assert!(seq[5].is_err() && par[5].is_err());
    for (a, b) in seq.iter().zip(&par) {
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.report(), b.report());
                let bits = |m: &garch_core::FittedModel| -> Vec<u64> {
                    m.params().iter().map(|x| x.to_bits()).collect()
                };
                assert_eq!(bits(a), bits(b));
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!("sequential and parallel disagree on success"),
        }
    }
    assert_eq!(seq.iter().filter(|r| r.is_ok()).count(), 12);
}

#[test]
fn warm_start_and_continued_variance() {
    for s in [
        spec(VolatilityModel::gjr(), Distribution::StudentT),
        spec(VolatilityModel::egarch(), Distribution::Normal),
    ] {
        let sim = simulate(s, &s_params(s), 1500, 11).unwrap();
        let head = Returns::new(sim.returns[..1200].to_vec()).unwrap();
        let cold = fit(&head, s, &FitOptions::default()).unwrap();
        // Warm from the optimum itself: the same optimum, in fewer passes.
        let warm = garch_core::fit_from(&head, s, &FitOptions::default(), cold.params()).unwrap();
        assert!(warm.report().converged, "{s}: {}", warm.report().status);
        assert!(warm.report().log_likelihood >= cold.report().log_likelihood - 1e-9);
        assert!(warm.report().function_evaluations < cold.report().function_evaluations);
        assert!(warm.report().status.ends_with("warm start"));
        // An unusable start falls back to the grid and says so.
        let bad = garch_core::fit_from(&head, s, &FitOptions::default(), &[1.0]).unwrap();
        assert!(bad.report().status.contains("started from the grid"));
        // The continued path over the estimation sample is the fit's own (same backcast from
        // the first 75 residuals; bounds do not bind here), and past the data it ends with the
        // one-step forecast.
        let path =
            garch_core::continued_variance(s, cold.params(), head.as_slice(), 1200, 1201).unwrap();
        let f1 = cold.forecast(1, &ForecastOptions::default()).unwrap().steps[0].variance;
        assert_eq!(path[1200], f1);
        let full =
            garch_core::continued_variance(s, cold.params(), &sim.returns, 1200, 1500).unwrap();
        assert_eq!(full.len(), 1500);
        assert!(full.iter().all(|v| v.is_finite() && *v > 0.0));
        assert!(matches!(
            garch_core::continued_variance(s, cold.params(), &sim.returns, 1200, 1502),
            Err(ForecastError::Range { .. })
        ));
    }
}

fn s_params(s: ModelSpec) -> Vec<f64> {
    match (s.volatility, s.distribution) {
        (VolatilityModel::Egarch, _) => vec![0.03, 0.0, 0.12, -0.05, 0.97],
        (_, Distribution::StudentT) => vec![0.05, 0.02, 0.05, 0.08, 0.88, 7.0],
        _ => vec![0.05, 0.02, 0.08, 0.9],
    }
}

/// An AR(1)-GARCH series simulated by our simulator is recovered by the fit, and the forecast
/// intervals follow the AR mean path: the one-step band is centred on the mean forecast, and the
/// simulated bands' medians track the conditional-mean forecasts as they decay to `c/(1 − φ)`.
#[test]
fn ar_mean_simulates_fits_and_bands_follow_the_mean_path() {
    let spec = ModelSpec::new(
        MeanModel::ar(1).unwrap(),
        VolatilityModel::garch(),
        Distribution::Normal,
    );
    let truth = [0.5, 0.6, 0.02, 0.08, 0.9];
    let sim = simulate(spec, &truth, 4000, 5).unwrap();
    let returns = Returns::new(sim.returns).unwrap();
    let model = fit(&returns, spec, &FitOptions::default()).unwrap();
    let r = model.report();
    assert!(r.converged, "{}", r.status);
    assert_eq!(r.nobs, 3999);
    for (p, (est, t)) in r.params.iter().zip(&truth).enumerate() {
        let se = est.std_err.expect("standard error");
        assert!(
            (est.value - t).abs() < 4.0 * se,
            "{} = {} ± {se}, truth {t} (param {p})",
            est.name,
            est.value
        );
    }
    let options = garch_core::ForecastOptions {
        simulations: 20_000,
        seed: 3,
    };
    let f = model.forecast(30, &options).unwrap();
    let bands = model
        .forecast_intervals(30, &[0.5, 0.05, 0.95], &options)
        .unwrap();
    let (c, phi) = (model.params()[0], model.params()[1]);
    let last = *returns.as_slice().last().unwrap();
    assert!((f.steps[0].mean - (c + phi * last)).abs() < 1e-12);
    // AR(1): m_h = μ∞ + φ^h (r_T − μ∞), μ∞ = c/(1 − φ).
    let level = c / (1.0 - phi);
    for step in &f.steps {
        let exact = level + phi.powi(step.horizon as i32) * (last - level);
        assert!((step.mean - exact).abs() < 1e-9, "h={}", step.horizon);
    }
    for (step, band) in f.steps.iter().zip(&bands.steps) {
        let median = band.quantiles[0].value;
        let width = band.quantiles[2].value - band.quantiles[1].value;
        // Normal shocks: the median of r_{T+h} is its mean; Monte-Carlo error ≪ the band.
        assert!(
            (median - step.mean).abs() < 0.03 * width,
            "h={}: median {median}, mean {}",
            step.horizon,
            step.mean
        );
    }
    // The one-step band is exact: m ± 1.645 σ.
    let h1 = &bands.steps[0].quantiles;
    let s1 = f.steps[0].variance.sqrt();
    assert!((h1[2].value - (f.steps[0].mean + 1.644_853_626_951_472_2 * s1)).abs() < 1e-9);
    // Residuals and standardised residuals line up with the variances after the hold-back.
    assert_eq!(model.resids().len(), model.conditional_variance().len());
    assert_eq!(model.std_resids().len(), 3999);
}

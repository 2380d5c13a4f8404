//! The OpenAPI document, generated from the handlers' annotations and the wire types.

use utoipa::OpenApi;

use crate::api;
use crate::routes::{admin, assets, backtests, prices, stream, system, volatility};

/// OpenAPI 3 description of market-svc.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "market-svc",
        description = "GARCH volatility forecasts per asset."
    ),
    paths(
        system::ready,
        system::openapi,
        assets::list,
        assets::history,
        volatility::asset_volatility,
        volatility::screener,
        volatility::fit_posted,
        admin::refit,
        admin::reload,
        prices::append,
        stream::stream,
        backtests::asset_backtest,
        backtests::asset_models,
        backtests::universe_backtest,
    ),
    components(schemas(
        api::AssetSummary,
        api::VolatilityResponse,
        api::HistoryResponse,
        api::ScreenerRow,
        api::ScreenerResponse,
        api::FitRequest,
        api::PostedPrices,
        api::PostedReturns,
        api::RefitRequest,
        api::RefitMode,
        api::RefitResponse,
        api::RefitStatus,
        api::DataStatus,
        api::SkippedSymbol,
        api::NewClose,
        api::AppendPricesRequest,
        api::AppendPricesResponse,
        api::ForecastUpdate,
        api::ForecastReason,
        api::ForecastEvent,
        crate::backtest_report::BacktestReport,
        crate::backtest_report::RefitOut,
        crate::backtest_report::DayOut,
        crate::backtest_report::TestOut,
        crate::backtest_report::ChristoffersenOut,
        api::backtest::UniverseBacktestRequest,
        api::backtest::UniverseBacktestResponse,
        api::backtest::BacktestMode,
        api::backtest::AssetBacktestSummary,
        api::backtest::DistributedStats,
        api::backtest::ModelRanking,
        api::backtest::FailedModel,
        api::backtest::Pending,
        svc_kit::problem::Problem,
    ))
)]
pub struct ApiDoc;

//! The OpenAPI document, generated from the handlers' annotations and the wire types.

use utoipa::OpenApi;

use crate::api;
use crate::routes::{admin, assets, prices, stream, system, volatility};

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
        svc_kit::problem::Problem,
    ))
)]
pub struct ApiDoc;

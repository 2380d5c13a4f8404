//! The OpenAPI document, generated from the handlers' annotations and the wire types.

use utoipa::OpenApi;

use crate::api;
use crate::routes::{bars, compute, signals, stream, system};

/// OpenAPI 3 description of signals-svc.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "signals-svc",
        description = "RSI/Bollinger trading signals from 5-minute bars."
    ),
    paths(
        system::ready,
        system::openapi,
        signals::list,
        signals::asset_signals,
        signals::screener,
        compute::compute,
        bars::append,
        stream::stream,
    ),
    components(schemas(
        api::AssetBars,
        api::Latest,
        api::Points,
        api::SignalsResponse,
        api::ScreenerRow,
        api::ScreenerResponse,
        api::ComputeRequest,
        api::ComputeResponse,
        api::NewBar,
        api::AppendRequest,
        api::AppendResponse,
        api::SignalEvent,
        svc_kit::problem::Problem,
    ))
)]
pub struct ApiDoc;

//! Forecast (`/forecast`): weighted and closed value per stage, per quarter
//! and per rep, each stage's configured probability beside the one learned
//! from the team's history, stage-to-stage conversion, median days in each
//! stage, and the win rate.

use super::{failure, money, render, words};
use crate::app::pipeline;
use crate::domain::forecast::GroupLine;
use crate::web::session::Signed;
use crate::web::WebState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
pub struct ForecastParams {
    pipeline: Option<String>,
}

pub async fn page(State(state): State<WebState>, Signed(me): Signed, Query(params): Query<ForecastParams>) -> Response {
    let chosen = params.pipeline.as_deref().filter(|p| !p.trim().is_empty());
    let (forecast, flow) = match (
        pipeline::forecast(&state.core, &me.actor, chosen, true).await,
        pipeline::flow(&state.core, &me.actor, chosen).await,
    ) {
        (Ok(f), Ok(flow)) => (f, flow),
        (Err(e), _) | (_, Err(e)) => return failure(&me, e),
    };
    let language = me.rep.language;
    let f = &forecast.main;
    let cur = |amount| money(amount, &f.currency, language);
    let percent = |share: Option<f64>| share.map(|s| format!("{:.0} %", s * 100.0));
    let group = |g: &GroupLine| {
        context! {
            key => &g.key, count => g.totals.count, open => cur(g.totals.open_value),
            weighted => cur(g.totals.weighted_value), closed => cur(g.totals.closed_value),
        }
    };
    let learned = forecast.learned.clone().unwrap_or_default();
    let configured = state.core.settings.pipelines.get(&f.pipeline).ok();
    render(
        StatusCode::OK,
        "forecast.html",
        context! {
            t => words(language),
            me => &me.rep.name,
            csrf => &me.csrf_token,
            here => "forecast",
            pipeline => &f.pipeline,
            pipelines => state.core.settings.pipelines.iter().map(|p| context! { slug => &p.slug, name => &p.name }).collect::<Vec<_>>(),
            totals => context! {
                count => f.totals.count, open => cur(f.totals.open_value),
                weighted => cur(f.totals.weighted_value), closed => cur(f.totals.closed_value),
            },
            stages => f.stages.iter().map(|s| {
                let flow = flow.stages.iter().find(|x| x.slug == s.slug);
                let learned = learned.iter().find(|l| l.slug == s.slug);
                context! {
                    name => &s.name, count => s.count, value => cur(s.value), weighted => cur(s.weighted_value),
                    configured => configured.and_then(|p| p.stage(&s.slug)).map(|st| st.probability),
                    learned => learned.map(|l| l.learned), decided => learned.map(|l| l.reached),
                    conversion => percent(flow.and_then(|x| x.conversion)),
                    entered => flow.map(|x| x.entered),
                    days => flow.and_then(|x| x.median_days).map(|d| format!("{d:.1}")),
                }
            }).collect::<Vec<_>>(),
            quarters => f.quarters.iter().map(group).collect::<Vec<_>>(),
            reps => f.reps.iter().map(group).collect::<Vec<_>>(),
            win_rate => percent(flow.win_rate),
            decided => flow.decided,
            won => flow.won,
            currency => &f.currency,
            others => forecast.other_currencies.iter().map(|o| o.currency.clone()).collect::<Vec<_>>(),
        },
    )
}

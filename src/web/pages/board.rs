//! The board page (`/`) and moving a card (`POST /prospects/{id}/move`, the
//! form every card carries; dragging submits the same form). A move to a
//! won stage asks for the final value and one to a lost stage for a reason
//! before it is made.

use super::{failure, local_path, local_time, money, render, see_other, words, zone_of};
use crate::app::board::{self, BoardQuery};
use crate::app::prospects::{self, MoveStage, Needed};
use crate::app::AppError;
use crate::domain::prospect::ProspectRef;
use crate::web::session::{Signed, SignedForm};
use crate::web::WebState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
pub struct BoardParams {
    pipeline: Option<String>,
    rep: Option<String>,
    tag: Option<String>,
    q: Option<String>,
    /// A stage whose column shows more cards, and how many.
    more: Option<String>,
    n: Option<usize>,
}

pub async fn page(State(state): State<WebState>, Signed(me): Signed, Query(params): Query<BoardParams>) -> Response {
    let query = BoardQuery {
        pipeline: params.pipeline.clone(),
        rep: params.rep.clone(),
        tag: params.tag.clone(),
        search: params.q.clone(),
        more: params
            .more
            .clone()
            .map(|stage| (stage, params.n.unwrap_or(board::CARDS_PER_COLUMN * 2))),
    };
    let board = match board::board(&state.core, &me.actor, &query).await {
        Ok(board) => board,
        Err(e) => return failure(&me, e),
    };
    let language = me.rep.language;
    let zone = zone_of(&me.rep.time_zone);
    let intent_words = crate::domain::digest::Words::for_language(language);
    let filter_link = |more: Option<(&str, usize)>| {
        let mut link = url::form_urlencoded::Serializer::new(String::new());
        link.append_pair("pipeline", &board.pipeline.slug);
        for (key, value) in [("rep", &params.rep), ("tag", &params.tag), ("q", &params.q)] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                link.append_pair(key, v);
            }
        }
        if let Some((stage, n)) = more {
            link.append_pair("more", stage).append_pair("n", &n.to_string());
        }
        format!("/?{}", link.finish())
    };
    let columns: Vec<_> = board
        .columns
        .iter()
        .map(|col| {
            let cards: Vec<_> = col
                .cards
                .iter()
                .map(|card| {
                    context! {
                        id => card.id,
                        name => &card.name,
                        company => &card.company,
                        value => money(card.value, &card.currency, language),
                        days => card.days_in_stage,
                        rotting => card.rotting,
                        score => format!("{:.1}", card.score),
                        latest => card.latest.as_ref().map(|(kind, at)| format!("{kind} · {}", local_time(*at, zone, language))),
                        reply => card.reply.map(|r| context! {
                            intent => r.intent.as_str(), label => intent_words.intent(r.intent), contested => r.contested,
                        }),
                        rep => (!board.reps.is_empty()).then_some(&card.rep_email),
                    }
                })
                .collect();
            context! {
                slug => &col.stage.slug,
                name => &col.stage.name,
                kind => format!("{:?}", col.stage.kind).to_lowercase(),
                rotting_days => col.stage.rotting_days,
                count => col.count,
                value => money(col.value, &board.currency, language),
                weighted => money(col.weighted, &board.currency, language),
                hidden => col.hidden,
                more_href => filter_link(Some((&col.stage.slug, col.cards.len() + board::CARDS_PER_COLUMN))),
                cards => cards,
            }
        })
        .collect();
    let stages: Vec<_> = board
        .pipeline
        .stages
        .iter()
        .map(|s| context! { slug => &s.slug, name => &s.name })
        .collect();
    let pipelines: Vec<_> = state
        .core
        .settings
        .pipelines
        .iter()
        .map(|p| context! { slug => &p.slug, name => &p.name })
        .collect();
    let reps: Vec<_> = board
        .reps
        .iter()
        .map(|r| context! { email => &r.email, name => &r.name })
        .collect();
    render(
        StatusCode::OK,
        "board.html",
        context! {
            t => words(language),
            me => &me.rep.name,
            csrf => &me.csrf_token,
            here => "board",
            pipeline => &board.pipeline.slug,
            pipelines => pipelines,
            reps => reps,
            filter => context! {
                rep => board.rep.as_ref().map(|r| r.email.clone()).unwrap_or_default(),
                tag => params.tag.clone().unwrap_or_default(),
                q => params.q.clone().unwrap_or_default(),
            },
            currency => &board.currency,
            columns => columns,
            stages => stages,
            back => filter_link(None),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct MoveForm {
    stage: String,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    back: Option<String>,
}

pub async fn move_card(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    SignedForm(me, form): SignedForm<MoveForm>,
) -> Response {
    let back = local_path(form.back.as_deref(), "/");
    let input = MoveStage {
        prospect: ProspectRef::Id(id),
        stage: form.stage.clone(),
        pipeline: None,
        note: form.reason.clone().filter(|r| !r.trim().is_empty()),
        final_value: form.value.clone().filter(|v| !v.trim().is_empty()),
        ask_for_outcome: true,
    };
    match prospects::move_stage(&state.core, &me.actor, input).await {
        Ok(moved) => match moved.needs {
            None => see_other(&back),
            Some(needed) => {
                let language = me.rep.language;
                let (value, currency) = &moved.value;
                let current = (value.0 != 0).then(|| format!("{} {currency}", value));
                render(
                    StatusCode::OK,
                    "move.html",
                    context! {
                        t => words(language),
                        me => &me.rep.name,
                        csrf => &me.csrf_token,
                        id => moved.id,
                        name => &moved.name,
                        stage => &moved.to,
                        stage_name => &moved.stage_name,
                        ask => match needed { Needed::FinalValue => "value", Needed::Reason => "reason" },
                        value => current,
                        back => back,
                    },
                )
            }
        },
        // A bad final value: ask again, saying what is wrong.
        Err(AppError::Invalid(problem)) if form.value.is_some() => {
            let language = me.rep.language;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                "move.html",
                context! {
                    t => words(language),
                    me => &me.rep.name,
                    csrf => &me.csrf_token,
                    id => id,
                    name => format!("#{id}"),
                    stage => &form.stage,
                    stage_name => &form.stage,
                    ask => "value",
                    value => &form.value,
                    problem => problem,
                    back => back,
                },
            )
        }
        Err(e) => failure(&me, e),
    }
}

//! The forecast's reads in PostgreSQL: each open deal with what it is grouped
//! by, and each prospect's path through a pipeline's stages.

use super::*;
use crate::domain::event::kinds::{PROSPECT_CREATED, STAGE_CHANGED};
use crate::domain::learned::Path;
use crate::domain::money::Amount;

#[async_trait]
impl ForecastStore for PgStore {
    async fn stage_paths(&self, scope: RepScope, pipeline: &str) -> StoreResult<Vec<Path>> {
        // JSON field extraction keeps this one pass over the stage events.
        // The stage entered: `Created::stage` or `StageChanged::to` of the payloads.
        let mut query = QueryBuilder::new(format!(
            "SELECT e.prospect_id, CASE e.kind WHEN '{PROSPECT_CREATED}' THEN e.data->>'stage' \
             ELSE e.data->>'to' END, e.occurred_at FROM events e JOIN prospects p ON p.id = e.prospect_id \
             WHERE e.kind IN ('{PROSPECT_CREATED}', '{STAGE_CHANGED}') AND p.pipeline = "
        ));
        query.push_bind(pipeline);
        scope_clause(&mut query, scope);
        query.push(" ORDER BY e.prospect_id, e.occurred_at, e.id");
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db("load stage histories"))?;
        let mut paths: Vec<(ProspectId, Path)> = Vec::new();
        for row in &rows {
            let prospect: ProspectId = row.get(0);
            let Some(stage) = row.get::<Option<String>, _>(1) else {
                continue;
            };
            let entered = parse_ts(row.get(2))?;
            match paths.last_mut() {
                Some((id, path)) if *id == prospect => {
                    path.stages.push(stage);
                    path.entered_at.push(entered);
                }
                _ => paths.push((
                    prospect,
                    Path {
                        stages: vec![stage],
                        entered_at: vec![entered],
                    },
                )),
            }
        }
        Ok(paths.into_iter().map(|(_, path)| path).collect())
    }

    async fn deals(&self, scope: RepScope) -> StoreResult<Vec<PipelineDeal>> {
        let mut query = QueryBuilder::new(
            "SELECT p.pipeline, p.currency, r.email, p.stage, p.value_cents, p.probability_override, p.expected_close \
             FROM prospects p JOIN reps r ON r.id = p.rep_id WHERE 1 = 1",
        );
        scope_clause(&mut query, scope);
        let rows = query.build().fetch_all(&self.pool).await.map_err(db("load deals"))?;
        rows.iter()
            .map(|row| {
                let close: Option<NaiveDate> = row.get(6);
                Ok(PipelineDeal {
                    pipeline: row.get(0),
                    currency: row.get(1),
                    deal: Deal {
                        rep: row.get(2),
                        stage: row.get(3),
                        value: Amount(row.get(4)),
                        probability_override: row.get::<Option<i64>, _>(5).map(|p| p as u8),
                        expected_close: parse_day(close)?,
                    },
                })
            })
            .collect()
    }
}

//! How deals flow through a pipeline, from each prospect's path (the stages
//! it entered, and when): per stage, how many entered it, how many of those
//! went on to the next stage in the pipeline's order (or any later one: a
//! skipped stage is still progress), the conversion between the two, and
//! the median days a deal spent in the stage before leaving it; and the win
//! rate, won among the deals whose outcome is known. Pure: the clock is not
//! needed, only the paths.

use super::learned::Path;
use super::pipeline::{Pipeline, StageKind};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageFlow {
    pub slug: String,
    pub name: String,
    /// Prospects that entered the stage.
    pub entered: usize,
    /// Of those, the ones that later entered a later stage (not a lost one).
    pub moved_on: usize,
    /// `moved_on / entered`, 0–1; `None` for a closing stage or when nobody entered.
    pub conversion: Option<f64>,
    /// Median days in the stage of the deals that left it.
    pub median_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    pub stages: Vec<StageFlow>,
    /// Won among the decided (won, or lost now); `None` when nothing is decided.
    pub win_rate: Option<f64>,
    pub decided: usize,
    pub won: usize,
}

pub fn flow(pipeline: &Pipeline, paths: &[Path]) -> Flow {
    let order = |slug: &str| pipeline.stages.iter().position(|s| s.slug == slug);
    let kind = |slug: &str| pipeline.stage(slug).map(|s| s.kind);
    let stages = pipeline
        .stages
        .iter()
        .enumerate()
        .map(|(index, stage)| {
            let (mut entered, mut moved_on) = (0, 0);
            let mut days: Vec<f64> = Vec::new();
            for path in paths {
                let Some(at) = path.stages.iter().position(|s| *s == stage.slug) else {
                    continue;
                };
                entered += 1;
                let later = path.stages[at + 1..]
                    .iter()
                    .any(|s| order(s).is_some_and(|o| o > index) && kind(s) != Some(StageKind::Lost));
                if later {
                    moved_on += 1;
                }
                if let (Some(from), Some(to)) = (path.entered_at.get(at), path.entered_at.get(at + 1)) {
                    days.push((*to - *from).num_seconds().max(0) as f64 / 86_400.0);
                }
            }
            let open = stage.kind == StageKind::Open;
            StageFlow {
                slug: stage.slug.clone(),
                name: stage.name.clone(),
                entered,
                moved_on,
                conversion: (open && entered > 0).then(|| moved_on as f64 / entered as f64),
                median_days: median(&mut days),
            }
        })
        .collect();
    let (mut decided, mut won) = (0, 0);
    for path in paths {
        let ever_won = path.stages.iter().any(|s| kind(s) == Some(StageKind::Won));
        let lost_now = path.stages.last().is_some_and(|s| kind(s) == Some(StageKind::Lost));
        if ever_won || lost_now {
            decided += 1;
            won += usize::from(ever_won);
        }
    }
    Flow {
        stages,
        win_rate: (decided > 0).then(|| won as f64 / decided as f64),
        decided,
        won,
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(match values.len() % 2 {
        1 => values[mid],
        _ => (values[mid - 1] + values[mid]) / 2.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pipeline::Pipelines;
    use chrono::{DateTime, Duration, Utc};

    fn path(steps: &[(&str, i64)]) -> Path {
        let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        Path {
            stages: steps.iter().map(|(s, _)| s.to_string()).collect(),
            entered_at: steps.iter().map(|(_, day)| start + Duration::days(*day)).collect(),
        }
    }

    #[test]
    fn conversion_time_in_stage_and_win_rate() {
        let pipeline = Pipelines::shipped().get("default").unwrap().clone();
        let paths = [
            path(&[("prospecting", 0), ("qualification", 4), ("proposal", 10), ("won", 20)]),
            path(&[("prospecting", 0), ("qualification", 2), ("lost", 3)]),
            path(&[("prospecting", 0), ("proposal", 6)]),
            path(&[("prospecting", 0)]),
        ];
        let f = flow(&pipeline, &paths);
        let at = |slug: &str| f.stages.iter().find(|s| s.slug == slug).unwrap();
        assert_eq!((at("prospecting").entered, at("prospecting").moved_on), (4, 3));
        assert_eq!(at("prospecting").conversion, Some(0.75));
        assert_eq!(at("prospecting").median_days, Some(4.0), "4, 2 and 6 days");
        assert_eq!(
            (at("qualification").entered, at("qualification").moved_on),
            (2, 1),
            "lost is no progress"
        );
        assert_eq!(at("qualification").median_days, Some(3.5), "6 and 1 days");
        assert_eq!(at("proposal").median_days, Some(10.0), "only the deal that left");
        assert_eq!(at("won").conversion, None, "a closing stage converts to nothing");
        assert_eq!(at("meeting").conversion, None, "nobody entered");
        assert_eq!((f.decided, f.won, f.win_rate), (2, 1, Some(0.5)));
        assert_eq!(flow(&pipeline, &[]).win_rate, None);
    }
}

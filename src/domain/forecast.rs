//! The pipeline's value: closed (won stages), open, and weighted (each open
//! deal's value times its win probability, a per-deal override winning over the
//! stage's), broken down by stage, by quarter of expected close, and by rep.

use super::money::Amount;
use super::pipeline::{Pipeline, StageKind};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// One prospect's deal as the forecast sees it.
#[derive(Debug, Clone)]
pub struct Deal {
    pub rep: String,
    pub stage: String,
    pub value: Amount,
    pub probability_override: Option<u8>,
    pub expected_close: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageLine {
    pub slug: String,
    pub name: String,
    pub kind: StageKind,
    pub probability: u8,
    pub count: usize,
    pub value: Amount,
    pub weighted_value: Amount,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Totals {
    pub count: usize,
    pub open_value: Amount,
    pub weighted_value: Amount,
    pub closed_value: Amount,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupLine {
    /// `2026-Q3`, `unscheduled`, or a rep's email.
    pub key: String,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Forecast {
    pub pipeline: String,
    pub currency: String,
    #[serde(flatten)]
    pub totals: Totals,
    pub stages: Vec<StageLine>,
    pub quarters: Vec<GroupLine>,
    pub reps: Vec<GroupLine>,
}

impl Forecast {
    /// Deals in stages the pipeline does not have (a pipeline file edited after
    /// the fact) are counted nowhere rather than guessed at; the caller reports them.
    pub fn compute(pipeline: &Pipeline, currency: &str, deals: &[Deal]) -> Forecast {
        let mut stages: Vec<StageLine> = pipeline
            .stages
            .iter()
            .map(|s| StageLine {
                slug: s.slug.clone(),
                name: s.name.clone(),
                kind: s.kind,
                probability: s.probability,
                count: 0,
                value: Amount::default(),
                weighted_value: Amount::default(),
            })
            .collect();
        let mut totals = Totals::default();
        let mut quarters: BTreeMap<String, Totals> = BTreeMap::new();
        let mut reps: BTreeMap<String, Totals> = BTreeMap::new();
        for deal in deals {
            let Some(line) = stages.iter_mut().find(|l| l.slug == deal.stage) else {
                continue;
            };
            let contribution = Contribution::of(deal, line.kind, line.probability);
            line.count += 1;
            line.value += deal.value;
            line.weighted_value += contribution.weighted;
            let quarter = deal
                .expected_close
                .map_or_else(|| "unscheduled".to_string(), quarter_of);
            for group in [
                &mut totals,
                quarters.entry(quarter).or_default(),
                reps.entry(deal.rep.clone()).or_default(),
            ] {
                contribution.add_to(group);
            }
        }
        let lines =
            |map: BTreeMap<String, Totals>| map.into_iter().map(|(key, totals)| GroupLine { key, totals }).collect();
        Forecast {
            pipeline: pipeline.slug.clone(),
            currency: currency.to_string(),
            totals,
            stages,
            quarters: lines(quarters),
            reps: lines(reps),
        }
    }
}

/// What one deal adds to a group's totals.
struct Contribution {
    open: Amount,
    weighted: Amount,
    closed: Amount,
}

impl Contribution {
    fn of(deal: &Deal, kind: StageKind, stage_probability: u8) -> Contribution {
        let zero = Amount::default();
        match kind {
            StageKind::Open => {
                let probability = deal.probability_override.unwrap_or(stage_probability);
                Contribution {
                    open: deal.value,
                    weighted: deal.value.percent(probability),
                    closed: zero,
                }
            }
            StageKind::Won => Contribution {
                open: zero,
                weighted: zero,
                closed: deal.value,
            },
            StageKind::Lost => Contribution {
                open: zero,
                weighted: zero,
                closed: zero,
            },
        }
    }

    fn add_to(&self, totals: &mut Totals) {
        totals.count += 1;
        totals.open_value += self.open;
        totals.weighted_value += self.weighted;
        totals.closed_value += self.closed;
    }
}

fn quarter_of(date: NaiveDate) -> String {
    format!("{}-Q{}", date.year(), (date.month() - 1) / 3 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pipeline::Pipelines;

    fn deal(rep: &str, stage: &str, units: i64, close: Option<&str>) -> Deal {
        Deal {
            rep: rep.into(),
            stage: stage.into(),
            value: Amount::from_units(units),
            probability_override: None,
            expected_close: close.map(|d| d.parse().unwrap()),
        }
    }

    #[test]
    fn the_worked_example_from_the_brief() {
        let pipelines = Pipelines::shipped();
        let mut deals: Vec<Deal> = (0..10).map(|_| deal("a@x.com", "proposal", 100_000, None)).collect();
        deals.extend((0..5).map(|_| deal("a@x.com", "won", 100_000, None)));
        let f = Forecast::compute(pipelines.get("default").unwrap(), "USD", &deals);
        assert_eq!(f.totals.open_value, Amount::from_units(1_000_000));
        assert_eq!(f.totals.weighted_value, Amount::from_units(600_000));
        assert_eq!(f.totals.closed_value, Amount::from_units(500_000));
        let proposal = f.stages.iter().find(|s| s.slug == "proposal").unwrap();
        assert_eq!(
            (proposal.count, proposal.weighted_value),
            (10, Amount::from_units(600_000))
        );
    }

    #[test]
    fn override_wins_and_groups_split_by_quarter_and_rep() {
        let pipelines = Pipelines::shipped();
        let mut special = deal("b@x.com", "proposal", 1_000, Some("2027-01-15"));
        special.probability_override = Some(90);
        let deals = vec![
            deal("a@x.com", "meeting", 1_000, Some("2026-11-30")),
            deal("a@x.com", "lost", 5_000, Some("2026-12-01")),
            special,
        ];
        let f = Forecast::compute(pipelines.get("default").unwrap(), "USD", &deals);
        assert_eq!(f.totals.weighted_value, Amount::from_units(400 + 900));
        let keys: Vec<_> = f
            .quarters
            .iter()
            .map(|q| (q.key.as_str(), q.totals.weighted_value))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("2026-Q4", Amount::from_units(400)),
                ("2027-Q1", Amount::from_units(900))
            ]
        );
        let reps: Vec<_> = f.reps.iter().map(|r| (r.key.as_str(), r.totals.count)).collect();
        assert_eq!(reps, vec![("a@x.com", 2), ("b@x.com", 1)]);
    }
}

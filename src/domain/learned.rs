//! Stage probabilities learned from the team's own history.
//!
//! Method: for each stage, among the prospects whose outcome is known (they
//! reached a won stage, or they are now in a lost stage), the share of those
//! that reached the stage and then reached a won stage. Prospects still open
//! are left out, since their outcome is not known yet. The share is smoothed
//! toward the configured probability as if `PRIOR_WEIGHT` prospects had gone
//! exactly as configured (a beta prior), so a stage with few decided
//! prospects stays near what the team configured and moves to what it
//! observes as evidence grows:
//!
//! learned = (won + PRIOR_WEIGHT × configured) / (reached + PRIOR_WEIGHT)

use super::pipeline::{Pipeline, StageKind};
use serde::Serialize;

/// How many prospects the configured probability counts for.
pub const PRIOR_WEIGHT: f64 = 10.0;

/// One prospect's path through a pipeline: the stages it entered, in order.
#[derive(Debug, Clone)]
pub struct Path {
    pub stages: Vec<String>,
    /// When each stage was entered (as long as `stages`; empty when unknown).
    pub entered_at: Vec<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnedStage {
    pub slug: String,
    pub configured: u8,
    /// 0–100, rounded.
    pub learned: u8,
    /// Decided prospects that reached the stage.
    pub reached: usize,
    /// Of those, how many were won later.
    pub won: usize,
}

/// The learned probability of every stage of `pipeline` from these paths.
pub fn learn(pipeline: &Pipeline, paths: &[Path]) -> Vec<LearnedStage> {
    let kind_of = |slug: &str| pipeline.stage(slug).map(|s| s.kind);
    let decided: Vec<(&Path, bool)> = paths
        .iter()
        .filter_map(|path| {
            let won = path.stages.iter().any(|s| kind_of(s) == Some(StageKind::Won));
            let lost_now = path.stages.last().and_then(|s| kind_of(s)) == Some(StageKind::Lost);
            (won || lost_now).then_some((path, won))
        })
        .collect();
    pipeline
        .stages
        .iter()
        .map(|stage| {
            let (reached, won) = decided
                .iter()
                .filter_map(|(path, won)| {
                    let first = path.stages.iter().position(|s| *s == stage.slug)?;
                    let won_after = *won && path.stages[first..].iter().any(|s| kind_of(s) == Some(StageKind::Won));
                    Some(won_after)
                })
                .fold((0usize, 0usize), |(n, w), won| (n + 1, w + usize::from(won)));
            let prior = f64::from(stage.probability) / 100.0;
            let share = (won as f64 + PRIOR_WEIGHT * prior) / (reached as f64 + PRIOR_WEIGHT);
            LearnedStage {
                slug: stage.slug.clone(),
                configured: stage.probability,
                learned: (share * 100.0).round().clamp(0.0, 100.0) as u8,
                reached,
                won,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pipeline::Pipelines;

    fn pipeline() -> Pipeline {
        Pipelines::shipped().get("default").unwrap().clone()
    }

    fn path(stages: &[&str]) -> Path {
        Path {
            stages: stages.iter().map(|s| s.to_string()).collect(),
            entered_at: Vec::new(),
        }
    }

    /// A synthetic history with known conversion: of 1,000 prospects, half
    /// reach qualification, 40 % of those reach a proposal, and 30 % of
    /// proposals are won; everyone else ends lost.
    fn history() -> Vec<Path> {
        let mut paths = Vec::new();
        for n in 0..1000 {
            let mut stages = vec!["prospecting"];
            if n % 2 == 0 {
                stages.push("qualification");
                if n % 10 < 4 {
                    stages.push("proposal");
                    if n % 100 < 30 {
                        stages.push("won");
                        paths.push(path(&stages));
                        continue;
                    }
                }
            }
            stages.push("lost");
            paths.push(path(&stages));
        }
        paths
    }

    #[test]
    fn rates_from_a_history_with_known_conversion() {
        let learned = learn(&pipeline(), &history());
        let get = |slug: &str| learned.iter().find(|l| l.slug == slug).unwrap().clone();
        // 60 of the 200 proposals were won.
        let proposal = get("proposal");
        assert_eq!((proposal.reached, proposal.won), (200, 60));
        // 60/200 = 30 %, pulled slightly toward the configured 60 %.
        assert_eq!(proposal.learned, 31);
        let qualification = get("qualification");
        assert_eq!((qualification.reached, qualification.won), (500, 60));
        assert_eq!(qualification.learned, 12, "12 %, barely moved by the prior");
        let prospecting = get("prospecting");
        assert_eq!((prospecting.reached, prospecting.won), (1000, 60));
        assert_eq!(prospecting.learned, 6);
        assert_eq!(get("won").learned, 100);
        assert_eq!(get("lost").learned, 0);
    }

    #[test]
    fn a_small_sample_stays_near_the_configured_probability() {
        let few = [
            path(&["prospecting", "proposal", "won"]),
            path(&["prospecting", "proposal", "lost"]),
        ];
        let proposal = learn(&pipeline(), &few)
            .into_iter()
            .find(|l| l.slug == "proposal")
            .unwrap();
        // (1 + 10 × 0.6) / (2 + 10) = 58 %.
        assert_eq!(proposal.learned, 58);
    }

    #[test]
    fn open_prospects_are_left_out() {
        let open = vec![path(&["prospecting", "proposal"]); 50];
        let proposal = learn(&pipeline(), &open)
            .into_iter()
            .find(|l| l.slug == "proposal")
            .unwrap();
        assert_eq!((proposal.reached, proposal.learned), (0, proposal.configured));
    }
}

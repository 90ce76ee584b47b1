//! The one list of the daemon's jobs: each name (its `[jobs.NAME]` section)
//! with its default schedule and time limit. The config takes its defaults
//! and checks names here; the daemon makes each job from its name (and a
//! test there checks every name here has a maker).

/// One job the daemon runs.
#[derive(Debug, Clone, Copy)]
pub struct JobSpec {
    pub name: &'static str,
    /// Cron, in UTC unless `[jobs.NAME] time_zone` says otherwise.
    pub schedule: &'static str,
    /// A run taking longer is cut off (default: `[daemon] job_timeout_secs`).
    pub timeout_secs: Option<u64>,
}

/// Every job, in the order the daemon registers them.
pub const JOBS: [JobSpec; 7] = [
    JobSpec {
        name: "housekeeping",
        schedule: "17 3 * * *",
        timeout_secs: None,
    },
    // A poll run can take long when many feeds share a host (one request per
    // second to each); what it fetched is stored as it goes.
    JobSpec {
        name: "poll-feeds",
        schedule: "*/5 * * * *",
        timeout_secs: Some(1800),
    },
    JobSpec {
        name: "sync-mail",
        schedule: "*/5 * * * *",
        timeout_secs: Some(1800),
    },
    // Every minute: the pacing gap, not the schedule, spaces the sends.
    JobSpec {
        name: "send-sequences",
        schedule: "* * * * *",
        timeout_secs: Some(1800),
    },
    JobSpec {
        name: "apply-rules",
        schedule: "* * * * *",
        timeout_secs: Some(1800),
    },
    // Every minute: each rep's digest goes at their own local hour.
    JobSpec {
        name: "send-digests",
        schedule: "* * * * *",
        timeout_secs: Some(1800),
    },
    // Every minute: a new event reaches the receivers within a minute.
    JobSpec {
        name: "deliver-webhooks",
        schedule: "* * * * *",
        timeout_secs: Some(1800),
    },
];

/// The jobs' names, in the same order.
pub const JOB_NAMES: [&str; JOBS.len()] = {
    let mut names = [""; JOBS.len()];
    let mut i = 0;
    while i < JOBS.len() {
        names[i] = JOBS[i].name;
        i += 1;
    }
    names
};

//! A process's memory and CPU from `/proc/<pid>/` (Linux), sampled once a second during a run.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Clock ticks per second of the `/proc/<pid>/stat` times (USER_HZ, 100 on Linux).
const USER_HZ: f64 = 100.0;

/// One reading of a process.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    pub at: Instant,
    pub rss_kb: u64,
    /// User plus system CPU time so far, in seconds.
    pub cpu_s: f64,
}

/// Read `/proc/<pid>/status` (VmRSS) and `/proc/<pid>/stat` (utime, stime).
pub fn read(pid: u32) -> Option<Reading> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the name, field 1 is the state; utime and stime are fields 14 and 15 of the line.
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    let cpu_s = (ticks(11)? + ticks(12)?) as f64 / USER_HZ;
    Some(Reading {
        at: Instant::now(),
        rss_kb,
        cpu_s,
    })
}

/// What a process did over a run.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessSummary {
    pub pid: u32,
    pub rss_start_mb: f64,
    pub rss_end_mb: f64,
    pub rss_max_mb: f64,
    /// Average CPU over the window, in percent of one core (200% = both of two cores).
    pub cpu_avg_percent: f64,
    /// Busiest one-second sample.
    pub cpu_max_percent: f64,
}

/// Samples a process every second until stopped.
#[derive(Debug)]
pub struct Sampler {
    pid: u32,
    samples: Vec<Reading>,
}

impl Sampler {
    pub fn new(pid: u32) -> Self {
        Self {
            pid,
            samples: read(pid).into_iter().collect(),
        }
    }

    pub fn sample(&mut self) {
        if let Some(r) = read(self.pid) {
            self.samples.push(r);
        }
    }

    /// Sample every second until `until`.
    pub async fn run_until(mut self, until: Instant) -> Self {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        while Instant::now() < until {
            tick.tick().await;
            self.sample();
        }
        self.sample();
        self
    }

    /// The summary of the samples taken at or after `from`.
    pub fn summary(&self, from: Instant) -> Option<ProcessSummary> {
        let window: Vec<&Reading> = self.samples.iter().filter(|r| r.at >= from).collect();
        let (first, last) = (window.first()?, window.last()?);
        let mb = |kb: u64| kb as f64 / 1024.0;
        let span = last.at.duration_since(first.at).as_secs_f64();
        let cpu_max = window
            .windows(2)
            .map(|w| {
                let dt = w[1].at.duration_since(w[0].at).as_secs_f64().max(1e-3);
                (w[1].cpu_s - w[0].cpu_s) / dt * 100.0
            })
            .fold(0.0, f64::max);
        Some(ProcessSummary {
            pid: self.pid,
            rss_start_mb: mb(first.rss_kb),
            rss_end_mb: mb(last.rss_kb),
            rss_max_mb: mb(window.iter().map(|r| r.rss_kb).max().unwrap_or(0)),
            cpu_avg_percent: if span > 0.0 {
                (last.cpu_s - first.cpu_s) / span * 100.0
            } else {
                0.0
            },
            cpu_max_percent: cpu_max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let r = read(std::process::id()).expect("/proc is readable");
        assert!(r.rss_kb > 0);
        assert!(r.cpu_s >= 0.0);
    }
}

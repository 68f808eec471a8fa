//! Per-endpoint latency series. Each task keeps its own [`Recorder`] (no locks on the hot
//! path); the run merges them at the end and [`Recorder::summary`] turns them into rates and
//! percentiles over the measured window.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Default, Clone)]
struct Series {
    /// Latencies of answered requests, in microseconds.
    latencies_us: Vec<u32>,
    /// Failed requests by kind ("status 503", "timeout", "score mismatch", ...).
    errors: BTreeMap<String, u64>,
    /// For open-loop traffic: how late the generator sent each request, in microseconds (0
    /// when on schedule). Included in the latencies; kept apart to show the generator's share.
    sent_late_us: Vec<u32>,
}

/// Requests recorded by one task, or merged from many.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Requests sent before this are warm-up and not recorded.
    measure_from: Instant,
    series: BTreeMap<&'static str, Series>,
}

impl Recorder {
    pub fn new(measure_from: Instant) -> Self {
        Self {
            measure_from,
            series: BTreeMap::new(),
        }
    }

    /// Record a request sent (or due) at `sent`. `Err` counts it as an error of that kind;
    /// its latency still counts, since a fast error is still an answer a client waited for.
    pub fn record(
        &mut self,
        endpoint: &'static str,
        sent: Instant,
        latency: Duration,
        outcome: Result<(), String>,
    ) {
        if sent < self.measure_from {
            return;
        }
        let series = self.series.entry(endpoint).or_default();
        series.latencies_us.push(micros(latency));
        if let Err(kind) = outcome {
            *series.errors.entry(kind).or_default() += 1;
        }
    }

    /// Note that the open-loop request due at `due` went out `late` (zero when on schedule).
    pub fn sent_late(&mut self, endpoint: &'static str, due: Instant, late: Duration) {
        if due < self.measure_from {
            return;
        }
        let series = self.series.entry(endpoint).or_default();
        series.sent_late_us.push(micros(late));
    }

    pub fn merge(&mut self, other: Recorder) {
        for (endpoint, s) in other.series {
            let mine = self.series.entry(endpoint).or_default();
            mine.latencies_us.extend(s.latencies_us);
            mine.sent_late_us.extend(s.sent_late_us);
            for (kind, n) in s.errors {
                *mine.errors.entry(kind).or_default() += n;
            }
        }
    }

    /// Rates over `window` (the measured time) and latency percentiles per endpoint.
    pub fn summary(mut self, window: Duration) -> Vec<EndpointSummary> {
        let secs = window.as_secs_f64().max(1e-9);
        self.series
            .iter_mut()
            .map(|(endpoint, s)| {
                s.latencies_us.sort_unstable();
                s.sent_late_us.sort_unstable();
                let at = |q: f64| percentile_ms(&s.latencies_us, q);
                let requests = s.latencies_us.len() as u64;
                EndpointSummary {
                    endpoint: (*endpoint).to_owned(),
                    requests,
                    rps: requests as f64 / secs,
                    p50_ms: at(0.50),
                    p95_ms: at(0.95),
                    p99_ms: at(0.99),
                    max_ms: at(1.0),
                    sent_late_p99_ms: (!s.sent_late_us.is_empty())
                        .then(|| percentile_ms(&s.sent_late_us, 0.99)),
                    errors: s.errors.values().sum(),
                    error_kinds: s.errors.clone(),
                }
            })
            .collect()
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// The `q` quantile of `sorted` microseconds, in milliseconds (0 when empty).
fn percentile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[i - 1]) / 1000.0
}

/// One endpoint's numbers over the measured window.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointSummary {
    pub endpoint: String,
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// For open-loop traffic: the 99th percentile of how late the generator itself sent
    /// requests. Near `p99_ms`, the tail is the generator's (or the shared cores'), not the
    /// server's answer time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_late_p99_ms: Option<f64>,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
}

/// A plain-text table of the summaries.
pub fn table(rows: &[EndpointSummary]) -> String {
    let mut out = format!(
        "{:<14} {:>9} {:>10} {:>8} {:>8} {:>8} {:>9} {:>7}\n",
        "endpoint", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<14} {:>9} {:>10.1} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>7}\n",
            r.endpoint, r.requests, r.rps, r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms, r.errors
        ));
        if let Some(late) = r.sent_late_p99_ms {
            out.push_str(&format!(
                "    sent late by the generator: p99 {late:.2} ms\n"
            ));
        }
        for (kind, n) in &r.error_kinds {
            out.push_str(&format!("    {n} x {kind}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_rates_and_warm_up() {
        let t0 = Instant::now();
        let mut a = Recorder::new(t0);
        let mut b = Recorder::new(t0);
        for ms in 1..=100u64 {
            let r = if ms % 2 == 0 { &mut a } else { &mut b };
            r.record("get", t0, Duration::from_millis(ms), Ok(()));
        }
        b.record("get", t0, Duration::from_millis(1), Err("timeout".into()));
        // Sent before the window opened: warm-up, not recorded.
        let mut late = Recorder::new(t0 + Duration::from_secs(1));
        late.record("get", t0, Duration::from_millis(5), Ok(()));
        a.merge(b);
        a.merge(late);
        let s = &a.summary(Duration::from_secs(10))[0];
        assert_eq!(s.requests, 101);
        assert!((s.rps - 10.1).abs() < 1e-9);
        assert_eq!(s.errors, 1);
        assert_eq!(s.p50_ms, 50.0);
        assert_eq!(s.p99_ms, 99.0);
        assert_eq!(s.max_ms, 100.0);
        assert_eq!(
            s.sent_late_p99_ms, None,
            "closed-loop traffic has no schedule"
        );
    }

    #[test]
    fn lateness_is_summarised_over_every_scheduled_request() {
        let t0 = Instant::now();
        let mut a = Recorder::new(t0);
        for n in 0..100u64 {
            // Two requests in a hundred went out late, by 7 and 9 ms.
            let late = match n {
                10 => 7,
                20 => 9,
                _ => 0,
            };
            a.record("board", t0, Duration::from_millis(1 + late), Ok(()));
            a.sent_late("board", t0, Duration::from_millis(late));
        }
        let s = &a.summary(Duration::from_secs(1))[0];
        assert_eq!(s.sent_late_p99_ms, Some(7.0));
        assert_eq!(s.p99_ms, 8.0);
        assert!(table(std::slice::from_ref(s)).contains("sent late by the generator: p99 7.00 ms"));
    }
}

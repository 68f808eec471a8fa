//! Process metrics (`process_*`) read from `/proc` on each scrape, as other exporters do.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Linux reports CPU time in clock ticks of USER_HZ, which is 100 on every mainstream
/// architecture, and memory in pages of 4 KiB on x86_64 and most arm64 kernels.
const TICKS_PER_SECOND: f64 = 100.0;
const PAGE_SIZE: f64 = 4096.0;

#[derive(Debug)]
pub(crate) struct ProcessCollector {
    start_time_seconds: f64,
}

impl ProcessCollector {
    pub(crate) fn new() -> Self {
        let start_time_seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Self { start_time_seconds }
    }
}

struct Sample {
    cpu_seconds: f64,
    resident_bytes: f64,
    virtual_bytes: f64,
    open_fds: f64,
    threads: f64,
}

fn sample() -> Option<Sample> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may contain spaces; fields after it are space-separated.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    // `rest` starts at field 3 (state): utime is field 14, stime 15, threads 20, vsize 23, rss 24.
    let cpu_seconds = (num(11)? + num(12)?) / TICKS_PER_SECOND;
    let threads = num(17)?;
    let virtual_bytes = num(20)?;
    let resident_bytes = num(21)? * PAGE_SIZE;
    let open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count()) as f64;
    Some(Sample {
        cpu_seconds,
        resident_bytes,
        virtual_bytes,
        open_fds,
        threads,
    })
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(s) = sample() else { return Ok(()) };
        let cpu = ConstCounter::new(s.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds.",
            None,
            cpu.metric_type(),
        )?)?;
        let gauges = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                s.resident_bytes,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                s.virtual_bytes,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors.",
                s.open_fds,
            ),
            ("process_threads", "Number of OS threads.", s.threads),
            (
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch in seconds.",
                self.start_time_seconds,
            ),
        ];
        for (name, help, value) in gauges {
            let g = ConstGauge::new(value);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
        }
        Ok(())
    }
}

//! Host metrics as a source: a sample every interval, the newest kept for the API
//! ([`HostMetrics`]), every one into the store's downsampled series. It raises no events.

use std::path::PathBuf;
use std::time::Duration;

use super::view::HostMetrics;
use super::Sampler;
use crate::sources::{Context, Source};

/// Samples the host's metrics every `interval`: the newest for the API, all of them into
/// the store's downsampled series.
pub struct MetricsSource {
    pub interval: Duration,
    pub host: HostMetrics,
    pub data_dir: PathBuf,
}

impl Source for MetricsSource {
    fn id(&self) -> String {
        "metrics".to_string()
    }

    fn describe(&self) -> String {
        format!("sampling host metrics every {} s", self.interval.as_secs())
    }

    fn run(self: Box<Self>, ctx: Context) {
        let conn = match crate::store::open(&self.data_dir) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(source = "metrics", "metrics are not stored: {e}");
                return;
            }
        };
        let mut sampler = Sampler::new();
        let mut failing = false;
        while !ctx.stop.is_set() {
            let sample = sampler.sample();
            self.host.record(&sample);
            match crate::store::metrics::record(&conn, sample.ts, &sample.values) {
                Ok(()) => failing = false,
                Err(e) if !failing => {
                    tracing::warn!(source = "metrics", "cannot store metrics: {e}");
                    failing = true;
                }
                Err(_) => {}
            }
            ctx.stop.sleep(self.interval);
        }
    }
}

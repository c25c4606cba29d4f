//! The [`Runner`] every area hands its workloads to, and the criterion implementation of it.

use criterion::{BenchmarkGroup, Criterion, Throughput};

/// Receives workloads: a name (`area/what`), what one operation handles, and the operation.
pub trait Runner {
    /// Runs (times, counts…) `op`, one call being one operation of `throughput`.
    fn run<F: FnMut()>(&mut self, name: &str, throughput: Throughput, op: F);
}

/// Every area: its name and the function that hands its workloads to a runner.
pub fn all_areas<R: Runner>() -> [(&'static str, fn(&mut R)); 6] {
    [
        ("rtsp", crate::rtsp::workloads::<R>),
        ("rtp", crate::rtp::workloads::<R>),
        ("codec", crate::codec::workloads::<R>),
        ("sdp", crate::sdp::workloads::<R>),
        ("fanout", crate::fanout::workloads::<R>),
        ("ingest", crate::ingest::workloads::<R>),
    ]
}

/// Times every workload with criterion, one benchmark group per area.
pub struct CriterionRunner<'c> {
    /// The group of the area being run.
    group: BenchmarkGroup<'c, criterion::measurement::WallTime>,
}

impl<'c> CriterionRunner<'c> {
    /// Runs every workload of `area` (see [`all_areas`]) as the criterion group `area`.
    pub fn bench_area(c: &'c mut Criterion, area: &str, workloads: fn(&mut Self)) {
        let mut runner = CriterionRunner {
            group: c.benchmark_group(area),
        };
        workloads(&mut runner);
        runner.group.finish();
    }
}

impl Runner for CriterionRunner<'_> {
    fn run<F: FnMut()>(&mut self, name: &str, throughput: Throughput, mut op: F) {
        // Criterion names the benchmark `group/id`; `name` already carries the area.
        let id = name.split_once('/').map_or(name, |(_, id)| id);
        self.group.throughput(throughput);
        self.group.bench_function(id, |b| b.iter(&mut op));
    }
}

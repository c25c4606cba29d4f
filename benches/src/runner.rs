//! The [`Runner`] every area hands its workloads to, and the criterion implementation of it.

use criterion::{BenchmarkGroup, Criterion, Throughput};

/// Receives workloads: a name (`area/what`), what one operation handles, and the operation.
pub trait Runner {
    /// Runs (times, counts…) `op`, one call being one operation of `throughput`.
    fn run<F: FnMut()>(&mut self, name: &str, throughput: Throughput, op: F);
}

/// An area: its name and the function that hands its workloads to a runner.
pub type Area<R> = (&'static str, fn(&mut R));

/// Every area, in the order the benches and the scripts list them.
pub fn all_areas<R: Runner>() -> [Area<R>; 8] {
    [
        ("rtsp", crate::rtsp::workloads::<R>),
        ("rtp", crate::rtp::workloads::<R>),
        ("codec", crate::codec::workloads::<R>),
        ("sdp", crate::sdp::workloads::<R>),
        ("fanout", crate::fanout::workloads::<R>),
        ("ingest", crate::ingest::workloads::<R>),
        ("rtmp", crate::rtmp::workloads::<R>),
        ("mux", crate::mux::workloads::<R>),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs every operation a few times (the workloads check their own results).
    struct Smoke(Vec<String>);

    impl Runner for Smoke {
        fn run<F: FnMut()>(&mut self, name: &str, _throughput: Throughput, mut op: F) {
            for _ in 0..3 {
                op();
            }
            self.0.push(name.to_owned());
        }
    }

    #[test]
    fn every_workload_runs_and_is_named_after_its_area() {
        let mut smoke = Smoke(Vec::new());
        for (area, workloads) in all_areas::<Smoke>() {
            let before = smoke.0.len();
            workloads(&mut smoke);
            assert!(smoke.0.len() > before, "{area} has no workload");
            for name in &smoke.0[before..] {
                assert!(
                    name.starts_with(&format!("{area}/")),
                    "{name} is not in {area}"
                );
            }
        }
        let mut names = smoke.0.clone();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), smoke.0.len(), "workload names are unique");
    }
}

//! Criterion benches of the `rtmp` workloads (see `weir_benches::rtmp`).

use criterion::Criterion;
use weir_benches::CriterionRunner;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    CriterionRunner::bench_area(&mut c, "rtmp", weir_benches::rtmp::workloads);
    c.final_summary();
}

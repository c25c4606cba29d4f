//! Criterion benches of the `rtsp` workloads (see `weir_benches::rtsp`).

use criterion::Criterion;
use weir_benches::CriterionRunner;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    CriterionRunner::bench_area(&mut c, "rtsp", weir_benches::rtsp::workloads);
    c.final_summary();
}

//! Criterion benches of the `sdp` workloads (see `weir_benches::sdp`).

use criterion::Criterion;
use weir_benches::CriterionRunner;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    CriterionRunner::bench_area(&mut c, "sdp", weir_benches::sdp::workloads);
    c.final_summary();
}

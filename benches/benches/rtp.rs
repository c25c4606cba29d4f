//! Criterion benches of the `rtp` workloads (see `weir_benches::rtp`).

use criterion::Criterion;
use weir_benches::CriterionRunner;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    CriterionRunner::bench_area(&mut c, "rtp", weir_benches::rtp::workloads);
    c.final_summary();
}

//! Criterion benches of the `fanout` workloads (see `weir_benches::fanout`).

use criterion::Criterion;
use weir_benches::CriterionRunner;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    CriterionRunner::bench_area(&mut c, "fanout", weir_benches::fanout::workloads);
    c.final_summary();
}

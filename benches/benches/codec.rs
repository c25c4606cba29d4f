//! Criterion benches of the `codec` workloads (see `weir_benches::codec`).

use criterion::Criterion;
use weir_benches::CriterionRunner;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    CriterionRunner::bench_area(&mut c, "codec", weir_benches::codec::workloads);
    c.final_summary();
}

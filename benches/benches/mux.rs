//! Criterion benches of the `mux` workloads (see `weir_benches::mux`).

use criterion::Criterion;
use weir_benches::CriterionRunner;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    CriterionRunner::bench_area(&mut c, "mux", weir_benches::mux::workloads);
    c.final_summary();
}

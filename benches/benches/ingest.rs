//! Criterion benches of the `ingest` workloads (see `weir_benches::ingest`).

use criterion::Criterion;
use weir_benches::CriterionRunner;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    CriterionRunner::bench_area(&mut c, "ingest", weir_benches::ingest::workloads);
    c.final_summary();
}

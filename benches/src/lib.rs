//! weir-benches: criterion benches of weir's packet paths and the whole-server load generator (issue: benchmarks). Not written yet.

//! weir-benches: the workloads of weir's packet-path microbenchmarks (issue: benchmarks), and
//! the whole-server load generator.
//!
//! Each area module (`rtsp`, `rtp`, `codec`, `sdp`, `fanout`, `ingest`, `rtmp`, `mux`)
//! prepares its inputs from the real data under `core/tests/data` and hands every workload to a
//! [`Runner`]: the criterion benches in `benches/` time them, and `bench_once` runs one a fixed
//! number of times under callgrind to count instructions per operation. One call of a
//! workload's closure is one operation; its [`Throughput`] says how many bytes or elements that
//! operation handles.
//!
//! [`loadgen`] is the load generator behind the `loadgen` binary (many readers of one stream
//! it publishes itself, against a running server); `barepipe` is the physical floor it is
//! compared with (see `scripts/loadtest.sh`).

pub mod codec;
pub mod data;
pub mod fanout;
pub mod ingest;
pub mod loadgen;
pub mod mux;
pub mod rtmp;
pub mod rtp;
pub mod rtsp;
pub mod runner;
pub mod sdp;

pub use criterion::Throughput;
pub use runner::{all_areas, CriterionRunner, Runner};

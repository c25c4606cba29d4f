//! The media model: tracks, units, per-path streams with their fan-out ring, and the path registry.
//!
//! A **path** has at most one source and any number of readers. The source's RTP packets go
//! through a [`StreamIngest`] (owned by the publisher, no sharing) which groups them into
//! [`Unit`]s; units go into the path's [`Ring`] (shared by every reader, stored once) and each
//! reader walks the ring with its own [`Cursor`].

mod description;
mod ingest;
#[cfg(test)]
mod ingest_tests;
mod ondemand;
mod path;
mod pool;
mod ring;
mod unit;

pub use description::{DescriptionError, StreamDescription, Track};
pub use ingest::{StreamIngest, WallClock};
pub use ondemand::{OnDemand, OnDemandAction, OnDemandConf};
pub use path::{validate_path_name, PathConf, PathError, PathManager, PathMatch, PublishOutcome};
pub use pool::MAX_POOLED_UNITS;
pub use ring::{Cursor, ReadOutcome, Ring};
pub use unit::{StreamItem, Unit};

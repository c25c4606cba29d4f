//! The media model: tracks, units, per-path streams with their fan-out ring, and the path registry.

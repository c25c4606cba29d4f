//! weir-tokio: drives weir-core over tokio.

//! weir-mio: the mio runtime adapter: a zero-allocation event loop over mio that drives weir-core's state machines (issue: adapter-mio). Not written yet.

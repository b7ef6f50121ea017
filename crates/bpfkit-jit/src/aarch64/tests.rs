//! Encoding tests: placeholder.

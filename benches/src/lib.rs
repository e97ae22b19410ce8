//! Weft's benchmarks live in `benches/`, one file per crate; run them all
//! with `cargo xtask bench`. This library holds what they share.

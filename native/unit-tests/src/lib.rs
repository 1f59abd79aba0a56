//! Empty: this package holds the unit tests of the sdk, kernels and idiomatic crates, compiled
//! from their sources without optimisation (see its Cargo.toml).

//! `concord sim`: the simulator (crate `concord-sim`) and its command line.

pub use concord_sim::*;

pub mod cli;

//! The pure core: architecture, peft semantics, hardware, prices, the physics of training and
//! serving, and the planner.
//!
//! Nothing here knows a front-end: no clap, ratatui, crossterm, candle, reqwest, comfy-table or
//! indicatif (`tests/it/wall.rs` fails if a file under `src/core/` names one). [`data`] (file
//! readers, the atomic writer) and [`catalogs`] (loaded once per process) are the modules that
//! touch the file system; every other function is a pure function of its arguments and reads no
//! clock.

pub mod arch;
pub mod catalogs;
pub mod data;
pub mod deploy;
pub mod error;
pub mod estimate;
pub mod hardware;
pub mod peft;
pub mod plan;
pub mod pricing;
pub mod spec;
pub mod units;

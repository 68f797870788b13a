//! peftcost: what parameter-efficient fine-tuning and serving a model will cost.
//!
//! Data flows one way: files -> typed profiles ([`arch`], [`hardware`], [`pricing`]) -> the pure
//! core ([`peft`], [`estimate`]) -> rows -> renderers ([`report`], the TUI). No renderer
//! computes a number, and no core function reads a file or the clock.

pub mod arch;
pub mod bench;
pub mod data;
pub mod deploy;
pub mod error;
pub mod hardware;
pub mod peft;
pub mod plan;
pub mod pricing;

pub use error::{Error, Result};
pub mod cli;
pub mod estimate;
pub mod report;
pub mod tui;

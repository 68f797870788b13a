//! The integration tests: one binary (linked once), one module per area.

mod calibrate;
mod cli;
mod common;
mod deploy;
mod emit;
mod fetch;
mod fit;
mod fuzz;
mod hardening;
mod html;
mod hub;
mod i18n;
mod meta;
mod params;
mod physics;
mod plan;
mod pricing;
mod report;
mod snapshots;
mod tty;
mod wall;

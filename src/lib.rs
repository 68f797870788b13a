//! peftcost: what parameter-efficient fine-tuning and serving a model will cost.
//!
//! # Architecture
//!
//! One crate, two halves. The **core** (`src/core/`) is pure: it knows the architectures, peft's
//! semantics, the hardware and the prices, and computes parameters, FLOPs, memory, time, money
//! and plans. The **front-ends** beside it turn people's input into core specs and the core's
//! results into text: `cli` (clap), `report` (documents -> table | Markdown | CSV | JSON), `tui`
//! (ratatui), `bench` (candle measurements -> a [`hardware::Calibration`]), `emit` (a chosen
//! configuration -> LLaMA-Factory / axolotl / peft / DeepSpeed / accelerate / SkyPilot files, and
//! a user's own config file -> a scenario) and [`http`] (reqwest). Arrows run front-end -> core, never back; a test (`tests/it/wall.rs`) fails if a
//! file under `src/core/` names clap, ratatui, crossterm, candle, reqwest, comfy-table or
//! indicatif.
//!
//! Data flows one way:
//!
//! ```text
//! files (profiles/, pricing/, user dir, calibration)
//!   -> catalogs::Catalogs::load        (the one loader, once per process)
//!   -> spec::ScenarioSpec::resolve     (every default and validity rule, once)
//!   -> estimate / deploy / plan        (pure functions of the resolved scenario)
//!   -> report documents                (rows of formatted cells; no number computed here)
//!   -> table | md | csv | json | TUI
//! ```
//!
//! Where a change goes:
//! - a new model family or config.json key: [`arch`] (profile, inventory, importer);
//! - a new PEFT method or target rule: [`peft`];
//! - a flag default or a validity rule: [`spec`] (the CLI and the TUI both resolve through it);
//! - a memory or time term: `estimate::physics` (one function per term);
//! - serving physics: [`deploy`]; a provider or billing rule: [`pricing`];
//! - wording, columns, a new output format: the front-ends (`src/report/`, `src/cli/`);
//! - a training engine's key: `src/emit/` (one serde struct per engine, read and written).
//!
//! Known warts: the library re-exports the core's modules whole rather than a narrow item list,
//! because the integration tests reach into them; the HTTP update ([`http`]) is public for the
//! same reason.
//!
//! ```
//! use peftcost::arch::ModelCatalog;
//! use peftcost::estimate::{Scenario, Workload};
//! use peftcost::peft::{MethodConfig, MethodKind};
//!
//! let profile = ModelCatalog::embedded()?.get("chatglm3-6b")?.clone();
//! // LoRA r=8 on peft's default target for ChatGLM, query_key_value.
//! let scenario = Scenario::new(profile, MethodConfig::new(MethodKind::Lora), Workload::default());
//! let prepared = scenario.prepare()?;
//! // THUDM/ChatGLM3 lora_finetune.ipynb: "trainable params: 1,949,696 || all params: 6,245,533,696"
//! assert_eq!(prepared.method.counts.trainable, 1_949_696);
//! assert_eq!(prepared.method.counts.all, 6_245_533_696);
//! # Ok::<(), peftcost::Error>(())
//! ```

#![warn(missing_docs)]
mod core;

mod bench;
mod cli;
#[doc(hidden)]
pub mod emit;
pub mod http;
mod report;
mod tui;

pub use crate::core::error::{Error, Result};
pub use crate::core::{
    arch, catalogs, data, deploy, estimate, hardware, peft, plan, pricing, spec, units,
};

/// The command line's entry point (used by `src/main.rs`): parse, run, return the exit code.
#[doc(hidden)]
pub fn run_cli() -> i32 {
    cli::main()
}

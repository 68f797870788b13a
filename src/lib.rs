//! peftcost: what parameter-efficient fine-tuning and serving a model will cost.
//!
//! Data flows one way: files -> typed profiles ([`arch`], [`hardware`], [`pricing`]) -> the pure
//! core ([`peft`], [`estimate`]) -> rows -> renderers ([`report`], the TUI). No renderer
//! computes a number, and no core function reads a file or the clock.
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

//! Engine configurations for a chosen job: the files a user runs on the machine peftcost priced
//! (design §2 `emit/`), and the way back — a user's own LLaMA-Factory / axolotl / DeepSpeed file
//! read as a scenario ([`read`]).
//!
//! Pure: [`emit`] turns a [`Job`] (a prepared scenario, the device configuration chosen for it
//! and, where known, the offer it runs on) into named file contents; the CLI writes them. Each
//! engine's keys live in one serde struct used in both directions, so a key is written once.
//!
//! Engine versions targeted (key names checked against their own parsers by
//! `tests/truth/validate_emit.py`): LLaMA-Factory 0.9, axolotl 0.x (pydantic schema), DeepSpeed
//! 0.16+, accelerate 1.x, SkyPilot 0.10+ (`infra:`), peft 0.17+ with transformers.
//!
//! Warts: peftcost prices every sample at the full sequence length, so the emitted trainers pad
//! or cut to it (`cutoff_len`, `sequence_len`); the dataset and the chat template are
//! placeholders the user must set; a learning rate is a convention (1e-4 for adapters, 1e-5 for
//! full fine-tuning), not an estimate.

mod accelerate;
mod axolotl;
mod deepspeed;
mod llamafactory;
pub mod log;
mod peft_script;
pub mod read;
mod skypilot;

use crate::core::arch::{Family, Shape, Task};
use crate::core::error::{Error, Result};
use crate::core::estimate::{Attention, DeviceConfig, Dtype, Optimizer, Prepared};
use crate::core::peft::{peft_module_names, MethodKind};
use crate::core::pricing::JobCost;

/// An engine peftcost writes configurations for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Engine {
    /// LLaMA-Factory train YAML and its launch line.
    Llamafactory,
    /// axolotl YAML and its launch line.
    Axolotl,
    /// A self-contained transformers + peft training script.
    Peft,
    /// DeepSpeed ZeRO JSON.
    Deepspeed,
    /// accelerate config (DeepSpeed or plain multi-GPU).
    Accelerate,
    /// SkyPilot task YAML running the job on the priced offer.
    Skypilot,
}

impl Engine {
    /// Every engine, in the order files are written.
    pub const ALL: [Engine; 6] = [
        Engine::Llamafactory,
        Engine::Axolotl,
        Engine::Peft,
        Engine::Deepspeed,
        Engine::Accelerate,
        Engine::Skypilot,
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Llamafactory => "llamafactory",
            Engine::Axolotl => "axolotl",
            Engine::Peft => "peft",
            Engine::Deepspeed => "deepspeed",
            Engine::Accelerate => "accelerate",
            Engine::Skypilot => "skypilot",
        }
    }

    /// Parse a comma-separated list (`all` = every engine that can express the job).
    pub fn parse_list(s: &str) -> Result<Vec<Engine>> {
        let mut out = Vec::new();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("all") {
                return Ok(Engine::ALL.to_vec());
            }
            let e = Engine::ALL
                .into_iter()
                .find(|e| e.as_str().eq_ignore_ascii_case(name) || alias(name) == Some(*e))
                .ok_or_else(|| {
                    Error::input(format!(
                        "--emit: unknown format '{name}'; choose from {} or all",
                        Engine::ALL.map(Engine::as_str).join(", ")
                    ))
                })?;
            if !out.contains(&e) {
                out.push(e);
            }
        }
        if out.is_empty() {
            return Err(Error::input(
                "--emit needs a format: llamafactory, axolotl, peft, deepspeed, accelerate, skypilot or all",
            ));
        }
        Ok(out)
    }
}

fn alias(name: &str) -> Option<Engine> {
    match name.to_ascii_lowercase().as_str() {
        "llama-factory" | "llama_factory" | "lf" => Some(Engine::Llamafactory),
        "sky" => Some(Engine::Skypilot),
        "ds" => Some(Engine::Deepspeed),
        _ => None,
    }
}

/// What to write configurations for.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// The scenario with the configuration applied ([`DeviceConfig::apply`]).
    pub prepared: &'a Prepared,
    /// The configuration chosen on the device.
    pub config: &'a DeviceConfig,
    /// The hardware profile id the configuration was fitted to.
    pub hardware: &'a str,
    /// The offer it was priced on, if any (SkyPilot needs one).
    pub offer: Option<&'a JobCost>,
    /// One line saying what was estimated, written at the top of each file.
    pub summary: &'a str,
}

/// One file to write.
#[derive(Debug, Clone, PartialEq)]
pub struct EmittedFile {
    /// File name inside the output directory.
    pub name: &'static str,
    /// Its contents.
    pub contents: String,
    /// Whether it is a shell script to mark executable.
    pub executable: bool,
}

/// The files for a job, and what the engines cannot express.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Emitted {
    /// Files in writing order.
    pub files: Vec<EmittedFile>,
    /// Settings of the estimate that an engine's file does not carry (one line each).
    pub notes: Vec<String>,
}

impl Emitted {
    fn push(&mut self, file: EmittedFile) {
        if !self.files.iter().any(|f| f.name == file.name) {
            self.files.push(file);
        }
    }
}

/// The files of `engines` for `job`. Engines pull in what they need: a ZeRO job's trainer
/// brings `ds_config.json`; SkyPilot brings the trainer it launches (LLaMA-Factory where it can
/// express the method, else the peft script).
pub fn emit(job: &Job, engines: &[Engine]) -> Result<Emitted> {
    let facts = Facts::of(job)?;
    let mut out = Emitted::default();
    for &engine in engines {
        match engine {
            Engine::Llamafactory => llamafactory::emit(&facts, &mut out)?,
            Engine::Axolotl => axolotl::emit(&facts, &mut out)?,
            Engine::Peft => peft_script::emit(&facts, &mut out)?,
            Engine::Deepspeed => deepspeed::emit(&facts, &mut out)?,
            Engine::Accelerate => accelerate::emit(&facts, &mut out)?,
            Engine::Skypilot => skypilot::emit(&facts, &mut out)?,
        }
    }
    Ok(out)
}

/// What every engine needs, worked out once.
#[derive(Debug, Clone)]
struct Facts<'a> {
    job: &'a Job<'a>,
    /// Hugging Face repository id, or the local directory of an imported config.json.
    model_path: String,
    /// peftcost's model id (file and run names).
    model_id: String,
    /// Remote-code families (Qwen v1, ChatGLM, MiniCPM) need `trust_remote_code`.
    trust_remote_code: bool,
    method: MethodKind,
    /// peft `target_modules` (`None`: not a LoRA/IA3 method); `["all-linear"]` kept symbolic.
    targets: Option<Vec<String>>,
    /// peft `modules_to_save`.
    modules_to_save: Vec<String>,
    dtype: Dtype,
    /// GPUs in all machines.
    gpus: u64,
    nodes: u64,
    /// Learning rate convention.
    learning_rate: f64,
    output_dir: String,
}

impl<'a> Facts<'a> {
    fn of(job: &'a Job<'a>) -> Result<Self> {
        let p = job.prepared;
        let s = &p.scenario;
        let method = s.method.kind;
        if let Some(r) = p
            .method
            .targets
            .iter()
            .find(|r| matches!(r.module(&p.inventory).shape, Shape::Experts { .. }))
        {
            return Err(Error::input(format!(
                "LoRA on the fused experts '{}' needs peft's target_parameters, which the emitted configs do not write yet: emit with attention targets (e.g. --targets q_proj,k_proj,v_proj,o_proj), or set target_parameters in peft yourself",
                r.module(&p.inventory).name
            )));
        }
        let targets = if method.is_lora() || method == MethodKind::Ia3 {
            let names = &p.method.target_names;
            Some(
                if names.len() == 1 && names[0].eq_ignore_ascii_case("all-linear") {
                    vec!["all-linear".to_string()]
                } else {
                    peft_module_names(&p.inventory, &p.method.targets)
                },
            )
        } else {
            None
        };
        let model_path = if s.profile.hf_repo.is_empty() {
            // An imported config.json: transformers loads the directory it lies in.
            std::path::Path::new(&s.profile.source)
                .parent()
                .map(|d| d.display().to_string())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| ".".into())
        } else {
            s.profile.hf_repo.clone()
        };
        let nodes = job.config.nodes.max(1);
        Ok(Facts {
            job,
            model_path,
            model_id: s.profile.id.clone(),
            trust_remote_code: matches!(
                s.profile.family,
                Family::Qwen
                    | Family::Chatglm
                    | Family::Minicpm
                    | Family::Internlm2
                    | Family::Baichuan
            ),
            method,
            targets,
            modules_to_save: peft_module_names(&p.inventory, &p.method.saved),
            dtype: s.workload.dtype,
            gpus: job.config.gpus.max(1),
            nodes,
            learning_rate: if method == MethodKind::Full {
                1e-5
            } else {
                1e-4
            },
            output_dir: format!("saves/{}/{}", s.profile.id, method.as_str()),
        })
    }

    fn workload(&self) -> &crate::core::estimate::Workload {
        &self.job.prepared.scenario.workload
    }

    fn gpus_per_node(&self) -> u64 {
        (self.gpus / self.nodes).max(1)
    }

    /// The DeepSpeed ZeRO stage (0 under FSDP, which shards without DeepSpeed).
    fn zero(&self) -> u8 {
        if self.fsdp() {
            0
        } else {
            self.job.config.zero
        }
    }

    /// FSDP `FULL_SHARD` runs the job.
    fn fsdp(&self) -> bool {
        self.job.config.fsdp && self.gpus > 1
    }

    /// What the sharding engine keeps in host RAM.
    fn offload(&self) -> crate::core::estimate::Offload {
        self.job.config.offload
    }

    /// The files start with what they were made from.
    fn header(&self, comment: &str) -> String {
        format!(
            "{comment} Written by peftcost {} for {}\n{comment} Set the dataset (and template) before running; peftcost priced every sample at {} tokens.\n",
            env!("CARGO_PKG_VERSION"),
            self.job.summary,
            self.workload().seq_len,
        )
    }

    /// The HF `optim` name of the optimizer.
    /// Whether accelerate's `sync_each_batch` changes this job (the core's rule).
    fn syncs_each_batch(&self) -> bool {
        self.workload().sync_each_batch_applies()
    }

    fn hf_optim(&self) -> &'static str {
        match self.workload().optimizer {
            Optimizer::Adamw => "adamw_torch",
            Optimizer::AdamwFused => "adamw_torch_fused",
            Optimizer::Adamw8bit => "adamw_bnb_8bit",
            Optimizer::PagedAdamw8bit => "paged_adamw_8bit",
            Optimizer::Sgd => "sgd",
            Optimizer::Adafactor => "adafactor",
        }
    }

    fn is_causal(&self) -> bool {
        self.job.prepared.scenario.task == Task::CausalLm
    }

    fn attention(&self) -> Attention {
        self.workload().attention
    }

    /// An error saying `engine` cannot express the job, and what to use instead.
    fn unsupported(&self, engine: &str, what: &str) -> Error {
        Error::input(format!(
            "{engine} cannot express {what}; use --emit peft (a transformers + peft script) instead"
        ))
    }
}

/// YAML of a serde value, with a header comment.
fn yaml<T: serde::Serialize>(header: &str, value: &T) -> Result<String> {
    let body = serde_norway::to_string(value)
        .map_err(|e| Error::Internal(format!("writing YAML: {e}")))?;
    Ok(format!("{header}{}", quote_yaml11_words(&body)))
}

/// The engines read YAML with PyYAML, which follows YAML 1.1: there a bare `NO`, `off` or `y` is
/// a boolean, so accelerate's `distributed_type: NO` would arrive as `False`. serde_norway
/// writes YAML 1.2, where they are strings; quote them. Real booleans are written `true` /
/// `false` and are left alone.
fn quote_yaml11_words(body: &str) -> String {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ];
    let mut out = String::with_capacity(body.len() + 8);
    for line in body.split_inclusive('\n') {
        let (text, end) = match line.strip_suffix('\n') {
            Some(t) => (t, "\n"),
            None => (line, ""),
        };
        let split = text.rfind(": ").map(|i| i + 2).or_else(|| {
            text.trim_start()
                .starts_with("- ")
                .then(|| text.find("- ").map(|i| i + 2))
                .flatten()
        });
        match split {
            Some(i) if WORDS.contains(&&text[i..]) => {
                out.push_str(&text[..i]);
                out.push('\'');
                out.push_str(&text[i..]);
                out.push('\'');
            }
            _ => out.push_str(text),
        }
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests;

/// The node rank and first machine of a job started by hand (SkyPilot sets its own).
const NODE_RANK: &str = "\"${NODE_RANK:?set NODE_RANK: 0 on the first machine}\"";
const MASTER_ADDR: &str = "\"${MASTER_ADDR:?set MASTER_ADDR to the first machine}\"";

/// A YAML trainer's files: its config, its launch script, and the DeepSpeed file of a ZeRO job.
fn trainer_files<T: serde::Serialize>(
    f: &Facts,
    out: &mut Emitted,
    (name, cfg): (&'static str, &T),
    (launch_name, command): (&'static str, String),
) -> Result<()> {
    out.push(EmittedFile {
        name,
        contents: yaml(&f.header("#"), cfg)?,
        executable: false,
    });
    out.push(script(f, launch_name, command));
    if f.zero() > 0 {
        deepspeed::emit(f, out)?;
    }
    if f.fsdp() && name == llamafactory::CONFIG {
        accelerate::emit(f, out)?;
    }
    Ok(())
}

/// A launch script: `command`, run from the directory the files were written to.
fn script(f: &Facts, name: &'static str, command: String) -> EmittedFile {
    EmittedFile {
        name,
        contents: format!(
            "#!/bin/sh\n{}set -eu\ncd \"$(dirname \"$0\")\"\n{command}\n",
            f.header("#")
        ),
        executable: true,
    }
}

//! SkyPilot: a task YAML that runs the job on the offer peftcost priced.
//!
//! Keys from SkyPilot's `docs/source/reference/yaml-spec.rst` (`resources.infra`, `accelerators`,
//! `instance_type`, `use_spot`, `disk_size`, `num_nodes`) and its distributed-jobs guide
//! (`SKYPILOT_NODE_RANK`, `SKYPILOT_NODE_IPS`) (reference anchors-2026 §3.6). Accelerator names
//! are SkyPilot's catalogue names, not peftcost's hardware ids.
//!
//! Wart: SkyPilot has no Alibaba Cloud, AutoDL or Chinese rental provider; those offers are
//! refused with a pointer to the trainer files, which run there by hand.

use serde::Serialize;

use super::{deepspeed, llamafactory, peft_script, yaml, Emitted, EmittedFile, Facts};
use crate::core::error::{Error, Result};
use crate::core::pricing::Billing;

/// The file name.
pub const CONFIG: &str = "skypilot.yaml";

/// SkyPilot's cloud name for a peftcost provider id.
fn cloud(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "aws" => "aws",
        "gcp" => "gcp",
        "azure" => "azure",
        "lambda" => "lambda",
        "runpod" => "runpod",
        _ => return None,
    })
}

/// SkyPilot's accelerator name for a peftcost hardware id (its catalogue names: `T4`, `A10G`,
/// `A100` = 40 GB, `A100-80GB`, `H100`, `H200`, `V100`, `V100-32GB`, `L4`, `L40S`, `RTX4090`).
fn accelerator(hardware: &str) -> Option<&'static str> {
    Some(match hardware {
        "t4" => "T4",
        "a10" => "A10",
        "a10g" => "A10G",
        "l4" => "L4",
        "l40s" => "L40S",
        "a30" => "A30",
        "v100-16g" => "V100",
        "v100-32g" => "V100-32GB",
        "a100-40g" | "a100-40g-pcie" => "A100",
        "a100-80g" | "a100-80g-pcie" => "A100-80GB",
        "h100-sxm" | "h100-pcie" => "H100",
        "h200" => "H200",
        "rtx3090" => "RTX3090",
        "rtx4090" => "RTX4090",
        _ => return None,
    })
}

#[derive(Debug, Serialize)]
struct Task {
    name: String,
    num_nodes: u64,
    resources: Resources,
    workdir: &'static str,
    setup: String,
    run: String,
}

#[derive(Debug, Serialize)]
struct Resources {
    infra: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    accelerators: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpus: Option<String>,
    instance_type: String,
    use_spot: bool,
    disk_size: u64,
}

/// Disk for the OS and environment (50 GB), the base weights as downloaded and as exported
/// (full fine-tuning and merged adapters), in GB rounded up to 50.
fn disk_gb(f: &Facts) -> u64 {
    let weights_gb = f.job.prepared.inventory.total_params() as f64 * 2.0 / 1e9;
    let need = 50.0 + 2.0 * weights_gb;
    ((need / 50.0).ceil() as u64 * 50).max(100)
}

pub(super) fn emit(f: &Facts, out: &mut Emitted) -> Result<()> {
    let offer = f.job.offer.ok_or_else(|| {
        Error::input(format!(
            "--emit skypilot needs an offer to run on, and no priced offer of {} matches the filters (check --provider/--region/--billing)",
            f.job.hardware
        ))
    })?;
    let cloud = cloud(&offer.provider).ok_or_else(|| {
        Error::input(format!(
            "--emit skypilot: SkyPilot cannot launch on {} (it supports aws, gcp, azure, lambda, runpod here); choose one with --provider, or run the trainer files by hand there",
            offer.provider
        ))
    })?;
    let cpu = offer.hardware.starts_with("cpu");
    let accelerators = if cpu {
        None
    } else {
        let name = accelerator(&offer.hardware).ok_or_else(|| {
            Error::input(format!(
                "--emit skypilot: SkyPilot has no accelerator for hardware '{}'",
                offer.hardware
            ))
        })?;
        Some(format!("{name}:{}", f.gpus_per_node()))
    };
    // The trainer it launches: LLaMA-Factory where it can express the job, else the peft script.
    let (setup, command) = match llamafactory::config(f) {
        Ok(_) => {
            llamafactory::emit(f, out)?;
            (
                format!(
                    "pip install \"llamafactory[torch,metrics{}]\"",
                    if f.zero() > 0 { ",deepspeed" } else { "" }
                ),
                llamafactory::launch(f, "$SKYPILOT_NODE_RANK", "$MASTER_ADDR"),
            )
        }
        Err(_) => {
            peft_script::emit(f, out)?;
            let mut pkgs = vec!["torch", "transformers", "peft", "datasets", "accelerate"];
            if f.method == crate::core::peft::MethodKind::Qlora {
                pkgs.push("bitsandbytes");
            }
            if f.method == crate::core::peft::MethodKind::Adapter {
                pkgs.push("adapters");
            }
            if f.zero() > 0 {
                pkgs.push("deepspeed");
            }
            (
                format!("pip install {}", pkgs.join(" ")),
                peft_script::launch(f, "$SKYPILOT_NODE_RANK", "$MASTER_ADDR"),
            )
        }
    };
    let region = if offer.region.is_empty() || offer.region == "unspecified" {
        String::new()
    } else {
        format!("/{}", offer.region)
    };
    let task = Task {
        name: format!("peftcost-{}-{}", f.model_id, f.method.as_str()).replace('.', "-"),
        num_nodes: f.nodes,
        resources: Resources {
            infra: format!("{cloud}{region}"),
            accelerators,
            cpus: cpu.then(|| "16+".into()),
            instance_type: offer.instance.clone(),
            use_spot: offer.billing == Billing::Spot,
            disk_size: disk_gb(f),
        },
        workdir: ".",
        setup,
        run: format!("MASTER_ADDR=$(echo \"$SKYPILOT_NODE_IPS\" | head -n1)\n{command}\n"),
    };
    let header = format!(
        "{}# Priced: {} {} {} at {} {}/h; `sky launch {CONFIG}` from this directory.\n",
        f.header("#"),
        offer.provider,
        offer.instance,
        offer.billing.as_str(),
        offer.price_per_hour,
        offer.currency
    );
    out.push(EmittedFile {
        name: CONFIG,
        contents: yaml(&header, &task)?,
        executable: false,
    });
    if f.zero() > 0 {
        deepspeed::emit(f, out)?;
    }
    Ok(())
}

//! accelerate: the config of `accelerate launch --config_file accelerate.yaml`.
//!
//! Keys from accelerate's `ClusterConfig` as LLaMA-Factory's `examples/accelerate/*.yaml` and the
//! HF DeepSpeed integration docs write them (reference anchors-2026 §3.4). A ZeRO job runs
//! through DeepSpeed with `ds_config.json`; an FSDP one with accelerate's `fsdp_config`; a
//! plain data-parallel one as `MULTI_GPU`.

use serde::Serialize;

use super::{deepspeed, yaml, Emitted, EmittedFile, Facts};
use crate::core::error::Result;
use crate::core::estimate::Dtype;

/// The file name.
pub const CONFIG: &str = "accelerate.yaml";

#[derive(Debug, Serialize)]
struct Config {
    compute_environment: &'static str,
    distributed_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    deepspeed_config: Option<DeepspeedSection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fsdp_config: Option<FsdpSection>,
    machine_rank: u64,
    main_process_port: u64,
    main_training_function: &'static str,
    /// Left out under DeepSpeed: accelerate refuses it next to `deepspeed_config_file` (the
    /// DeepSpeed file carries the precision).
    #[serde(skip_serializing_if = "Option::is_none")]
    mixed_precision: Option<&'static str>,
    num_machines: u64,
    /// Processes in all machines (one per GPU).
    num_processes: u64,
    rdzv_backend: &'static str,
    same_network: bool,
    use_cpu: bool,
}

#[derive(Debug, Serialize)]
struct DeepspeedSection {
    deepspeed_config_file: &'static str,
    zero3_init_flag: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    deepspeed_multinode_launcher: Option<&'static str>,
}

/// accelerate's FSDP keys as LLaMA-Factory's `examples/accelerate/fsdp_config.yaml` writes
/// them: a unit per decoder layer (the model's `_no_split_modules`), the next unit prefetched
/// in backward, FULL_SHARD: what the estimate models.
#[derive(Debug, Serialize)]
struct FsdpSection {
    fsdp_auto_wrap_policy: &'static str,
    fsdp_backward_prefetch: &'static str,
    fsdp_forward_prefetch: bool,
    fsdp_cpu_ram_efficient_loading: bool,
    fsdp_offload_params: bool,
    fsdp_sharding_strategy: &'static str,
    fsdp_state_dict_type: &'static str,
    fsdp_sync_module_states: bool,
    fsdp_use_orig_params: bool,
}

pub(super) fn emit(f: &Facts, out: &mut Emitted) -> Result<()> {
    let zero = f.zero() > 0;
    let cfg = Config {
        compute_environment: "LOCAL_MACHINE",
        distributed_type: match (zero, f.fsdp(), f.gpus > 1) {
            (true, _, _) => "DEEPSPEED",
            (false, true, _) => "FSDP",
            (false, false, true) => "MULTI_GPU",
            (false, false, false) => "NO",
        },
        fsdp_config: f.fsdp().then(|| FsdpSection {
            fsdp_auto_wrap_policy: "TRANSFORMER_BASED_WRAP",
            fsdp_backward_prefetch: "BACKWARD_PRE",
            fsdp_forward_prefetch: false,
            fsdp_cpu_ram_efficient_loading: true,
            fsdp_offload_params: f.offload() == crate::core::estimate::Offload::Params,
            fsdp_sharding_strategy: "FULL_SHARD",
            fsdp_state_dict_type: "FULL_STATE_DICT",
            fsdp_sync_module_states: true,
            fsdp_use_orig_params: true,
        }),
        deepspeed_config: zero.then(|| DeepspeedSection {
            deepspeed_config_file: deepspeed::CONFIG,
            zero3_init_flag: f.zero() == 3,
            deepspeed_multinode_launcher: (f.nodes > 1).then_some("standard"),
        }),
        machine_rank: 0,
        main_process_port: 29500,
        main_training_function: "main",
        mixed_precision: (!zero).then_some(match f.dtype {
            Dtype::Bf16 => "bf16",
            Dtype::Fp16 => "fp16",
            Dtype::Fp32 => "no",
        }),
        num_machines: f.nodes,
        num_processes: f.gpus,
        rdzv_backend: "static",
        same_network: true,
        use_cpu: false,
    };
    out.push(EmittedFile {
        name: CONFIG,
        contents: yaml(&f.header("#"), &cfg)?,
        executable: false,
    });
    if zero {
        deepspeed::emit(f, out)?;
    }
    Ok(())
}

/// `accelerate launch` of `script` on every machine of the job.
pub(super) fn launch(f: &Facts, script: &str, node_rank: &str, master_addr: &str) -> String {
    if f.nodes > 1 {
        format!(
            "accelerate launch --config_file {CONFIG} --machine_rank {node_rank} --main_process_ip {master_addr} {script}"
        )
    } else {
        format!("accelerate launch --config_file {CONFIG} {script}")
    }
}

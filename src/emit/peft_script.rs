//! A self-contained transformers + peft training script, for every method (the YAML trainers
//! cannot express prompt, prefix, P-tuning, IA3 or bottleneck adapters).
//!
//! Config classes and arguments are peft's (`LoraConfig`, `PromptTuningConfig`,
//! `PrefixTuningConfig`, `PromptEncoderConfig`, `IA3Config`); bottleneck adapters are the
//! AdapterHub `adapters` library's (`SeqBnConfig` = Pfeiffer, `DoubleSeqBnConfig` = Houlsby),
//! not peft's. The script pads every sample to the sequence length, as peftcost prices it.
//!
//! Wart: a feature-extraction (embedding) model needs a contrastive trainer, which a generic
//! script cannot choose; it is refused with a pointer.

use super::{accelerate, deepspeed, Emitted, EmittedFile, Facts};
use crate::core::arch::Task;
use crate::core::error::{Error, Result};
use crate::core::estimate::{Attention, Dtype};
use crate::core::peft::{AdapterStyle, LoraBias, MethodKind};

/// The file names this engine writes.
pub const SCRIPT: &str = "train_peft.py";
const LAUNCH: &str = "run_peft.sh";

/// A Python string literal (JSON's escapes are Python's).
fn py_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn py_list(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter().map(|s| py_str(s)).collect::<Vec<_>>().join(", ")
    )
}

/// A Python number literal.
fn py_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:e}")
    }
}

/// The body of `build_peft_config()`.
fn config_body(f: &Facts) -> Result<String> {
    let p = f.job.prepared;
    let m = &p.scenario.method;
    let task = match p.scenario.task {
        Task::CausalLm => "TaskType.CAUSAL_LM",
        Task::SeqCls => "TaskType.SEQ_CLS",
        Task::FeatureExtraction => "TaskType.FEATURE_EXTRACTION",
    };
    let targets = || -> String {
        match &f.targets {
            Some(t) if t.len() == 1 && t[0] == "all-linear" => py_str("all-linear"),
            Some(t) => py_list(t),
            None => "None".into(),
        }
    };
    let saved = if f.modules_to_save.is_empty() {
        "None".to_string()
    } else {
        py_list(&f.modules_to_save)
    };
    Ok(match f.method {
        MethodKind::Lora | MethodKind::Dora | MethodKind::Qlora => format!(
            "    from peft import LoraConfig, TaskType\n\n    return LoraConfig(\n        task_type={task},\n        r={},\n        lora_alpha={},\n        target_modules={},\n        bias={},\n        modules_to_save={saved},\n        use_dora={},\n    )\n",
            m.rank,
            py_num(m.alpha),
            targets(),
            py_str(match m.lora_bias {
                LoraBias::None => "none",
                LoraBias::All => "all",
                LoraBias::LoraOnly => "lora_only",
            }),
            py_bool(f.method == MethodKind::Dora),
        ),
        MethodKind::Prompt => format!(
            "    from peft import PromptTuningConfig, TaskType\n\n    return PromptTuningConfig(task_type={task}, num_virtual_tokens={})\n",
            m.virtual_tokens
        ),
        MethodKind::Prefix => format!(
            "    from peft import PrefixTuningConfig, TaskType\n\n    return PrefixTuningConfig(\n        task_type={task},\n        num_virtual_tokens={},\n        prefix_projection={},\n        encoder_hidden_size={},\n    )\n",
            m.virtual_tokens,
            py_bool(m.prefix_projection),
            m.encoder_hidden.unwrap_or(p.scenario.profile.hidden_size),
        ),
        MethodKind::Ptuning => format!(
            "    from peft import PromptEncoderConfig, TaskType\n\n    return PromptEncoderConfig(\n        task_type={task},\n        num_virtual_tokens={},\n        encoder_hidden_size={},\n    )\n",
            m.virtual_tokens,
            m.encoder_hidden.unwrap_or(p.scenario.profile.hidden_size),
        ),
        MethodKind::Ia3 => {
            let ff = m
                .feedforward_modules
                .as_ref()
                .map(|v| py_list(v))
                .unwrap_or_else(|| "None".into());
            format!(
                "    from peft import IA3Config, TaskType\n\n    return IA3Config(task_type={task}, target_modules={}, feedforward_modules={ff})\n",
                targets()
            )
        }
        MethodKind::Adapter => {
            let class = match m.adapter_style {
                AdapterStyle::Pfeiffer => "SeqBnConfig",
                AdapterStyle::Houlsby => "DoubleSeqBnConfig",
            };
            let factor = p.scenario.profile.hidden_size as f64 / p.method.bottleneck.max(1) as f64;
            format!(
                "    # A bottleneck of {} = hidden size / reduction factor (AdapterHub `adapters`).\n    from adapters import {class}\n\n    return {class}(reduction_factor={})\n",
                p.method.bottleneck,
                py_num(factor)
            )
        }
        MethodKind::Full => "    return None  # full fine-tuning: every weight trains\n".into(),
    })
}

/// How the adapter is attached in `main()`.
fn attach(method: MethodKind) -> &'static str {
    match method {
        MethodKind::Full => "",
        MethodKind::Adapter => {
            "    import adapters\n\n    adapters.init(model)\n    model.add_adapter(\"peftcost\", config=build_peft_config())\n    model.train_adapter(\"peftcost\")\n"
        }
        _ => {
            "    from peft import get_peft_model\n\n    model = get_peft_model(model, build_peft_config())\n    model.print_trainable_parameters()\n"
        }
    }
}

fn script(f: &Facts, launch: &str) -> Result<String> {
    let p = f.job.prepared;
    let s = &p.scenario;
    let w = f.workload();
    let (auto_class, labels) = match s.task {
        Task::CausalLm => ("AutoModelForCausalLM", LABELS_CAUSAL),
        Task::SeqCls => ("AutoModelForSequenceClassification", LABELS_CLASSES),
        Task::FeatureExtraction => {
            return Err(Error::input(
                "--emit peft: a feature-extraction (embedding) model needs a contrastive trainer (e.g. sentence-transformers); estimate it with --task seq-cls to get a classification script",
            ))
        }
    };
    let head = if s.task == Task::SeqCls {
        format!(", num_labels={}", s.num_labels)
    } else {
        String::new()
    };
    let header: String = f.header("#");
    Ok(format!(
        r#"#!/usr/bin/env python3
{header}"""Fine-tune {model} with {method}, configured as peftcost estimated it.

Data: a JSON-lines file with a "text" field per line{label_doc}, named by $PEFTCOST_DATA
(default data.jsonl). Needs torch, transformers, peft, datasets, accelerate{extra}.
Run: {launch}
"""
import os

METHOD = {method_str}
MODEL = {model_path}
TRUST_REMOTE_CODE = {trust}
SEQ_LEN = {seq_len}
MICRO_BATCH = {micro_batch}
GRAD_ACCUM = {grad_accum}
EPOCHS = {epochs}
LEARNING_RATE = {lr}
DTYPE = {dtype}
GRADIENT_CHECKPOINTING = {gc}
ATTENTION = {attention}
OPTIM = {optim}
QUANTIZE_4BIT = {qlora}
DEEPSPEED = {deepspeed}
# accelerate's sync_each_batch: reduce gradients every micro-batch (else FSDP accumulates them
# unsharded under no_sync until the step's last).
SYNC_EACH_BATCH = {sync_each_batch}
OUTPUT_DIR = {output_dir}
DATA = os.environ.get("PEFTCOST_DATA", "data.jsonl")


def build_peft_config():
    """The method peftcost counted the trainable parameters of."""
{config}

def main():
    import torch
    from datasets import load_dataset
    from transformers import AutoTokenizer, {auto_class}, Trainer, TrainingArguments

    dtype = getattr(torch, DTYPE)
    tokenizer = AutoTokenizer.from_pretrained(MODEL, trust_remote_code=TRUST_REMOTE_CODE)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    load = dict(dtype=dtype, trust_remote_code=TRUST_REMOTE_CODE, attn_implementation=ATTENTION)
    if QUANTIZE_4BIT:
        from transformers import BitsAndBytesConfig

        load["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype,
        )
    model = {auto_class}.from_pretrained(MODEL{head}, **load)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if QUANTIZE_4BIT:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=GRADIENT_CHECKPOINTING)
{attach}
    def tokenize(batch):
        out = tokenizer(batch["text"], truncation=True, max_length=SEQ_LEN, padding="max_length")
{labels}        return out

    data = load_dataset("json", data_files=DATA, split="train")
    data = data.map(tokenize, batched=True, remove_columns=data.column_names)
    args = TrainingArguments(
        output_dir=OUTPUT_DIR,
        per_device_train_batch_size=MICRO_BATCH,
        gradient_accumulation_steps=GRAD_ACCUM,
        num_train_epochs=EPOCHS,
        learning_rate=LEARNING_RATE,
        lr_scheduler_type="cosine",
        warmup_ratio=0.1,
        bf16=DTYPE == "bfloat16",
        fp16=DTYPE == "float16",
        gradient_checkpointing=GRADIENT_CHECKPOINTING,
        gradient_checkpointing_kwargs={{"use_reentrant": False}},
        optim=OPTIM,
        deepspeed=DEEPSPEED,
        accelerator_config={{"gradient_accumulation_kwargs": {{"sync_each_batch": SYNC_EACH_BATCH}}}},
        logging_steps=10,
        save_strategy="epoch",
        report_to="none",
    )
    Trainer(model=model, args=args, train_dataset=data).train()
    model.save_pretrained(OUTPUT_DIR)


if __name__ == "__main__":
    main()
"#,
        model = s.profile.id,
        method = f.method.as_str(),
        label_doc = if s.task == Task::SeqCls {
            " and an integer \"label\""
        } else {
            ""
        },
        extra = match f.method {
            MethodKind::Qlora => ", bitsandbytes",
            MethodKind::Adapter => ", adapters",
            _ => "",
        },
        method_str = py_str(f.method.as_str()),
        model_path = py_str(&f.model_path),
        trust = py_bool(f.trust_remote_code),
        seq_len = w.seq_len,
        micro_batch = w.micro_batch,
        grad_accum = w.grad_accum,
        epochs = w.epochs,
        lr = py_num(f.learning_rate),
        dtype = py_str(match f.dtype {
            Dtype::Bf16 => "bfloat16",
            Dtype::Fp16 => "float16",
            Dtype::Fp32 => "float32",
        }),
        gc = py_bool(w.grad_checkpointing),
        attention = py_str(match f.attention() {
            Attention::Sdpa => "sdpa",
            Attention::Eager => "eager",
        }),
        optim = py_str(f.hf_optim()),
        qlora = py_bool(f.method == MethodKind::Qlora),
        deepspeed = if f.zero() > 0 {
            py_str(deepspeed::CONFIG)
        } else {
            "None".into()
        },
        sync_each_batch = py_bool(f.syncs_each_batch()),
        output_dir = py_str(&f.output_dir),
        config = config_body(f)?,
        attach = attach(f.method),
    ))
}

const LABELS_CAUSAL: &str = "        # The loss covers real tokens only, not the padding.\n        out[\"labels\"] = [\n            [t if m else -100 for t, m in zip(ids, mask)]\n            for ids, mask in zip(out[\"input_ids\"], out[\"attention_mask\"])\n        ]\n";
const LABELS_CLASSES: &str = "        out[\"labels\"] = batch[\"label\"]\n";

/// The command that starts training from the output directory on every machine of the job.
pub(super) fn launch(f: &Facts, node_rank: &str, master_addr: &str) -> String {
    if f.gpus > 1 {
        accelerate::launch(f, SCRIPT, node_rank, master_addr)
    } else {
        format!("python {SCRIPT}")
    }
}

pub(super) fn emit(f: &Facts, out: &mut Emitted) -> Result<()> {
    let command = launch(f, super::NODE_RANK, super::MASTER_ADDR);
    out.push(EmittedFile {
        name: SCRIPT,
        contents: script(f, &command)?,
        executable: false,
    });
    out.push(super::script(f, LAUNCH, command));
    if f.gpus > 1 {
        accelerate::emit(f, out)?;
    } else if f.zero() > 0 {
        deepspeed::emit(f, out)?;
    }
    Ok(())
}

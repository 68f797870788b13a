#!/usr/bin/env python3
"""peft's own trainable/all counts for 2026's models, built from their config.json on PyTorch's
meta device (no weights, seconds on a CPU): the ground truth of tests/it/params.rs's 2026 cases.

  python3 tests/truth/peft_counts_2026.py > tests/truth/peft_counts_2026.json

Needs torch, transformers and peft (not in CI; versions are recorded in the output). Cases per
model: full fine-tuning, LoRA r=8 on peft's default targets (or the ones named where peft has
none), on the attention projections, on all linears ("all-linear"), IA3 on peft's defaults, and
prompt tuning with 20 virtual tokens.
"""
import json
import os
import sys

import peft
import torch
import transformers
from peft import IA3Config, LoraConfig, PromptTuningConfig, TaskType, get_peft_model
from transformers import AutoConfig, AutoModelForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ["llama-3.2-3b", "qwen2.5-14b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b", "phi-3-mini-4k",
          "gemma-2-9b", "gemma-3-12b"]
# Mixtures of experts: transformers v5 fuses each block's experts into 3-D parameters
# (mlp.experts.gate_up_proj, mlp.experts.down_proj) that target_modules cannot reach; peft's
# target_parameters wraps them. "all-linear" is left out: on these layouts peft 0.21.2 also wraps
# the fused experts, at twice the rank on gate_up_proj, which no other case does.
MOE_MODELS = ["qwen3-30b-a3b", "mixtral-8x7b", "qwen1.5-moe-a2.7b"]
EXPERTS = ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]
SHARED = ["shared_expert.gate_proj", "shared_expert.up_proj", "shared_expert.down_proj"]
# The attention projections by layout; phi3 fuses q, k and v into qkv_proj.
ATTENTION = {"phi3": ["qkv_proj", "o_proj"]}
DEFAULT_ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]
# peft 0.21 has no LoRA/IA3 default for phi3: the fused projection, as LLaMA-Factory's docs do.
NO_DEFAULT = {"phi3": {"lora": ["qkv_proj"], "ia3": (["qkv_proj", "down_proj"], ["down_proj"])}}


def config(name):
    """The model's config; a multimodal one's text_config (peftcost models the language model)."""
    with open(os.path.join(HERE, "configs", f"{name}.json")) as f:
        raw = json.load(f)
    text = raw.get("text_config")
    if text:
        text = dict(text)
        return AutoConfig.for_model(text.pop("model_type"), **text)
    return AutoConfig.from_pretrained(os.path.join(HERE, "configs", f"{name}.json"))


def build(name):
    cfg = config(name)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(cfg)
    return cfg, model


def counts(name, make):
    cfg, model = build(name)
    if make is None:
        n = sum(p.numel() for p in model.parameters())
        return {"trainable": n, "all": n}
    m = get_peft_model(model, make(cfg))
    trainable, total = m.get_nb_trainable_parameters()
    return {"trainable": trainable, "all": total}


def cases(name):
    cfg = config(name)
    mt = cfg.model_type
    lora_default = NO_DEFAULT.get(mt, {}).get("lora")
    ia3 = NO_DEFAULT.get(mt, {}).get("ia3")
    out = {
        "full": (None, None),
        "lora-default": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=lora_default, task_type=TaskType.CAUSAL_LM), lora_default),
        "lora-attention": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=ATTENTION.get(mt, DEFAULT_ATTENTION), task_type=TaskType.CAUSAL_LM), ATTENTION.get(mt, DEFAULT_ATTENTION)),
        "lora-all-linear": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type=TaskType.CAUSAL_LM), "all-linear"),
        "ia3-default": (lambda c: IA3Config(target_modules=ia3[0] if ia3 else None, feedforward_modules=ia3[1] if ia3 else None, task_type=TaskType.CAUSAL_LM), ia3[0] if ia3 else None),
        "prompt-20": (lambda c: PromptTuningConfig(num_virtual_tokens=20, task_type=TaskType.CAUSAL_LM), None),
    }
    rows = {}
    for case, (make, targets) in out.items():
        r = counts(name, make)
        r["targets"] = targets
        rows[case] = r
    return mt, rows


def moe_cases(name):
    cfg = config(name)
    qv = ["q_proj", "v_proj"]
    out = {
        "full": (None, None),
        "lora-default": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=qv, task_type=TaskType.CAUSAL_LM), qv),
        "lora-attention": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=DEFAULT_ATTENTION, task_type=TaskType.CAUSAL_LM), DEFAULT_ATTENTION),
        "lora-experts": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=[], target_parameters=EXPERTS, task_type=TaskType.CAUSAL_LM), ["experts.gate_up_proj", "experts.down_proj"]),
        # transformers' Qwen2MoeTopKRouter is no nn.Linear and peft refuses it; qwen2_moe's shared
        # expert is made of Linears instead.
        "lora-router": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=["gate"], task_type=TaskType.CAUSAL_LM), ["gate"])
        if cfg.model_type != "qwen2_moe" else
        (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=SHARED, task_type=TaskType.CAUSAL_LM), SHARED),
        "ia3-default": (lambda c: IA3Config(target_modules=["k_proj", "v_proj"], feedforward_modules=[], task_type=TaskType.CAUSAL_LM), None),
        "prompt-20": (lambda c: PromptTuningConfig(num_virtual_tokens=20, task_type=TaskType.CAUSAL_LM), None),
    }
    if cfg.model_type == "qwen2_moe":
        out["lora-shared-expert"] = out.pop("lora-router")
    rows = {}
    for case, (make, targets) in out.items():
        r = counts(name, make)
        r["targets"] = targets
        rows[case] = r
    return cfg.model_type, rows


def main():
    result = {
        "schema": "peftcost-peft-counts/1",
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "transformers": transformers.__version__, "peft": peft.__version__},
        "lora": {"r": 8, "lora_alpha": 16},
        "models": {},
    }
    for name in MODELS:
        mt, rows = cases(name)
        result["models"][name] = {"config_file": f"configs/{name}.json", "model_type": mt, "cases": rows}
    for name in MOE_MODELS:
        mt, rows = moe_cases(name)
        result["models"][name] = {"config_file": f"configs/{name}.json", "model_type": mt, "cases": rows}
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

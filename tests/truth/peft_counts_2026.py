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
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ["llama-3.2-3b", "qwen2.5-14b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b", "phi-3-mini-4k",
          "gemma-2-9b", "gemma-3-12b", "minicpm3-4b", "glm-4-9b-chat-hf", "glm4-layout-test"]
# Configs that test a layout, not a published model: no embedded profile stands behind them.
LAYOUT_TESTS = ["glm4-layout-test"]
# Encoders, loaded as the bare model (AutoModel, peft's FEATURE_EXTRACTION).
ENCODERS = ["bge-m3"]
# Mixtures of experts: transformers v5 fuses each block's experts into 3-D parameters
# (mlp.experts.gate_up_proj, mlp.experts.down_proj) that target_modules cannot reach; peft's
# target_parameters wraps them. "all-linear" is left out: on these layouts peft 0.21.2 also wraps
# the fused experts, at twice the rank on gate_up_proj, which no other case does.
MOE_MODELS = ["qwen3-30b-a3b", "mixtral-8x7b", "qwen1.5-moe-a2.7b", "deepseek-v2-lite", "deepseek-v3"]
EXPERTS = ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]
SHARED = ["shared_expert.gate_proj", "shared_expert.up_proj", "shared_expert.down_proj"]
# The attention projections by layout; phi3 fuses q, k and v into qkv_proj; latent attention
# (deepseek, minicpm3) projects through low-rank latents.
MLA = ["q_proj", "q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"]
ATTENTION = {"phi3": ["qkv_proj", "o_proj"], "minicpm3": MLA, "deepseek_v2": MLA, "deepseek_v3": MLA}
DEFAULT_ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]
# peft 0.21 has no LoRA/IA3 default for phi3: the fused projection, as LLaMA-Factory's docs do.
# peft 0.21 has no default either for minicpm3 or glm: peftcost's choices (src/core/peft/mod.rs).
NO_DEFAULT = {"phi3": {"lora": ["qkv_proj"], "ia3": (["qkv_proj", "down_proj"], ["down_proj"])},
              "minicpm3": {"lora": ["q_b_proj", "kv_b_proj"], "ia3": (["kv_b_proj", "down_proj"], ["down_proj"])},
              "glm": {"lora": ["q_proj", "v_proj"], "ia3": (["k_proj", "v_proj", "down_proj"], ["down_proj"])},
              "glm4": {"lora": ["q_proj", "v_proj"], "ia3": (["k_proj", "v_proj", "down_proj"], ["down_proj"])}}
# Latent-attention MoE defaults: the query projection (q_proj without a query latent, q_b_proj
# with one) and kv_b_proj.
MOE_DEFAULT = {"deepseek_v2": None, "deepseek_v3": None}


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
        if name in ENCODERS:
            model = AutoModel.from_config(cfg)
        else:
            model = AutoModelForCausalLM.from_config(cfg)
    return cfg, model


def present(name, targets):
    """The targets some module of the model has (peft skips the others when one matches; peftcost
    refuses a name that matches nothing, so the JSON records only the present ones)."""
    _, model = build(name)
    leaves = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    return [t for t in targets if t in leaves]


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
    attention = present(name, ATTENTION.get(mt, DEFAULT_ATTENTION))
    out = {
        "full": (None, None),
        "lora-default": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=lora_default, task_type=TaskType.CAUSAL_LM), lora_default),
        "lora-attention": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=attention, task_type=TaskType.CAUSAL_LM), attention),
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


def encoder_cases(name):
    cfg = config(name)
    task = TaskType.FEATURE_EXTRACTION
    qv = ["query", "value"]
    out = {
        "full": (None, None),
        "lora-default": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=qv, task_type=task), qv),
        "lora-attention": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=["query", "key", "value", "attention.output.dense"], task_type=task), ["query", "key", "value", "attention.output.dense"]),
        "lora-all-linear": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type=task), "all-linear"),
        # peft 0.21 has no IA3 default for xlm-roberta: BERT's, as peftcost uses.
        "ia3-default": (lambda c: IA3Config(target_modules=["key", "value", "output.dense"], feedforward_modules=["output.dense"], task_type=task), None),
    }
    rows = {}
    for case, (make, targets) in out.items():
        r = counts(name, make)
        r["targets"] = targets
        rows[case] = r
    return cfg.model_type, rows


def moe_cases(name):
    cfg = config(name)
    mt = cfg.model_type
    latent = mt in MOE_DEFAULT
    if latent:
        qv = ["q_b_proj" if cfg.q_lora_rank else "q_proj", "kv_b_proj"]
    else:
        qv = ["q_proj", "v_proj"]
    attention = present(name, ATTENTION.get(mt, DEFAULT_ATTENTION))
    ia3 = ["kv_b_proj"] if latent else ["k_proj", "v_proj"]
    out = {
        "full": (None, None),
        "lora-default": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=qv, task_type=TaskType.CAUSAL_LM), qv),
        "lora-attention": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=attention, task_type=TaskType.CAUSAL_LM), attention),
        "lora-experts": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=[], target_parameters=EXPERTS, task_type=TaskType.CAUSAL_LM), ["experts.gate_up_proj", "experts.down_proj"]),
        # transformers' Qwen2MoeTopKRouter is no nn.Linear and peft refuses it; qwen2_moe's shared
        # expert is made of Linears instead.
        "lora-router": (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=["gate"], task_type=TaskType.CAUSAL_LM), ["gate"])
        if mt != "qwen2_moe" else
        (lambda c: LoraConfig(r=8, lora_alpha=16, target_modules=SHARED, task_type=TaskType.CAUSAL_LM), SHARED),
        "ia3-default": (lambda c: IA3Config(target_modules=ia3, feedforward_modules=[], task_type=TaskType.CAUSAL_LM), None),
        "prompt-20": (lambda c: PromptTuningConfig(num_virtual_tokens=20, task_type=TaskType.CAUSAL_LM), None),
    }
    if mt == "qwen2_moe":
        out["lora-shared-expert"] = out.pop("lora-router")
    elif latent:
        # DeepSeek's router is no nn.Linear either, and peft 0.21.2 rewrites a
        # `shared_experts.gate_proj` target through transformers v5's checkpoint conversion into
        # the fused routed experts (at twice the rank on gate_up_proj) instead of the shared
        # ones: no case peftcost could honestly match.
        del out["lora-router"]
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
        if name in LAYOUT_TESTS:
            result["models"][name]["layout_test"] = True
    for name in ENCODERS:
        mt, rows = encoder_cases(name)
        result["models"][name] = {"config_file": f"configs/{name}.json", "model_type": mt,
                                  "task": "feature-extraction", "cases": rows}
    for name in MOE_MODELS:
        mt, rows = moe_cases(name)
        result["models"][name] = {"config_file": f"configs/{name}.json", "model_type": mt, "cases": rows}
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

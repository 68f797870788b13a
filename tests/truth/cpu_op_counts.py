#!/usr/bin/env python3
"""cpu_op_counts.py: the framework ops a training step dispatches per block and per adapted module
(the op counts of peftcost's CPU step, `core/estimate/time.rs`).

Counts every aten op through the dispatcher (`TorchDispatchMode`) in one forward and one backward
of the cpu_truth llama (decoder) and BERT-Small (encoder) with 4 and with 2 layers; half the
difference is one block's. Full fine-tuning gives the forward and backward with weight gradients;
prompt tuning the backward with frozen weights; LoRA, DoRA (q,k,v,o) and IA3 (peft's default
k,v,down) what their modules add. CPU, fp32, 32 tokens (op counts do not depend on the size).

    /tmp/tv/bin/python tests/truth/cpu_op_counts.py --out tests/truth/cpu_op_counts.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import cpu_truth as ct  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="cpu_op_counts.json")
    args = p.parse_args()
    import torch
    import transformers
    import peft
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.n = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.n += 1
            return func(*args, **(kwargs or {}))

    def method_config(method, bert):
        task = "SEQ_CLS" if bert else "CAUSAL_LM"
        if method == "ia3":
            return peft.IA3Config(task_type=task)
        if method == "prompt":
            return peft.PromptTuningConfig(task_type=task, num_virtual_tokens=20)
        targets = ["query", "key", "value", "attention.output.dense"] if bert else \
            ["q_proj", "k_proj", "v_proj", "o_proj"]
        return peft.LoraConfig(task_type=task, r=16, lora_alpha=32, target_modules=targets,
                               use_dora=method == "dora")

    out = {"torch": torch.__version__, "transformers": transformers.__version__,
           "peft": peft.__version__, "per_block": {}}
    for model in ("cpu-llama-32k", "bert-small"):
        bert = model.startswith("bert")
        for method in ("full", "prompt", "lora", "dora", "ia3"):
            counts = []
            for layers in (2, 4):
                d = ct.config_dict(model)
                d["num_hidden_layers"] = layers
                cfg = transformers.AutoConfig.for_model(d.pop("model_type"), **d)
                cfg.use_cache = False
                cls = transformers.AutoModelForSequenceClassification if bert else \
                    transformers.AutoModelForCausalLM
                m = cls.from_config(cfg, attn_implementation="sdpa")
                if method == "full":
                    for q in m.parameters():
                        q.requires_grad_(True)
                else:
                    m = peft.get_peft_model(m, method_config(method, bert))
                m.train()
                torch.manual_seed(0)
                ids = torch.randint(0, 1000, (1, 32))
                labels = torch.randint(0, 2, (1,)) if bert else ids
                fwd, bwd = Count(), Count()
                with fwd:
                    loss = m(input_ids=ids, labels=labels).loss
                with bwd:
                    loss.backward()
                counts.append((fwd.n, bwd.n))
            per = {"forward": (counts[1][0] - counts[0][0]) / 2, "backward": (counts[1][1] - counts[0][1]) / 2}
            out["per_block"][f"{model}/{method}"] = per
            print(model, method, per, flush=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

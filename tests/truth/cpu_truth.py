#!/usr/bin/env python3
"""cpu_truth.py: real PyTorch + transformers + peft CPU training steps (ground truth for peftcost's
`bench` -> `estimate --hardware local`, issue 15 item 8).

Matrix: three models x five methods x checkpointing off/on x four shapes (micro-batch 1 and 4, 128
and 512 tokens), fp32 throughout (what a CPU trains in), AdamW as the HF Trainer picks it with
torch >= 2.8 (`adamw_torch_fused`; `--adamw foreach|forloop` to change), lr 1e-4, no weight decay.

Models (configs/, random weights, nothing downloaded):
    cpu-llama-32k     4-layer llama, h=512, MHA, Llama-2's 32,000-token vocabulary, untied head
    cpu-qwen2-152k    4-layer qwen2, h=512, GQA 8/2, q/k/v bias, Qwen2.5's 151,936 tokens, tied
    bert-small        google/bert_uncased_L-4_H-512_A-8 as published, sequence classification
                      (2 labels), dropout 0.1 (hidden and attention) as BERT trains
Methods:
    lora_qv     LoRA r=16, alpha=32, dropout 0: q_proj,v_proj (BERT: query,value)
    lora_all    LoRA r=16, alpha=32, target_modules="all-linear"
    ia3         IA3, peft's per-architecture default targets
    prompt      prompt tuning, 20 virtual tokens (BERT at "512": 492 real tokens, its positions end at 512)
    full        every parameter trainable
Inputs: random token ids, no padding; causal LMs take labels = ids, BERT a random label per row.

Each (model, method, checkpointing) group runs in a fresh child process, its four shapes from the
smallest to the largest, so a case's peak RSS holds only what its own process kept (VmHWM is reset
per case by writing 5 to /proc/self/clear_refs; the heap a smaller case freed is reused by the next,
larger one). Per case: 1 warm-up step (`--warmup`), 5 measured steps (`--steps`), their median and
every step, the forward / backward / optimizer split of each step, peak RSS, RSS before the first
step, RSS of the bare interpreter after the imports (the floor), trainable and all parameters.

    /tmp/tv/bin/python tests/truth/cpu_truth.py --out tests/truth/cpu_truth.json
    (about 25 minutes on the 2-core development machine; rewrite-after-every-group, `--resume`
    keeps the groups already measured; keep the machine otherwise idle: it measures time)

The JSON ("peftcost-cpu-truth/1") mirrors gpu_truth.py's case fields (step_seconds, peak_rss_bytes,
trainable, all, status) and adds `split_seconds` {forward, backward, optimizer} (medians),
`rss_before_steps_bytes`, `floor_rss_bytes`, and in meta the CPU's model, flags and threads.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gpu_truth as gt  # noqa: E402  (helpers: RSS, atomic JSON, CPU model)

SCHEMA = "peftcost-cpu-truth/1"
MODELS = {
    "cpu-llama-32k": ("cpu-llama-32k.json", "causal"),
    "cpu-qwen2-152k": ("cpu-qwen2-152k.json", "causal"),
    "bert-small": ("bert-small.json", "seq-cls"),
}
METHODS = ["lora_qv", "lora_all", "ia3", "prompt", "full"]
SHAPES = [(128, 1), (128, 4), (512, 1), (512, 4)]  # (tokens, micro-batch), smallest first
PROMPT_TOKENS = 20


def cpu_flags() -> list:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return sorted(f for f in have if f.startswith(("avx", "amx", "fma", "f16c")))
    except OSError:
        pass
    return []


def config_dict(model: str) -> dict:
    d = json.loads((HERE / "configs" / MODELS[model][0]).read_text())
    return {k: v for k, v in d.items() if not k.startswith("_")}


def peft_config(peft, method: str, task: str, bert: bool):
    task_type = "SEQ_CLS" if task == "seq-cls" else "CAUSAL_LM"
    if method in ("lora_qv", "lora_all"):
        targets = (["query", "value"] if bert else ["q_proj", "v_proj"]) if method == "lora_qv" else "all-linear"
        return peft.LoraConfig(task_type=task_type, r=16, lora_alpha=32, lora_dropout=0.0,
                               target_modules=targets, bias="none")
    if method == "ia3":
        return peft.IA3Config(task_type=task_type)
    if method == "prompt":
        return peft.PromptTuningConfig(task_type=task_type, num_virtual_tokens=PROMPT_TOKENS,
                                       prompt_tuning_init="RANDOM")
    raise ValueError(method)


def run_group(model_name: str, method: str, ckpt: bool, args) -> list:
    """Runs in the child process: the four shapes of one group."""
    import torch
    import transformers
    import peft
    torch.set_num_threads(args.threads)
    floor = gt.read_status_kib("VmRSS")
    path, task = MODELS[model_name]
    bert = task == "seq-cls"
    out = []
    for seq, mb in SHAPES:
        real = seq - PROMPT_TOKENS if (bert and method == "prompt" and seq + PROMPT_TOKENS > 512) else seq
        case = {"model": model_name, "config_file": f"configs/{path}", "task": task, "method": method,
                "seq_len": real, "effective_seq_len": real + (PROMPT_TOKENS if method == "prompt" else 0),
                "micro_batch": mb, "grad_checkpointing": ckpt, "dtype": "float32", "status": "running",
                "floor_rss_bytes": floor, "step_seconds": None, "split_seconds": None}
        gc.collect()
        reset_ok = gt.reset_peak_rss()
        t_case = time.perf_counter()
        model = opt = None
        try:
            torch.manual_seed(args.seed)
            d = config_dict(model_name)
            cfg = transformers.AutoConfig.for_model(d.pop("model_type"), **d)
            cfg.use_cache = False
            kw = {"dtype": torch.float32, "attn_implementation": "sdpa"}
            if bert:
                cfg.num_labels = 2
                model = transformers.AutoModelForSequenceClassification.from_config(cfg, **kw)
            else:
                model = transformers.AutoModelForCausalLM.from_config(cfg, **kw)
            if ckpt:
                model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            if method == "full":
                for p in model.parameters():
                    p.requires_grad_(True)
                case["trainable"] = sum(p.numel() for p in model.parameters())
                case["all"] = case["trainable"]
            else:
                model = peft.get_peft_model(model, peft_config(peft, method, task, bert))
                t, a = model.get_nb_trainable_parameters()
                case["trainable"], case["all"] = int(t), int(a)
                case["resolved"] = gt.resolved_targets(model)
            model.train()
            params = [p for p in model.parameters() if p.requires_grad]
            kw = {"fused": True} if args.adamw == "fused" else {"foreach": True} if args.adamw == "foreach" \
                else {"foreach": False}
            opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0, **kw)
            case["optimizer"] = {"impl": args.adamw, "fused": opt.defaults.get("fused"),
                                 "foreach": opt.defaults.get("foreach")}
            gen = torch.Generator().manual_seed(args.seed)
            ids = torch.randint(0, cfg.vocab_size, (mb, real), generator=gen)
            attn = torch.ones_like(ids)
            labels = torch.randint(0, 2, (mb,), generator=gen) if bert else ids

            def step(split):
                t0 = time.perf_counter()
                loss = model(input_ids=ids, attention_mask=attn, labels=labels).loss
                t1 = time.perf_counter()
                loss.backward()
                t2 = time.perf_counter()
                opt.step()
                opt.zero_grad(set_to_none=True)
                t3 = time.perf_counter()
                split.append((t1 - t0, t2 - t1, t3 - t2))
                return float(loss.detach())

            case["rss_before_steps_bytes"] = gt.read_status_kib("VmRSS")
            warm = []
            for _ in range(args.warmup):
                step(warm)
            split = []
            losses = [step(split) for _ in range(args.steps)]
            times = [sum(s) for s in split]
            med = statistics.median(times)
            case["step_seconds"] = {"median": med, "min": min(times), "max": max(times),
                                    "all": [round(t, 5) for t in times],
                                    "warmup": [round(sum(s), 5) for s in warm]}
            case["split_seconds"] = {k: statistics.median(s[i] for s in split)
                                     for i, k in enumerate(("forward", "backward", "optimizer"))}
            case["tokens_per_second"] = mb * real / med
            case["loss_first"], case["loss_last"] = losses[0], losses[-1]
            case["status"] = "ok"
        except Exception as exc:  # noqa: BLE001 - every failure is data
            case["status"] = "error"
            case["error"] = f"{type(exc).__name__}: {exc}"[:1000]
            case["traceback"] = traceback.format_exc()[-3000:]
        finally:
            case["peak_rss_bytes"], case["peak_rss_source"] = gt.peak_rss(reset_ok)
            case["case_seconds"] = round(time.perf_counter() - t_case, 3)
        del model, opt
        out.append(case)
    return out


def key(c) -> tuple:
    return (c["model"], c["method"], c["grad_checkpointing"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="cpu_truth.json")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--ckpt", default="off,on", help="checkpointing settings to run: off,on")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--adamw", choices=["fused", "foreach", "forloop"], default="fused")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="keep the groups already in --out")
    p.add_argument("--budget-s", type=float, default=None)
    p.add_argument("--group", help=argparse.SUPPRESS)  # child: model,method,on|off
    p.add_argument("--part", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.group:
        model, method, ckpt = args.group.split(",")
        cases = run_group(model, method, ckpt == "on", args)
        Path(args.part).write_text(json.dumps(cases))
        return 0

    out = Path(args.out)
    doc = None
    if args.resume and out.exists():
        doc = json.loads(out.read_text())
    if doc is None:
        import torch
        import transformers
        import peft
        doc = {"schema": SCHEMA, "meta": {
            "started": gt.now_iso(), "argv": sys.argv[1:], "cpu_model": gt.cpu_model_name(),
            "cpu_flags": cpu_flags(), "threads": args.threads, "steps": args.steps,
            "warmup": args.warmup, "adamw": args.adamw,
            "versions": {"python": platform.python_version(), "torch": torch.__version__,
                         "transformers": transformers.__version__, "peft": peft.__version__}},
            "cases": []}
    done = {key(c) for c in doc["cases"] if c.get("status") == "ok"}
    doc["cases"] = [c for c in doc["cases"] if key(c) in done]
    t0 = time.perf_counter()
    groups = [(m, me, ck) for m in args.models.split(",") for me in args.methods.split(",")
              for ck in args.ckpt.split(",")]
    for model, method, ck in groups:
        if (model, method, ck == "on") in done:
            continue
        if args.budget_s is not None and time.perf_counter() - t0 > args.budget_s:
            print("budget spent; stopping", flush=True)
            break
        part = out.with_suffix(".part.json")
        t = time.perf_counter()
        r = subprocess.run([sys.executable, __file__, "--group", f"{model},{method},{ck}", "--part", str(part),
                            "--steps", str(args.steps), "--warmup", str(args.warmup),
                            "--threads", str(args.threads), "--adamw", args.adamw, "--seed", str(args.seed)])
        if r.returncode != 0 or not part.exists():
            print(f"{model} {method} ckpt={ck}: child failed ({r.returncode})", flush=True)
            continue
        cases = json.loads(part.read_text())
        part.unlink()
        doc["cases"].extend(cases)
        doc["meta"]["finished"] = gt.now_iso()
        gt.write_json_atomic(out, doc)
        for c in cases:
            st = c["step_seconds"]["median"] if c["step_seconds"] else None
            print(f"{model:15} {method:8} ckpt={ck:3} s={c['seq_len']:3} b={c['micro_batch']} "
                  f"{c['status']:5} step={st if st is None else round(st, 3)} s "
                  f"rss={c['peak_rss_bytes'] / 2**20:.0f} MiB", flush=True)
        print(f"  group {time.perf_counter() - t:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

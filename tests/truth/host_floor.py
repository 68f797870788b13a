#!/usr/bin/env python3
"""How much of a short GPU training step is the host's: evidence for the GPU time split that
peftcost does not model yet (issue 15, item 4). Writes host_floor.md.

A GPU runs what the host queues. When the host takes longer to issue a micro-batch's ops
(Python, autograd, the dispatcher, kernel launches) than the GPU takes to run them, the step
stops growing with the tokens: it sits on a floor set by the host. The published Qwen rows
(`peftcost validate`: A100-SXM4-80G, torch 2.0, 2023) and the H200 steps of h200_truth.json
(torch 2.11, a 16-thread VM, 2026) both show such floors. For every row this prints the measured
seconds per micro-batch, peftcost's device-side prediction (its step less its per-layer launch
term), the framework ops one micro-batch dispatches (the op counts time.rs uses for CPUs,
counted with TorchDispatchMode on llama-style blocks: 73 forward, 95 backward, 43 weight
gradients per block; LoRA 10 + 20 per adapted module, DoRA 27 + 33, IA3 3 + 7; a checkpointed
block runs its forward twice) and, where the device side is under half the measured step, the
host time per op that the floor implies (measured / ops: an upper bound, the step being
host-bound).

Nothing here changes a constant; it is the measurement a GPU-side host model would start from.

    python3 tests/truth/host_floor.py [--bin target/release/peftcost]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_h200  # noqa: E402

BLOCK = {"forward": 73, "backward": 95, "weight_grads": 43}
MODULE = {"lora": (10, 20), "dora": (27, 33), "ia3": (3, 7)}
LAUNCH_PER_LAYER = 0.0025  # Assumptions::launch_overhead_per_layer_s


def ops_per_micro(layers, ckpt, full, modules, kind):
    forwards = 2 if ckpt else 1
    per_layer = BLOCK["forward"] * forwards + BLOCK["backward"] + (BLOCK["weight_grads"] if full else 0)
    if kind:
        f, b = MODULE[kind]
        per_layer += modules * (f * forwards + b)
    return layers * per_layer


def qwen_rows(binary):
    out = subprocess.run([binary, "validate", "--format", "json"], capture_output=True, text=True, check=True)
    rows = []
    for r in json.loads(out.stdout)["training"]:
        if not r["name"].startswith("Qwen-") or r["measured_step_seconds"] is None:
            continue
        layers = 24 if r["name"].startswith("Qwen-1.8B") else 32
        full = " full" in r["name"]
        gpus = 2 if "2 GPUs" in r["name"] else 1
        # Qwen's LoRA list hits c_attn, attn.c_proj, w1, w2 and mlp.c_proj: 5 modules a block.
        ops = ops_per_micro(layers, True, full, 0 if full else 5, None if full else "lora")
        micro = 8  # batch 1, gradient accumulation 8
        device = r["predicted_step_seconds"] / micro - layers * LAUNCH_PER_LAYER
        rows.append((r["name"], f"A100, {gpus} GPU", r["measured_step_seconds"] / micro, device, ops))
    return rows


def h200_rows(binary):
    truth = json.load(open(os.path.join(HERE, "h200_truth.json")))
    layers = {"qwen2.5-7b": 28, "mistral-7b-v0.1": 32}
    modules = {"lora_qkvo": (4, "lora"), "lora_all": (7, "lora"), "dora": (4, "dora"),
               "ia3": (3, "ia3"), "prompt": (0, None), "full": (0, None)}
    rows = []
    for c in truth["cases"]:
        if c.get("status") != "ok" or c["model"] not in layers or c["method"] not in compare_h200.METHODS:
            continue
        dev, _ = compare_h200.estimate(binary, c)
        n, kind = modules[c["method"]]
        ops = ops_per_micro(layers[c["model"]], c["grad_checkpointing"], c["method"] == "full", n, kind)
        device = dev["step_seconds"] - layers[c["model"]] * LAUNCH_PER_LAYER
        name = f"{c['id']} {c['model']} {c['method']} {c['seq_len']}x{c['micro_batch']}" + (" ckpt" if c["grad_checkpointing"] else "")
        rows.append((name, "H200", c["step_seconds"]["median"], device, ops))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "..", "target", "release", "peftcost"))
    ap.add_argument("--out", default=os.path.join(HERE, "host_floor.md"))
    a = ap.parse_args()
    lines = [
        "# The host's floor under short GPU steps",
        "",
        "Made by `tests/truth/host_floor.py` (see its docstring). Seconds per micro-batch; `device` is",
        "peftcost's prediction less its per-layer launch term; `us/op` = measured / ops where the device",
        "side is under half the measured step (host-bound), else `-`.",
        "",
        "| row | device | measured s | device s | ops | us/op |",
        "|---|---|---|---|---|---|",
    ]
    implied = {}
    for name, where, measured, device, ops in qwen_rows(a.bin) + h200_rows(a.bin):
        bound = device < 0.5 * measured
        per_op = measured / ops * 1e6 if bound else None
        if per_op:
            implied.setdefault(where.split(",")[0], []).append(per_op)
        lines.append(f"| {name} | {where} | {measured:.3f} | {device:.3f} | {ops} | {per_op:.1f} |" if per_op
                     else f"| {name} | {where} | {measured:.3f} | {device:.3f} | {ops} | - |")
    lines += ["", "## Summary", ""]
    for where, xs in implied.items():
        lines.append(f"- {where}: {len(xs)} host-bound rows, implied host time per op median "
                     f"{statistics.median(xs):.1f} us (range {min(xs):.1f}-{max(xs):.1f})")
    open(a.out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines[-len(implied):]))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compare peftcost's estimates with the real H200 training steps of h200_truth.json.

For every `ok` case of a model peftcost has a profile for (qwen2.5-7b, mistral-7b-v0.1), run
`peftcost estimate --no-auto-fit --hardware h200` with the case's method, sequence, micro-batch
and checkpointing, and compare memory.total with nvidia-smi's used memory (the fit criterion), memory.reserved with
max_memory_reserved, memory.allocated with max_memory_allocated (the tensors alone: the phases and
buffers without the allocator and runtime), and step_seconds with the median measured step.
Writes h200_compare.md.

This is a measurement of the model as it is, not a fit: nothing here changes a constant.

    python3 tests/truth/compare_h200.py [--bin target/release/peftcost]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = {"qwen2.5-7b": "qwen2.5-7b", "mistral-7b-v0.1": "mistral-7b"}
# gpu_truth.py's methods in peftcost's flags (LoRA r16, alpha 32; DoRA likewise; prompt 20 tokens).
METHODS = {
    "lora_qkvo": ["--method", "lora", "--rank", "16", "--alpha", "32", "--targets", "q_proj,k_proj,v_proj,o_proj"],
    "lora_all": ["--method", "lora", "--rank", "16", "--alpha", "32", "--targets", "all-linear"],
    "dora": ["--method", "dora", "--rank", "16", "--alpha", "32", "--targets", "q_proj,k_proj,v_proj,o_proj"],
    "ia3": ["--method", "ia3"],
    "prompt": ["--method", "prompt", "--virtual-tokens", "20"],
    "full": ["--method", "full"],
}
GIB = 1024 ** 3


def estimate(binary, case):
    args = [binary, "estimate", "--no-auto-fit", "--hardware", "h200", "--format", "json",
            "--model", MODELS[case["model"]], "--seq-len", str(case["seq_len"]),
            "--micro-batch", str(case["micro_batch"]), "--grad-accum", "1",
            # gpu_truth.py's loop holds `out` through `out.loss.backward()`.
            "--allow-rope-extension", "--loop-keeps-output"] + METHODS[case["method"]]
    if case["grad_checkpointing"]:
        args.append("--grad-checkpointing")
    # The runs used torch's fused AdamW (no foreach sqrt(v) temporary).
    if case.get("optimizer", {}).get("impl") == "fused":
        args += ["--optimizer", "adamw-fused"]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    d = json.loads(out.stdout)
    return d["devices"][0], d["params"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "..", "target", "release", "peftcost"))
    ap.add_argument("--out", default=os.path.join(HERE, "h200_compare.md"))
    a = ap.parse_args()
    truth = json.load(open(os.path.join(HERE, "h200_truth.json")))
    rows = []
    for c in truth["cases"]:
        if c.get("status") != "ok" or c["model"] not in MODELS or c["method"] not in METHODS:
            continue
        dev, params = estimate(a.bin, c)
        # nvidia-smi = reserved + the CUDA context (0.75 GiB on this H200, CUDA 13).
        mem_err = dev["memory"]["total"] / (c["nvidia_smi_used_mib"] * 2**20) - 1
        reserved_err = dev["memory"]["reserved"] / c["max_memory_reserved"] - 1
        time_err = dev["step_seconds"] / c["step_seconds"]["median"] - 1
        alloc_err = dev["memory"]["allocated"] / c["max_memory_allocated"] - 1
        rows.append((c, dev, params, mem_err, time_err, alloc_err, reserved_err))
    lines = [
        "# peftcost vs real H200 training steps",
        "",
        f"Made by `tests/truth/compare_h200.py` from `h200_truth.json` ({len(rows)} cases of the two",
        "models peftcost has profiles for). Memory: `memory.total` against nvidia-smi's used memory;",
        "reserved: `memory.reserved` against `max_memory_reserved`;",
        "allocated: `memory.allocated` (the peak phase's buffers) against `max_memory_allocated`;",
        "time: `step_seconds` (one micro-batch, optimizer included) against the median measured step.",
        "Positive = peftcost predicts more. Trainable counts are compared exactly.",
        "",
        "| case | model | method | seq | mb | ckpt | nvidia-smi GiB | predicted GiB | nvidia-smi err | reserved err | allocated err | peak phase | step s | predicted s | time err | trainable |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c, dev, params, me, te, ae, re in rows:
        same = "=" if params["trainable"] == c["trainable"] else f"{params['trainable']} vs {c['trainable']}"
        lines.append(
            f"| {c['id']} | {c['model']} | {c['method']} | {c['seq_len']} | {c['micro_batch']} | "
            f"{'on' if c['grad_checkpointing'] else 'off'} | {c['nvidia_smi_used_mib'] / 1024:.2f} | "
            f"{dev['memory']['total'] / GIB:.2f} | {me:+.1%} | {re:+.1%} | {ae:+.1%} | {dev['memory']['peak_phase']} | "
            f"{c['step_seconds']['median']:.3f} | "
            f"{dev['step_seconds']:.3f} | {te:+.1%} | {same} |"
        )
    def summary(name, errs):
        errs = [abs(e) for e in errs]
        return f"- {name}: median |error| {statistics.median(errs):.1%}, worst {max(errs):.1%}"
    lines += ["", "## Summary", ""]
    lines.append(summary("memory (total vs nvidia-smi), all cases", [r[3] for r in rows]))
    lines.append(summary("reserved, all cases", [r[6] for r in rows]))
    lines.append(summary("allocated, all cases", [r[5] for r in rows]))
    lines.append(summary("step time, all cases", [r[4] for r in rows]))
    for m in METHODS:
        sel = [r for r in rows if r[0]["method"] == m]
        if sel:
            lines.append(summary(f"{m}: memory", [r[3] for r in sel]) + "; " +
                         summary("allocated", [r[5] for r in sel])[2:] + "; " +
                         summary("time", [r[4] for r in sel])[2:])
    counts_equal = sum(1 for r in rows if r[2]["trainable"] == r[0]["trainable"])
    lines.append(f"- trainable counts equal to peft's: {counts_equal} of {len(rows)}")
    open(a.out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines[-12:]))


if __name__ == "__main__":
    sys.exit(main())

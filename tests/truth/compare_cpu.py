#!/usr/bin/env python3
"""compare_cpu.py: peftcost `estimate --hardware local` against the CPU steps in cpu_truth.json.

    for m in cpu-llama-32k cpu-qwen2-152k bert-small; do
        target/release/peftcost bench --model-config tests/truth/configs/$m.json \
            --out tests/truth/cpu_calibrations/$m.json; done
    python3 tests/truth/compare_cpu.py --md tests/truth/cpu_compare.md

Each model's cases use the calibration `bench` made at that model's shapes
(`--calibration`, a pattern with {model}). A calibration applies only on the CPU it was measured
on: elsewhere, bench again first.

For every measured case it runs the estimate with the case's model config, method, targets, rank,
tokens, micro-batch, checkpointing, fp32 and fused AdamW (what cpu_truth.py ran), and prints the
trainable count (must equal peft's), the step time and the peak RSS against the measured ones, the
signed errors, and their medians and worst cases. Needs only Python's standard library.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def method_args(case: dict) -> list:
    bert = case["task"] == "seq-cls"
    m = case["method"]
    if m == "lora_qv":
        args = ["--method", "lora", "--targets", "query,value" if bert else "q_proj,v_proj"]
    elif m == "lora_all":
        args = ["--method", "lora", "--targets", "all-linear"]
    elif m == "prompt":
        args = ["--method", "prompt", "--virtual-tokens", "20"]
    else:
        args = ["--method", m]
    return args + ["-r", "16", "--alpha", "32"]


def estimate(binary: str, calibration: str, case: dict) -> dict:
    argv = [binary, "estimate", "--model-config", str(HERE / case["config_file"]), *method_args(case),
            "--dtype", "fp32", "--seq-len", str(case["seq_len"]), "--micro-batch", str(case["micro_batch"]),
            "--grad-accum", "1", "--optimizer", "adamw-fused", "--hardware", "local",
            "--calibration", calibration, "--format", "json"]
    if case["grad_checkpointing"]:
        argv.append("--grad-checkpointing")
    if case["task"] == "seq-cls":
        argv += ["--task", "seq-cls", "--num-labels", "2"]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}\n{r.stderr}")
    d = json.loads(r.stdout)
    dev = next(x for x in d["devices"] if x["hardware"] == "local")
    return {"trainable": d["params"]["trainable"], "step": dev["step_seconds"],
            "rss": dev["memory"]["total"], "allocated": dev["memory"]["allocated"],
            "peak_phase": dev["memory"]["peak_phase"]}


def pct(pred, real):
    return 100.0 * (pred / real - 1.0)


def summary(name: str, errs: list, rows: list, col: str) -> list:
    a = sorted(abs(e) for e in errs)
    worst = sorted(rows, key=lambda r: -abs(r[col]))[:5]
    out = [f"{name}: median |error| {statistics.median(a):.1f}%, 90th percentile {a[int(0.9 * (len(a) - 1))]:.1f}%, "
           f"worst {a[-1]:.1f}% ({len(a)} cases)"]
    for r in worst:
        out.append(f"  worst: {r['label']}: {r[col]:+.1f}%")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default="target/release/peftcost")
    p.add_argument("--calibration", default=str(HERE / "cpu_calibrations" / "{model}.json"))
    p.add_argument("--truth", default=str(HERE / "cpu_truth.json"))
    p.add_argument("--md", help="also write the table as Markdown here")
    args = p.parse_args(argv)
    doc = json.loads(Path(args.truth).read_text())
    rows = []
    for c in doc["cases"]:
        if c["status"] != "ok":
            continue
        e = estimate(args.bin, args.calibration.format(model=c["model"]), c)
        label = (f"{c['model']} {c['method']} ckpt={'on' if c['grad_checkpointing'] else 'off'} "
                 f"s={c['seq_len']} b={c['micro_batch']}")
        real_step = c["step_seconds"]["median"]
        rows.append({"label": label, "trainable_ok": e["trainable"] == c["trainable"],
                     "trainable": c["trainable"], "our_trainable": e["trainable"],
                     "step": real_step, "our_step": e["step"], "step_err": pct(e["step"], real_step),
                     "rss": c["peak_rss_bytes"], "our_rss": e["rss"], "rss_err": pct(e["rss"], c["peak_rss_bytes"]),
                     "phase": e["peak_phase"]})
    lines = ["| case | trainable (peft = ours) | step s measured | ours | error | peak RSS MiB measured | ours | error |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        same = "=" if r["trainable_ok"] else f"≠ {r['our_trainable']:,}"
        lines.append(f"| {r['label']} | {r['trainable']:,} {same} | {r['step']:.3f} | {r['our_step']:.3f} | "
                     f"{r['step_err']:+.1f}% | {r['rss'] / 2**20:.0f} | {r['our_rss'] / 2**20:.0f} | {r['rss_err']:+.1f}% |")
    text = "\n".join(lines)
    print(text)
    mism = [r["label"] for r in rows if not r["trainable_ok"]]
    tail = [f"trainable counts equal to peft's: {len(rows) - len(mism)}/{len(rows)}" + (f" (differ: {mism})" if mism else "")]
    tail += summary("step time", [r["step_err"] for r in rows], rows, "step_err")
    tail += summary("peak RSS", [r["rss_err"] for r in rows], rows, "rss_err")
    for m in sorted({r["label"].split()[0] for r in rows}):
        sub = [r for r in rows if r["label"].startswith(m + " ")]
        tail.append(f"{m}: step median |error| {statistics.median(abs(r['step_err']) for r in sub):.1f}%, "
                    f"RSS {statistics.median(abs(r['rss_err']) for r in sub):.1f}%")
    print("\n".join(tail))
    if args.md:
        Path(args.md).write_text(text + "\n\n" + "\n".join(f"- {t}" for t in tail) + "\n")
    return 1 if mism else 0


if __name__ == "__main__":
    sys.exit(main())

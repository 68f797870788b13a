#!/usr/bin/env python3
"""Write profiles/error_spread.json: how far peftcost's GPU training estimates fall from measured
steps, as the 10th and 90th percentiles of predicted/measured - 1, for memory and for step time.

Cases: the H200 steps of h200_truth.json (compare_h200.py's comparison: total memory against
nvidia-smi, step time against the median step) and the asserted training rows of
`peftcost validate` (published Qwen-7B A100 rows). The binary embeds the file and turns an
estimate into low/high bounds: measured = predicted / (1 + error), so the 90th percentile error
gives the low bound and the 10th the high one.

`cpu` holds the same for calibrated CPUs: the CPU steps of cpu_truth.json against
`estimate --hardware local` with the calibrations in cpu_calibrations/ (compare_cpu.py's
comparison: peak RSS against the estimate's total, step time against the median step). It needs
the machine those calibrations were measured on.

    python3 tests/truth/error_spread.py [--bin target/release/peftcost]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_h200  # noqa: E402
import compare_cpu  # noqa: E402


def percentile(xs, p):
    """Linear interpolation between order statistics (numpy's default)."""
    xs = sorted(xs)
    at = (len(xs) - 1) * p
    lo, hi = int(at), min(int(at) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (at - lo)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "..", "target", "release", "peftcost"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "profiles", "error_spread.json"))
    a = ap.parse_args()
    truth = json.load(open(os.path.join(HERE, "h200_truth.json")))
    memory, time = [], []
    for c in truth["cases"]:
        if c.get("status") != "ok" or c["model"] not in compare_h200.MODELS or c["method"] not in compare_h200.METHODS:
            continue
        dev, _ = compare_h200.estimate(a.bin, c)
        memory.append(dev["memory"]["total"] / (c["nvidia_smi_used_mib"] * 2**20) - 1)
        time.append(dev["step_seconds"] / c["step_seconds"]["median"] - 1)
    h200 = len(memory)
    out = subprocess.run([a.bin, "validate", "--format", "json"], capture_output=True, text=True, check=True)
    rows = [r for r in json.loads(out.stdout)["training"] if r["asserted"]]
    for r in rows:
        memory.append(r["memory_error"])
        if r.get("time_error") is not None:
            time.append(r["time_error"])
    band = lambda xs: {"p10": round(percentile(xs, 0.1), 4), "p90": round(percentile(xs, 0.9), 4), "cases": len(xs)}
    cpu_truth = json.load(open(os.path.join(HERE, "cpu_truth.json")))
    cpu_memory, cpu_time = [], []
    for c in cpu_truth["cases"]:
        if c["status"] != "ok":
            continue
        cal = os.path.join(HERE, "cpu_calibrations", c["model"] + ".json")
        e = compare_cpu.estimate(a.bin, cal, c)
        cpu_memory.append(e["rss"] / c["peak_rss_bytes"] - 1)
        cpu_time.append(e["step"] / c["step_seconds"]["median"] - 1)
    spread = {
        "as_of": datetime.date.today().isoformat(),
        "source": f"tests/truth/error_spread.py: {h200} H200 steps (tests/truth/h200_truth.json) and "
                  f"{len(rows)} published Qwen-7B A100 rows (peftcost validate); error = predicted/measured - 1",
        "memory": band(memory),
        "time": band(time),
        "cpu": {"source": f"{len(cpu_time)} PyTorch CPU steps (tests/truth/cpu_truth.json) against "
                          "estimate --hardware local with tests/truth/cpu_calibrations/",
                "memory": band(cpu_memory), "time": band(cpu_time)},
    }
    open(a.out, "w").write(json.dumps(spread, indent=2) + "\n")
    print(json.dumps(spread, indent=2))


if __name__ == "__main__":
    sys.exit(main())

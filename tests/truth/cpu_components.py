#!/usr/bin/env python3
"""cpu_components.py: what PyTorch achieves on this CPU, term by term, beside what `peftcost bench`
measures with candle (issue 15 items 4 and 7: time as components, not per-method factors).

    /tmp/tv/bin/python tests/truth/cpu_components.py --out tests/truth/cpu_components.json

Measures (median of 7 after 2 warm-ups, fp32, torch's default threads):
- matmul GFLOP/s at the Linear shapes of the cpu_truth.py models ([tokens, in] x [in, out], the
  forward, the input gradient and the weight gradient), at 512 and 2048 tokens;
- streaming bandwidth: `y.copy_(x)` of 256 MiB (read + write bytes / s), into a reused buffer;
- first-touch rate: `torch.empty(n).fill_(1)` of a fresh 256 MiB tensor (glibc maps blocks over its
  mmap threshold afresh, so every page is faulted and zeroed by the kernel on first write);
- the loss path of a causal LM at [tokens, vocab]: `cross_entropy` forward and backward;
- attention (`scaled_dot_product_attention`) forward + backward GFLOP/s at [b, 8 heads, s, 64]:
  causal without dropout (torch's CPU flash kernel) and non-causal with dropout 0.1 (the math
  path BERT trains with), counting 4·s·ctx·width forward and 2.5x that backward as peftcost does;
- dropout in training (`F.dropout(x, 0.1)`) per element, at 1 Mi and 8 Mi elements;
- matmul GFLOP/s at 128 tokens too (the few-token end);
- per-op latency: an elementwise add of two 64-element tensors with autograd, forward + backward.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def timeit(fn, reps=7, warm=2):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="cpu_components.json")
    args = p.parse_args()
    import torch
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "matmul": [], "loss": []}
    shapes = {"512x512": (512, 512), "512x1376": (512, 1376), "1376x512": (1376, 512),
              "512x128": (512, 128), "512x2048": (512, 2048), "2048x512": (2048, 512),
              "512x32000": (512, 32000), "512x151936": (512, 151936)}
    for tokens in (128, 512, 2048):
        for name, (k, n) in shapes.items():
            if n > 100000 and tokens > 512:
                continue
            x = torch.randn(tokens, k)
            w = torch.randn(n, k)
            g = torch.randn(tokens, n)
            flops = 2.0 * tokens * k * n
            row = {"tokens": tokens, "shape": name,
                   "forward_gflops": flops / timeit(lambda: torch.nn.functional.linear(x, w)) / 1e9,
                   "input_grad_gflops": flops / timeit(lambda: g @ w) / 1e9,
                   "weight_grad_gflops": flops / timeit(lambda: g.t() @ x) / 1e9}
            out["matmul"].append(row)
            print(row, flush=True)
    n = 64 * 2**20
    x = torch.randn(n)
    y = torch.empty(n)
    out["copy_gbs"] = 8.0 * n / timeit(lambda: y.copy_(x)) / 1e9
    out["first_touch_gbs"] = 4.0 * n / timeit(lambda: torch.empty(n).fill_(1.0)) / 1e9
    out["reused_fill_gbs"] = 4.0 * n / timeit(lambda: y.fill_(1.0)) / 1e9
    print({k: out[k] for k in ("copy_gbs", "first_touch_gbs", "reused_fill_gbs")}, flush=True)
    for tokens, vocab in ((512, 32000), (2048, 32000), (512, 151936), (2048, 151936)):
        logits = torch.randn(tokens, vocab, requires_grad=True)
        labels = torch.randint(0, vocab, (tokens,))

        def fwd():
            return torch.nn.functional.cross_entropy(logits, labels)

        def fwd_bwd():
            fwd().backward()
            logits.grad = None

        tf = timeit(fwd, reps=5)
        tb = timeit(fwd_bwd, reps=5) - tf
        row = {"tokens": tokens, "vocab": vocab, "forward_s": tf, "backward_s": tb,
               "forward_ns_per_logit": tf / (tokens * vocab) * 1e9,
               "backward_ns_per_logit": tb / (tokens * vocab) * 1e9}
        out["loss"].append(row)
        print(row, flush=True)
        del logits
    out["attention"] = []
    for b, sq in ((1, 128), (4, 128), (1, 512), (4, 512)):
        for causal, p in ((True, 0.0), (False, 0.1)):
            q, k, v = (torch.randn(b, 8, sq, 64, requires_grad=True) for _ in range(3))

            def att():
                o = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, dropout_p=p)
                o.sum().backward()
            ctx = (sq + 1) / 2 if causal else sq
            flops = 3.5 * 4 * b * sq * ctx * 8 * 64
            row = {"batch": b, "seq": sq, "causal": causal, "dropout": p,
                   "gflops": flops / timeit(att, reps=5) / 1e9}
            out["attention"].append(row)
            print(row, flush=True)
    drop = []
    for n in (1 << 20, 8 << 20):
        x = torch.randn(n)
        drop.append(timeit(lambda: torch.nn.functional.dropout(x, 0.1, True)) / n * 1e9)
    out["dropout_ns_per_element"] = statistics.median(drop)
    print({"dropout_ns_per_element": drop}, flush=True)
    a = torch.randn(64, requires_grad=True)
    b = torch.randn(64)

    def tiny():
        (a + b).sum().backward()
    # 3 ops forward (add, sum) + their backward: per op = time / 4
    out["op_latency_us"] = timeit(tiny, reps=200, warm=20) / 4 * 1e6
    print({"op_latency_us": out["op_latency_us"]})
    Path(args.out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env bash
# Three `bench --quick` runs on a quiet machine, then one with a busy loop on one core, at the
# shapes of tests/truth/configs/cpu-llama-32k.json. Prints what a CPU estimate uses (the FMA
# peak, the copy bandwidth, the first-touch rate), the resulting `estimate --hardware local`
# step of that model (LoRA q,v, 4 x 512 tokens, fp32) and the contention notes; the candle
# training rates are printed for reference (an FMA-calibrated CPU no longer uses them).
#   bash tests/truth/bench_repeatability.sh [path/to/peftcost]
set -euo pipefail
BIN=${1:-target/release/peftcost}
CFG=tests/truth/configs/cpu-llama-32k.json
OUT=$(mktemp -d)
run() { "$BIN" bench --quick --model-config "$CFG" --out "$OUT/cal-$1.json" --format json > "$OUT/$1.json" 2>/dev/null; }
step() {
  "$BIN" estimate --model-config "$CFG" --method lora --targets q_proj,v_proj -r 16 --dtype fp32 \
    --seq-len 512 --micro-batch 4 --optimizer adamw-fused --hardware local \
    --calibration "$OUT/cal-$1.json" --format json |
    python3 -c "import json,sys; print(next(d for d in json.load(sys.stdin)['devices'] if d['hardware']=='local')['step_seconds'])"
}
for i in 1 2 3; do run "quiet$i"; done
( while :; do :; done ) & BUSY=$!
run busy
kill "$BUSY"
for f in quiet1 quiet2 quiet3 busy; do
  python3 - "$OUT/$f.json" "$f" "$(step "$f")" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
train = " ".join(f"{t['method']} {t['gflops']:.1f}" for t in d["training"])
notes = [n.split(":")[0] for n in d["notes"] if n.startswith("other processes")]
print(f"{sys.argv[2]:7} FMA {d['fma_peak_gflops']:.1f} GFLOP/s, copy {d['bandwidth_gbs']:.1f} GB/s, "
      f"first touch {d['first_touch_gbs']:.2f} GB/s -> step {float(sys.argv[3]):.3f} s "
      f"(candle f32 {d['matmul_gflops']['f32']:.1f}, train {train}); contended: {len(notes)} parts")
PY
done
rm -rf "$OUT"

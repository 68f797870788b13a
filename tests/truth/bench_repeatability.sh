#!/usr/bin/env bash
# Three `bench --quick` runs on a quiet machine, then one with a busy loop on one core: prints
# the f32 matmul GFLOP/s, bandwidth GB/s, each method's training GFLOP/s and the contention notes.
#   bash tests/truth/bench_repeatability.sh [path/to/peftcost]
set -euo pipefail
BIN=${1:-target/release/peftcost}
OUT=$(mktemp -d)
run() { "$BIN" bench --quick --out "$OUT/cal-$1.json" --format json > "$OUT/$1.json" 2>/dev/null; }
for i in 1 2 3; do run "quiet$i"; done
( while :; do :; done ) & BUSY=$!
run busy
kill "$BUSY"
for f in quiet1 quiet2 quiet3 busy; do
  python3 - "$OUT/$f.json" "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
train = " ".join(f"{t['method']} {t['gflops']:.1f}" for t in d["training"])
notes = [n.split(":")[0] for n in d["notes"] if n.startswith("other processes")]
print(f"{sys.argv[2]:7} f32 {d['matmul_gflops']['f32']:.1f} GFLOP/s, {d['bandwidth_gbs']:.1f} GB/s, train {train}; contended: {len(notes)} parts")
PY
done
rm -rf "$OUT"

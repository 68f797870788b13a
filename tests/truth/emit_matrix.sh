#!/bin/sh
# Emit engine configs for a matrix of jobs with the built binary and check every file with the
# engines' own parsers (tests/truth/validate_emit.py; venvs in validate_emit.md). Not run by CI.
# Usage: tests/truth/emit_matrix.sh [BIN] > tests/truth/emit_matrix.txt
set -u
BIN=${1:-target/debug/peftcost}
OUT=$(mktemp -d)
fail=0
run() { # name world-size gpu -- peftcost args...
    name=$1; ws=$2; gpu=$3; shift 4
    if ! "$BIN" "$@" --out "$OUT/$name" >/dev/null 2>"$OUT/$name.err"; then
        echo "EMIT-FAIL $name: $(tail -1 "$OUT/$name.err")"; fail=1; return
    fi
    echo "== $name: peftcost $*"
    python3 "$(dirname "$0")/validate_emit.py" "$OUT/$name" --world-size "$ws" --gpu "$gpu" || fail=1
}
run qwen7b-lora-a10g 1 A10G -- estimate --model qwen-7b --method lora --hardware a10g --provider aws --billing on-demand --emit all
run mistral7b-qlora-t4 1 T4 -- estimate --model mistral-7b --method qlora --hardware t4 --provider gcp --emit all
run qwen25-dora-a100 1 A100 -- estimate --model qwen2.5-7b --method dora --hardware a100-40g --provider gcp --emit all
run mistral7b-full-8gpu 8 A100-80GB -- plan --model mistral-7b --method full --hardware a100-80g --provider aws --billing on-demand --global-batch 16 --emit all
run llama31-lora-alllinear 1 A100-80GB -- estimate --model-config tests/truth/configs/llama-3.1-8b.json --method lora --targets all-linear --modules-to-save lm_head --hardware a100-80g --provider aws --emit llamafactory,axolotl,peft
run chatglm3-ptuning 1 A10 -- estimate --model chatglm3-6b --method ptuning --hardware a10 --provider azure --emit peft,skypilot
run minicpm-prompt 1 A10 -- estimate --model minicpm-2b --method prompt --hardware a10 --emit peft
run minicpm-prefix 1 A10 -- estimate --model minicpm-2b --method prefix --prefix-projection --hardware a10 --emit peft
run mistral7b-ia3 1 A10 -- estimate --model mistral-7b --method ia3 --hardware a10 --emit peft
run qwen25-ia3 1 A10 -- estimate --model qwen2.5-7b --method ia3 --hardware a100-40g --emit peft
run bge-seqcls-lora 1 T4 -- estimate --model bge-large-zh-v1.5 --method lora --task seq-cls --hardware t4 --emit peft
rm -rf "$OUT"
exit $fail

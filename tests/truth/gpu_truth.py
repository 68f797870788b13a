#!/usr/bin/env python3
"""gpu_truth.py: measure real PEFT fine-tuning memory and step time (ground truth for peftcost).

Builds causal LMs from the real Hugging Face config.json files in ./configs (no download: the
weights are random and HF_HUB_OFFLINE=1), applies peft methods, runs real AdamW training steps and
writes one JSON file that is rewritten (temp file + rename) after every case, so a killed run still
leaves the data gathered so far.

One-line GPU run (about 8 minutes):
    python3 tests/truth/gpu_truth.py --device cuda --budget-s 480 --out truth.json
CPU smoke test (tiny model only):
    python3 tests/truth/gpu_truth.py --device cpu --quick --out cpu_smoke.json
Self-check of the script and of the configs (CPU, 2 tiny cases + parameter totals on the meta device):
    python3 tests/truth/gpu_truth.py --self-test
Parameter counts only (meta device, no memory, seconds):
    python3 tests/truth/gpu_truth.py --counts-only --models qwen2.5-7b,llama-3.1-8b,mistral-7b-v0.1

How a model is built: AutoConfig.for_model(**config.json) -> AutoModelForCausalLM.from_config(config,
dtype=bfloat16, attn_implementation="sdpa") under the meta device -> model.to_empty(device) ->
model.initialize_weights() (transformers >= 5) or model.apply(model._init_weights); the RoPE
inv_freq buffers are then recomputed (to_empty leaves them uninitialised).

Methods (all on bfloat16 base weights):
    lora_qkvo   LoRA r=16, alpha=32, q_proj,k_proj,v_proj,o_proj
    lora_all    LoRA r=16, alpha=32, target_modules="all-linear" (every block Linear, not lm_head)
    dora        DoRA (LoRA + use_dora) r=16, alpha=32, q,k,v,o
    ia3         IA3 with peft's default targets (llama, mistral: k_proj,v_proj,down_proj; qwen2:
                q_proj,v_proj,down_proj; down_proj as feed-forward). Resolved targets are recorded.
    prompt      Prompt tuning, 20 virtual tokens (random init)
    full        full fine-tuning in pure bf16 (bf16 weights, grads and AdamW state, no autocast)
Precision of the peft methods ("precision" in each case): "autocast_bf16" (default) = bf16 base,
adapters kept in fp32 by peft's autocast_adapter_dtype, forward under torch.autocast(bfloat16), as the
HF Trainer does with bf16=True; "pure_bf16" (--peft-precision pure) = adapters cast to bf16, no autocast.
Optimizer: torch.optim.AdamW(fused=True) over the trainable parameters (the HF Trainer's default
"adamw_torch_fused" with torch >= 2.8; --adamw foreach|default to change it), lr 1e-4
(peft) / 1e-5 (full), weight_decay 0. One step = forward + backward + optimizer.step() +
zero_grad(set_to_none=True). Inputs: random token ids, labels = input ids, no padding.

Output JSON schema (one object):
{
  "schema": "peftcost-gpu-truth/1",
  "meta": {
    "started": ISO-8601 UTC, "finished": ISO-8601 UTC or null while running,
    "elapsed_seconds": float, "budget_seconds": float or null, "stopped_for_budget": bool,
    "argv": [str], "device": "cuda"|"cpu",
    "device_name": GPU name (cuda) or CPU model from /proc/cpuinfo (cpu),
    "device_total_memory_bytes": int or null, "cpu_threads": int,
    "versions": {"python", "torch", "transformers", "peft", "cuda", "cudnn", "nvidia_driver"},
    "env": {"PYTORCH_CUDA_ALLOC_CONF", "CUDA_VISIBLE_DEVICES", "HF_HUB_OFFLINE"},
    "sdpa_backends": {"flash": bool, "mem_efficient": bool, "math": bool, "cudnn": bool} (cuda),
    "steps": int, "warmup": int, "peft_precision": "autocast"|"pure", "adamw": str, "lora_dropout": float,
    "models": {name: {"config_file", "model_type", "total_params_meta"}}
  },
  "param_counts": [ {"model", "method", "status", "trainable", "all", "resolved"} ]   (only with --counts-only / --self-test)
  "cases": [ {
    "id": "c000", "model": str, "method": str,
    "seq_len": int (real tokens per sequence), "effective_seq_len": int (+ virtual tokens for prompt),
    "micro_batch": int, "grad_checkpointing": bool,
    "dtype": "bfloat16" (base weights), "precision": "pure_bf16"|"autocast_bf16",
    "status": "ok"|"oom"|"error"|"running"|"skipped_budget"|"skipped_after_oom",
    "phase": last phase entered: "build"|"peft"|"optimizer"|"warmup"|"measure"|"done",
    "step_seconds": {"median", "min", "max", "all": [float]} or null,
    "tokens_per_second": float (micro_batch * seq_len / median step) or null,
    "max_memory_allocated": int bytes (torch.cuda, whole case: build + warm-up + measure) or null on cpu,
    "max_memory_reserved": int bytes or null,
    "steady_max_memory_allocated", "steady_max_memory_reserved": the same over the measured steps only,
    "memory_after_setup": int bytes allocated after model + peft, before the first step (cuda),
    "memory_after_steps": int bytes allocated after the last step (weights + optimizer state) (cuda),
    "nvidia_smi_used_mib": int (whole GPU, sampled after the measured steps) or null,
    "peak_rss_bytes": int, "peak_rss_source": "VmHWM-reset-per-case"|"ru_maxrss-process-lifetime",
    "trainable": int, "all": int (peft get_nb_trainable_parameters(); full: numel with/without grad),
    "trainable_dtypes": [str], "method_config": {...}, "optimizer": {...},
    "loss_first", "loss_last": float or null (null if not finite),
    "build_seconds": float, "case_seconds": float,
    "memory_at_failure": {"allocated", "reserved", "max_allocated", "max_reserved", "rss_bytes"} (oom),
    "error": "Type: message" (oom/error), "skip_reason": str (skipped_*)
  } ]
}
Case order: the tiny model first (smoke check), then one case of every method on each large model at
seq 512 x micro-batch 1 without checkpointing, then longer sequences and larger batches, breadth
first (for each shape: every model, every method). A case is skipped ("skipped_after_oom") when a
case of the same model, method and checkpointing setting with no more tokens per step already ran
out of memory. Before each case the run stops (rest "skipped_budget") if elapsed time plus the
duration of the last case (the longer of the last case and the last case of the same model) would
pass --budget-s.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from datetime import datetime, timezone
from pathlib import Path

# Never download anything: set before transformers / huggingface_hub are imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore", category=FutureWarning)  # transformers 5 deprecation notices

HERE = Path(__file__).resolve().parent
CONFIG_DIR = HERE / "configs"
SCHEMA = "peftcost-gpu-truth/1"

MODELS = {
    "tiny-llama": "tiny-llama.json",
    "qwen2.5-7b": "qwen2.5-7b.json",
    "llama-3.1-8b": "llama-3.1-8b.json",
    "mistral-7b-v0.1": "mistral-7b-v0.1.json",
}
ALIASES = {"tiny": "tiny-llama", "qwen": "qwen2.5-7b", "llama": "llama-3.1-8b",
           "mistral": "mistral-7b-v0.1", "mistral-7b": "mistral-7b-v0.1",
           "llama-3.1": "llama-3.1-8b", "qwen2.5": "qwen2.5-7b"}
# Published totals (see shared/reference/models.md): used by --self-test to check the configs.
EXPECTED_TOTALS = {
    "qwen2.5-7b": 7_615_616_512,
    "llama-3.1-8b": 8_030_261_248,
    "mistral-7b-v0.1": 7_241_732_096,
    "tiny-llama": 893_568,
}
METHODS = ["lora_qkvo", "full", "lora_all", "dora", "ia3", "prompt"]
PROMPT_TOKENS = 20
DEFAULT_MODELS = "tiny-llama,qwen2.5-7b,llama-3.1-8b,mistral-7b-v0.1"


# --------------------------------------------------------------------------- small helpers

def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json_atomic(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, indent=1, allow_nan=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def finite_or_none(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def cpu_model_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def reset_peak_rss() -> bool:
    """Linux >= 4.0: writing 5 to clear_refs resets VmHWM (the peak RSS) of this process."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def read_status_kib(key: str):
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss(reset_ok: bool):
    hwm = read_status_kib("VmHWM") if reset_ok else None
    if hwm is not None:
        return hwm, "VmHWM-reset-per-case"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "ru_maxrss-process-lifetime"


def nvidia_smi_rows():
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=index,name,memory.used,memory.total,driver_version",
             "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    rows = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 5:
            try:
                rows.append({"index": int(parts[0]), "name": parts[1], "used_mib": int(float(parts[2])),
                             "total_mib": int(float(parts[3])), "driver": parts[4]})
            except ValueError:
                continue
    return rows or None


def nvidia_smi_row():
    rows = nvidia_smi_rows()
    if not rows:
        return None
    vis = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    if vis.isdigit():
        for r in rows:
            if r["index"] == int(vis):
                return r
    return rows[0]


def canonical_model(name: str) -> str:
    name = name.strip().lower()
    name = ALIASES.get(name, name)
    if name not in MODELS:
        raise SystemExit(f"unknown model {name!r}; known: {', '.join(MODELS)} (aliases: {', '.join(ALIASES)})")
    return name


def load_config_dict(model: str) -> dict:
    d = json.loads((CONFIG_DIR / MODELS[model]).read_text())
    return {k: v for k, v in d.items() if not k.startswith("_")}


# --------------------------------------------------------------------------- torch side

class Lib:
    """Lazy imports, so that --help works without torch."""

    def __init__(self):
        import torch
        import transformers
        import peft
        from packaging.version import Version
        self.torch = torch
        self.transformers = transformers
        self.peft = peft
        self.Version = Version
        self.tf_version = Version(transformers.__version__)


def build_config(lib: Lib, model: str):
    d = load_config_dict(model)
    model_type = d.pop("model_type")
    cfg = lib.transformers.AutoConfig.for_model(model_type, **d)
    cfg.use_cache = False
    return cfg


def from_config_kwargs(lib: Lib):
    torch = lib.torch
    key = "dtype" if lib.tf_version >= lib.Version("4.56.0") else "torch_dtype"
    return {key: torch.bfloat16, "attn_implementation": "sdpa"}


def build_model_meta(lib: Lib, model: str):
    torch = lib.torch
    cfg = build_config(lib, model)
    with torch.device("meta"):
        m = lib.transformers.AutoModelForCausalLM.from_config(cfg, **from_config_kwargs(lib))
    return m


def fix_rotary_buffers(lib: Lib, model) -> int:
    """to_empty() leaves non-persistent buffers (RoPE inv_freq) uninitialised: rebuild each rotary
    module on the CPU from its config and copy its buffers. Returns the number of modules fixed."""
    torch = lib.torch
    fixed = 0
    for mod in model.modules():
        if "RotaryEmbedding" not in type(mod).__name__ or not hasattr(mod, "inv_freq"):
            continue
        cfg = getattr(mod, "config", None)
        fresh = None
        with torch.device("cpu"):
            for attempt in (lambda: type(mod)(config=cfg), lambda: type(mod)(cfg)):
                try:
                    fresh = attempt()
                    break
                except Exception:  # noqa: BLE001 - signature differs between versions
                    continue
        if fresh is None:
            raise RuntimeError(f"cannot rebuild {type(mod).__name__} to restore inv_freq")
        with torch.no_grad():
            for name, buf in fresh.named_buffers(recurse=False):
                own = getattr(mod, name, None)
                if isinstance(own, torch.Tensor) and own.shape == buf.shape:
                    own.copy_(buf.to(own.dtype))
            if hasattr(fresh, "attention_scaling"):
                mod.attention_scaling = fresh.attention_scaling
        fixed += 1
    return fixed


def materialise(lib: Lib, model, device: str):
    torch = lib.torch
    model.to_empty(device=device)
    with torch.no_grad():
        if hasattr(model, "initialize_weights"):
            # transformers >= 5 skips modules flagged as initialised; a meta build never flagged them.
            model.initialize_weights()
        else:
            model.apply(model._init_weights)
        if hasattr(model, "tie_weights"):
            model.tie_weights()
    fix_rotary_buffers(lib, model)
    return model


def method_config(method: str, lora_dropout: float) -> dict:
    if method in ("lora_qkvo", "dora"):
        return {"peft_type": "LORA", "r": 16, "lora_alpha": 32, "lora_dropout": lora_dropout,
                "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "use_dora": method == "dora",
                "bias": "none"}
    if method == "lora_all":
        return {"peft_type": "LORA", "r": 16, "lora_alpha": 32, "lora_dropout": lora_dropout,
                "target_modules": "all-linear", "use_dora": False, "bias": "none"}
    if method == "ia3":
        # peft's per-architecture defaults: llama/mistral k,v,down; qwen2 q,v,down (down = feed-forward)
        return {"peft_type": "IA3", "target_modules": None, "feedforward_modules": None}
    if method == "prompt":
        return {"peft_type": "PROMPT_TUNING", "num_virtual_tokens": PROMPT_TOKENS,
                "prompt_tuning_init": "RANDOM"}
    if method == "full":
        return {"peft_type": None, "note": "all parameters trainable, pure bf16"}
    raise ValueError(method)


def apply_method(lib: Lib, model, method: str, lora_dropout: float, peft_precision: str):
    """Returns (model, trainable, all)."""
    peft = lib.peft
    mc = method_config(method, lora_dropout)
    if method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        total = sum(p.numel() for p in model.parameters())
        return model, trainable, total
    kw = {k: v for k, v in mc.items() if k != "peft_type"}
    if mc["peft_type"] == "LORA":
        pc = peft.LoraConfig(task_type="CAUSAL_LM", **kw)
    elif mc["peft_type"] == "IA3":
        pc = peft.IA3Config(task_type="CAUSAL_LM", **kw)
    else:
        pc = peft.PromptTuningConfig(task_type="CAUSAL_LM", **kw)
    autocast_adapter = peft_precision != "pure"
    try:
        pm = peft.get_peft_model(model, pc, autocast_adapter_dtype=autocast_adapter)
    except TypeError:  # very old peft
        pm = peft.get_peft_model(model, pc)
    if not autocast_adapter:
        for p in pm.parameters():
            if p.requires_grad and p.dtype != lib.torch.bfloat16:
                p.data = p.data.to(lib.torch.bfloat16)
    trainable, total = pm.get_nb_trainable_parameters()
    return pm, int(trainable), int(total)


def resolved_targets(pm):
    """The target / feed-forward modules peft actually used (after its defaults), or {}."""
    out = {}
    pc = getattr(pm, "peft_config", {}).get("default")
    for k in ("target_modules", "feedforward_modules"):
        v = getattr(pc, k, None) if pc is not None else None
        if v is not None:
            out[k] = sorted(v) if isinstance(v, (set, list, tuple)) else v
    return out


def enable_checkpointing(model):
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


# --------------------------------------------------------------------------- planning

def plan_cases(models, methods, quick: bool):
    """List of (model, method, seq_len, micro_batch, grad_checkpointing) in run order."""
    cases = []
    tiny = [m for m in models if m == "tiny-llama"]
    large = [m for m in models if m != "tiny-llama"]
    if quick:
        shapes = [(64, 1, False), (64, 1, True), (128, 2, False)]
        for shape in shapes:
            for model in tiny:
                for method in methods:
                    cases.append((model, method) + shape)
        return cases
    for model in tiny:
        for method in methods:
            cases.append((model, method, 128, 1, False))
    first = (512, 1, False)
    rest = [(512, 1, True), (2048, 1, False), (2048, 1, True), (2048, 4, True), (4096, 1, False),
            (4096, 1, True), (512, 8, False), (4096, 8, True), (2048, 4, False)]
    for shape in [first] + rest:
        for model in large:
            for method in methods:
                cases.append((model, method) + shape)
    return cases


# --------------------------------------------------------------------------- one case

def run_case(lib: Lib, args, case: dict, rss_reset_ok: bool) -> dict:
    torch = lib.torch
    dev = args.device
    is_cuda = dev.startswith("cuda")
    model_name, method = case["model"], case["method"]
    seq, mb, gcp = case["seq_len"], case["micro_batch"], case["grad_checkpointing"]
    full = method == "full"
    use_autocast = (not full) and args.peft_precision == "autocast"
    case["precision"] = "autocast_bf16" if use_autocast else "pure_bf16"
    case["dtype"] = "bfloat16"
    case["method_config"] = method_config(method, args.lora_dropout)
    case["effective_seq_len"] = seq + (PROMPT_TOKENS if method == "prompt" else 0)
    for k in ("step_seconds", "tokens_per_second", "max_memory_allocated", "max_memory_reserved",
              "steady_max_memory_allocated", "steady_max_memory_reserved", "memory_after_setup",
              "memory_after_steps", "nvidia_smi_used_mib", "trainable", "all", "loss_first", "loss_last"):
        case.setdefault(k, None)
    t_case = time.perf_counter()
    model = pm = opt = None
    state = {"phase": "build"}
    try:
        torch.manual_seed(args.seed)
        case["phase"] = "build"
        t0 = time.perf_counter()
        model = build_model_meta(lib, model_name)
        materialise(lib, model, dev)
        model.config.use_cache = False
        if gcp:
            enable_checkpointing(model)
        model.train()
        case["phase"] = "peft"
        pm, trainable, total = apply_method(lib, model, method, args.lora_dropout, args.peft_precision)
        pm.train()
        case["trainable"], case["all"] = trainable, total
        case["method_config"]["resolved"] = resolved_targets(pm)
        params = [p for p in pm.parameters() if p.requires_grad]
        case["trainable_dtypes"] = sorted({str(p.dtype).replace("torch.", "") for p in params})
        case["build_seconds"] = round(time.perf_counter() - t0, 3)
        case["phase"] = "optimizer"
        lr = 1e-5 if full else 1e-4
        impl = args.adamw
        opt_kw = {"fused": True} if impl == "fused" else {"foreach": True} if impl == "foreach" else {}
        try:
            opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0, **opt_kw)
        except (RuntimeError, ValueError, TypeError) as exc:  # e.g. fused unsupported here
            impl = f"default (asked {args.adamw}: {type(exc).__name__}: {exc})"[:300]
            opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
        case["optimizer"] = {"class": "torch.optim.AdamW", "impl": impl, "lr": lr, "weight_decay": 0.0,
                             "foreach": opt.defaults.get("foreach"), "fused": opt.defaults.get("fused")}
        if is_cuda:
            torch.cuda.synchronize()
            case["memory_after_setup"] = torch.cuda.memory_allocated()
        vocab = pm.config.vocab_size if hasattr(pm, "config") else model.config.vocab_size
        gen = torch.Generator(device="cpu").manual_seed(args.seed)
        ids = torch.randint(0, vocab, (mb, seq), generator=gen).to(dev)
        attn = torch.ones_like(ids)

        def step():
            with torch.autocast(device_type="cuda" if is_cuda else "cpu", dtype=torch.bfloat16,
                                enabled=use_autocast):
                out = pm(input_ids=ids, attention_mask=attn, labels=ids)
            loss = out.loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss.detach()

        def sync():
            if is_cuda:
                torch.cuda.synchronize()

        case["phase"] = "warmup"
        losses = []
        for _ in range(args.warmup):
            losses.append(step())
        sync()
        if is_cuda:
            case["max_memory_allocated"] = torch.cuda.max_memory_allocated()
            case["max_memory_reserved"] = torch.cuda.max_memory_reserved()
            torch.cuda.reset_peak_memory_stats()
        case["phase"] = "measure"
        times = []
        for _ in range(args.steps):
            sync()
            t = time.perf_counter()
            losses.append(step())
            sync()
            times.append(time.perf_counter() - t)
        if is_cuda:
            steady_a = torch.cuda.max_memory_allocated()
            steady_r = torch.cuda.max_memory_reserved()
            case["steady_max_memory_allocated"] = steady_a
            case["steady_max_memory_reserved"] = steady_r
            case["max_memory_allocated"] = max(case.get("max_memory_allocated") or 0, steady_a)
            case["max_memory_reserved"] = max(case.get("max_memory_reserved") or 0, steady_r)
            case["memory_after_steps"] = torch.cuda.memory_allocated()
            row = nvidia_smi_row()
            case["nvidia_smi_used_mib"] = row["used_mib"] if row else None
        if times:
            med = statistics.median(times)
            case["step_seconds"] = {"median": med, "min": min(times), "max": max(times),
                                    "all": [round(t, 6) for t in times]}
            case["tokens_per_second"] = mb * seq / med if med > 0 else None
        if losses:
            case["loss_first"] = finite_or_none(losses[0].float().item())
            case["loss_last"] = finite_or_none(losses[-1].float().item())
        case["phase"] = "done"
        case["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - every failure is data, never a crash
        oom = isinstance(exc, getattr(torch, "OutOfMemoryError", ())) or \
            isinstance(exc, getattr(torch.cuda, "OutOfMemoryError", ())) or \
            ("out of memory" in str(exc).lower()) or ("can't allocate memory" in str(exc).lower())
        case["status"] = "oom" if oom else "error"
        msg = f"{type(exc).__name__}: {exc}"
        case["error"] = msg[:2000]
        if oom:
            fail = {"rss_bytes": read_status_kib("VmRSS")}
            if is_cuda:
                fail.update({"allocated": torch.cuda.memory_allocated(),
                             "reserved": torch.cuda.memory_reserved(),
                             "max_allocated": torch.cuda.max_memory_allocated(),
                             "max_reserved": torch.cuda.max_memory_reserved()})
            case["memory_at_failure"] = fail
        else:
            case["traceback"] = traceback.format_exc()[-4000:]
        del exc
    finally:
        rss, src = peak_rss(rss_reset_ok)
        case["peak_rss_bytes"], case["peak_rss_source"] = rss, src
        case["case_seconds"] = round(time.perf_counter() - t_case, 3)
    del model, pm, opt, state
    return case


def cleanup(lib: Lib, device: str):
    gc.collect()
    if device.startswith("cuda"):
        lib.torch.cuda.empty_cache()
        lib.torch.cuda.reset_peak_memory_stats()


# --------------------------------------------------------------------------- counts on meta

def count_on_meta(lib: Lib, models, methods, lora_dropout):
    rows = []
    for model_name in models:
        for method in methods:
            row = {"model": model_name, "method": method}
            try:
                m = build_model_meta(lib, model_name)
                pm, trainable, total = apply_method(lib, m, method, lora_dropout, "autocast")
                row.update({"status": "ok", "trainable": trainable, "all": total,
                            "resolved": resolved_targets(pm)})
            except Exception as exc:  # noqa: BLE001
                row.update({"status": "error", "error": f"{type(exc).__name__}: {exc}"[:1000]})
            rows.append(row)
            gc.collect()
    return rows


# --------------------------------------------------------------------------- main

def make_meta(lib: Lib, args, models):
    torch = lib.torch
    versions = {"python": platform.python_version(), "torch": torch.__version__,
                "transformers": lib.transformers.__version__, "peft": lib.peft.__version__,
                "cuda": torch.version.cuda, "cudnn": None, "nvidia_driver": None}
    meta = {"started": now_iso(), "finished": None, "elapsed_seconds": 0.0,
            "budget_seconds": args.budget_s, "stopped_for_budget": False, "argv": sys.argv[1:],
            "device": args.device, "device_name": None, "device_total_memory_bytes": None,
            "cpu_threads": torch.get_num_threads(), "cpu_model": cpu_model_name(),
            "versions": versions,
            "env": {k: os.environ.get(k) for k in ("PYTORCH_CUDA_ALLOC_CONF", "CUDA_VISIBLE_DEVICES",
                                                   "HF_HUB_OFFLINE")},
            "steps": args.steps, "warmup": args.warmup, "peft_precision": args.peft_precision,
            "adamw": args.adamw,
            "lora_dropout": args.lora_dropout, "seed": args.seed, "models": {}}
    if args.device.startswith("cuda"):
        meta["device_name"] = torch.cuda.get_device_name()
        meta["device_total_memory_bytes"] = torch.cuda.get_device_properties(0).total_memory
        try:
            versions["cudnn"] = torch.backends.cudnn.version()
        except Exception:  # noqa: BLE001
            pass
        row = nvidia_smi_row()
        if row:
            versions["nvidia_driver"] = row["driver"]
            meta["nvidia_smi_used_mib_at_start"] = row["used_mib"]
        b = torch.backends.cuda
        meta["sdpa_backends"] = {
            "flash": b.flash_sdp_enabled(), "mem_efficient": b.mem_efficient_sdp_enabled(),
            "math": b.math_sdp_enabled(),
            "cudnn": b.cudnn_sdp_enabled() if hasattr(b, "cudnn_sdp_enabled") else None}
    else:
        meta["device_name"] = cpu_model_name()
    for m in models:
        info = {"config_file": f"configs/{MODELS[m]}", "model_type": load_config_dict(m)["model_type"]}
        try:
            mm = build_model_meta(lib, m)
            info["total_params_meta"] = sum(p.numel() for p in mm.parameters())
            del mm
        except Exception as exc:  # noqa: BLE001
            info["error"] = f"{type(exc).__name__}: {exc}"[:500]
        meta["models"][m] = info
    return meta


def run(args) -> dict:
    lib = Lib()
    torch = lib.torch
    t_start = time.perf_counter()
    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    elif not torch.cuda.is_available():
        raise SystemExit("--device cuda but torch.cuda.is_available() is False")
    models = [canonical_model(m) for m in args.models.split(",") if m.strip()]
    if args.quick:
        models = ["tiny-llama"]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for m in methods:
        if m not in METHODS:
            raise SystemExit(f"unknown method {m!r}; known: {', '.join(METHODS)}")
    out = Path(args.out)
    doc = {"schema": SCHEMA, "meta": make_meta(lib, args, models), "cases": []}

    def save():
        doc["meta"]["elapsed_seconds"] = round(time.perf_counter() - t_start, 3)
        write_json_atomic(out, doc)

    if args.counts_only:
        doc["param_counts"] = count_on_meta(lib, models, methods, args.lora_dropout)
        doc["meta"]["finished"] = now_iso()
        save()
        return doc

    plan = plan_cases(models, methods, args.quick)
    if args.max_cases:
        plan = plan[: args.max_cases]
    for i, (model, method, seq, mb, gcp) in enumerate(plan):
        doc["cases"].append({"id": f"c{i:03d}", "model": model, "method": method, "seq_len": seq,
                             "micro_batch": mb, "grad_checkpointing": gcp, "status": "pending"})
    save()
    rss_reset_ok = reset_peak_rss()
    last_dur = None
    last_dur_model = {}
    oom_at = {}  # (model, method, gc) -> smallest tokens per step that ran out of memory
    stopped = False
    for case in doc["cases"]:
        key = (case["model"], case["method"], case["grad_checkpointing"])
        tokens = case["seq_len"] * case["micro_batch"]
        if stopped:
            case["status"] = "skipped_budget"
            case["skip_reason"] = "budget reached before this case"
            continue
        if args.budget_s is not None:
            elapsed = time.perf_counter() - t_start
            est = max(last_dur or 0.0, last_dur_model.get(case["model"], 0.0))
            if elapsed + est > args.budget_s:
                stopped = True
                doc["meta"]["stopped_for_budget"] = True
                case["status"] = "skipped_budget"
                case["skip_reason"] = f"elapsed {elapsed:.1f}s + estimate {est:.1f}s > budget {args.budget_s}s"
                continue
        if key in oom_at and tokens >= oom_at[key]:
            case["status"] = "skipped_after_oom"
            case["skip_reason"] = f"same model/method/checkpointing ran out of memory at {oom_at[key]} tokens/step"
            continue
        case["status"] = "running"
        case["started"] = now_iso()
        save()  # a run killed inside this case still shows which case it was
        if args.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        if rss_reset_ok:
            reset_peak_rss()
        t0 = time.perf_counter()
        run_case(lib, args, case, rss_reset_ok)
        cleanup(lib, args.device)
        dur = time.perf_counter() - t0
        last_dur = dur
        last_dur_model[case["model"]] = dur
        if case["status"] == "oom":
            oom_at[key] = min(tokens, oom_at.get(key, tokens))
        if not args.quiet:
            sm = case.get("step_seconds") or {}
            mem = case.get("max_memory_allocated") or case.get("peak_rss_bytes") or 0
            print(f"[{case['id']}] {case['model']:16s} {case['method']:9s} seq={case['seq_len']:<5d} "
                  f"mb={case['micro_batch']} gc={int(case['grad_checkpointing'])} {case['status']:5s} "
                  f"step={sm.get('median', float('nan')):.4f}s mem={mem / 2**30:.2f}GiB "
                  f"trainable={case.get('trainable')} ({dur:.1f}s)", flush=True)
        save()
    doc["meta"]["finished"] = now_iso()
    save()
    return doc


# --------------------------------------------------------------------------- self-test

CASE_KEYS = ["id", "model", "method", "seq_len", "effective_seq_len", "micro_batch", "grad_checkpointing",
             "dtype", "precision", "status", "step_seconds", "tokens_per_second", "max_memory_allocated",
             "max_memory_reserved", "nvidia_smi_used_mib", "peak_rss_bytes", "trainable", "all"]


def check_doc(doc: dict, device: str = "cpu") -> None:
    assert doc["schema"] == SCHEMA
    meta = doc["meta"]
    for k in ("started", "finished", "device", "device_name", "versions", "budget_seconds", "steps", "warmup"):
        assert k in meta, f"meta.{k} missing"
    for k in ("torch", "transformers", "peft"):
        assert meta["versions"][k], f"version of {k} missing"
    assert isinstance(doc["cases"], list) and doc["cases"], "no cases"
    for c in doc["cases"]:
        if c["status"] != "ok":
            continue
        for k in CASE_KEYS:
            assert k in c, f"case {c.get('id')}: {k} missing"
        s = c["step_seconds"]
        assert s["min"] <= s["median"] <= s["max"] and len(s["all"]) == meta["steps"], c["id"]
        assert c["tokens_per_second"] > 0
        assert 0 < c["trainable"] <= c["all"], c["id"]
        assert c["peak_rss_bytes"] > 0
        if device == "cpu":
            assert c["max_memory_allocated"] is None and c["nvidia_smi_used_mib"] is None, c["id"]
        assert c["loss_first"] is not None and c["loss_last"] is not None, f"{c['id']}: non-finite loss"


def self_test(args) -> int:
    t0 = time.perf_counter()
    lib = Lib()
    torch = lib.torch
    torch.set_num_threads(1)
    # 1. the configs give the published parameter totals (meta device: no memory)
    for name, expected in EXPECTED_TOTALS.items():
        m = build_model_meta(lib, name)
        got = sum(p.numel() for p in m.parameters())
        assert got == expected, f"{name}: {got} parameters, expected {expected}"
        del m
    # 2. the peft counts of the tiny model match the formulas
    rows = {r["method"]: r for r in count_on_meta(lib, ["tiny-llama"], METHODS, 0.0)}
    h, kv, ff, layers = 128, 64, 352, 2
    lora_qkvo = layers * 16 * ((h + h) + (h + kv) * 2 + (h + h))
    assert rows["lora_qkvo"]["trainable"] == lora_qkvo, rows["lora_qkvo"]
    assert rows["lora_all"]["trainable"] == lora_qkvo + layers * 16 * ((h + ff) * 3), rows["lora_all"]
    assert rows["dora"]["trainable"] == lora_qkvo + layers * (h + kv + kv + h), rows["dora"]
    assert rows["ia3"]["trainable"] == layers * (kv + kv + ff), rows["ia3"]
    assert rows["prompt"]["trainable"] == PROMPT_TOKENS * h, rows["prompt"]
    assert rows["full"]["trainable"] == EXPECTED_TOTALS["tiny-llama"], rows["full"]
    # 3. materialised weights and RoPE buffers are sane
    m = materialise(lib, build_model_meta(lib, "tiny-llama"), "cpu")
    ref_cfg = build_config(lib, "tiny-llama")
    with torch.device("cpu"):
        ref = lib.transformers.AutoModelForCausalLM.from_config(ref_cfg, **from_config_kwargs(lib))
    ref_bufs = dict(ref.named_buffers())
    for name, buf in m.named_buffers():
        assert torch.isfinite(buf.float()).all(), f"buffer {name} not finite"
        if name in ref_bufs:
            assert torch.equal(buf, ref_bufs[name]), f"buffer {name} differs from a direct build"
    for name, p in m.named_parameters():
        assert torch.isfinite(p.float()).all(), f"parameter {name} not finite"
    del m, ref
    # 4. two real training cases, JSON written and shaped as documented
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "self_test.json"
        ns = argparse.Namespace(**vars(args))
        ns.device, ns.quick, ns.max_cases, ns.out = "cpu", True, 2, str(out)
        ns.methods, ns.steps, ns.warmup, ns.budget_s, ns.threads = "lora_qkvo,full", 2, 1, 120.0, 1
        ns.models = "tiny-llama"
        run(ns)
        doc = json.loads(out.read_text())
        check_doc(doc, "cpu")
        statuses = [c["status"] for c in doc["cases"]]
        assert statuses[:2] == ["ok", "ok"], statuses
        assert {c["method"] for c in doc["cases"][:2]} == {"lora_qkvo", "full"}
        assert all(c["optimizer"]["class"] == "torch.optim.AdamW" for c in doc["cases"][:2])
        # 5. a zero budget starts nothing, and still writes a complete file
        ns.budget_s, ns.max_cases = 0.0, 0
        run(ns)
        doc = json.loads(out.read_text())
        assert doc["meta"]["stopped_for_budget"] and doc["meta"]["finished"]
        assert {c["status"] for c in doc["cases"]} == {"skipped_budget"}, doc["cases"][0]
    print(f"self-test passed in {time.perf_counter() - t0:.1f}s "
          f"(torch {torch.__version__}, transformers {lib.transformers.__version__}, peft {lib.peft.__version__})")
    return 0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    p.add_argument("--budget-s", type=float, default=None,
                   help="stop starting new cases when elapsed + last case duration would pass this")
    p.add_argument("--out", default="gpu_truth.json", help="JSON output path (rewritten after every case)")
    p.add_argument("--models", default=DEFAULT_MODELS, help=f"comma list from: {', '.join(MODELS)}")
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma list from: {', '.join(METHODS)}")
    p.add_argument("--steps", type=int, default=5, help="measured steps per case")
    p.add_argument("--warmup", type=int, default=2, help="warm-up steps per case (not timed)")
    p.add_argument("--quick", action="store_true", help="tiny model only, short sequences")
    p.add_argument("--max-cases", type=int, default=0, help="run only the first N planned cases")
    p.add_argument("--peft-precision", choices=["autocast", "pure"], default="autocast")
    p.add_argument("--adamw", choices=["fused", "foreach", "default"], default="fused",
                   help="torch.optim.AdamW implementation (fused = HF Trainer's default with torch >= 2.8)")
    p.add_argument("--lora-dropout", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads with --device cpu")
    p.add_argument("--counts-only", action="store_true",
                   help="only count trainable/all parameters on the meta device (no training)")
    p.add_argument("--self-test", action="store_true", help="CPU self-check (2 tiny cases), then exit")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.self_test:
        return self_test(args)
    if args.steps < 1 or args.warmup < 0:
        raise SystemExit("--steps must be >= 1 and --warmup >= 0")
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Validate the files written by `peftcost --emit FORMAT --out DIR` with the engines' OWN code.

    python3 tests/truth/validate_emit.py DIR [--world-size N] [--gpu H100|sm_90] [--sky-accelerators-csv CSV]

For each known file present in DIR it prints one line, `OK <file>: <what was checked, versions>` or
`FAIL <file>: <error>`, and exits 1 if any line is FAIL (2 on usage errors, e.g. no known file in DIR).

The engines cannot share one virtualenv (their pins conflict), so this script runs under any python3
(standard library only at the top level) and re-executes itself per file with the right interpreter
(`--child KIND`); every child runs with cwd=DIR (relative paths such as `deepspeed: ds_config.json` resolve
as they would when the engine is started from DIR), a throw-away HOME, HF_HUB_OFFLINE=1 and no network.
Set up the virtualenvs as described in tests/truth/validate_emit.md. Interpreters (flag > env var > default):

    --venv / EMIT_VENV                  /work/emit-venv           llamafactory, deepspeed, accelerate, peft
    --venv-axolotl / EMIT_VENV_AXOLOTL  /work/emit-venv-axolotl   axolotl (+ its deepspeed pin)
    --venv-sky / EMIT_VENV_SKY          /work/emit-venv-sky       skypilot
    --venv-truth / TRUTH_VENV           /work/truth-venv          newest peft, for train_peft.py

A missing interpreter makes that file FAIL (a check that could not run never passes).

Target emulation (the checks run on a CPU machine but judge a config meant for GPUs):
  * world size: --world-size, else accelerate.yaml num_processes, else skypilot num_nodes x GPUs per node,
    else ds_config.json train_batch_size / (micro batch x grad accum), else 1;
  * GPU: --gpu, else inferred from skypilot.yaml accelerators, else H100 (sm_90). bf16/tf32 need sm_80+,
    fp8 sm_89+. Only the engines' hardware probes are replaced; everything else is their unmodified code.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile

HERE = os.path.abspath(__file__)
RESULT_TAG = "@@VALIDATE_EMIT_RESULT@@"

# file name -> (check kind, venv roles that each must pass)
FILES = [
    ("llamafactory.yaml", "llamafactory", ["emit"]),
    ("axolotl.yaml", "axolotl", ["axolotl"]),
    ("ds_config.json", "deepspeed", ["emit", "axolotl"]),
    ("accelerate.yaml", "accelerate", ["emit"]),
    ("skypilot.yaml", "skypilot", ["sky"]),
    ("train_peft.py", "peft", ["truth", "emit"]),
]
VENV_DEFAULTS = {
    "emit": ("EMIT_VENV", "/work/emit-venv"),
    "axolotl": ("EMIT_VENV_AXOLOTL", "/work/emit-venv-axolotl"),
    "sky": ("EMIT_VENV_SKY", "/work/emit-venv-sky"),
    "truth": ("TRUTH_VENV", "/work/truth-venv"),
}
# compute capability of the GPUs peftcost knows (SkyPilot canonical names)
GPU_CC = {
    "T4": 75, "T4G": 75, "V100": 70, "V100-32GB": 70, "A10": 86, "A10G": 86, "L4": 89, "L40": 89, "L40S": 89,
    "A100": 80, "A100-80GB": 80, "A800": 80, "H100": 90, "H100-80GB": 90, "H100-SXM": 90, "H100-NVL": 90,
    "H100-MEGA": 90, "H200": 90, "H200-SXM": 90, "GH200": 90, "B200": 100, "B100": 100, "GB200": 100,
}
PEFT_TYPES = {"LoraConfig", "PromptTuningConfig", "PrefixTuningConfig", "PromptEncoderConfig", "IA3Config"}


class CheckError(Exception):
    pass


def one_line(text, limit=600):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def exc_text(e):
    return f"{type(e).__name__}: {one_line(e)}"


# ----------------------------------------------------------------------------------------------
# parent
# ----------------------------------------------------------------------------------------------

def venv_python(role, args):
    flag = getattr(args, f"venv_{role}" if role != "emit" else "venv")
    env_name, default = VENV_DEFAULTS[role]
    root = flag or os.environ.get(env_name) or default
    return root, os.path.join(root, "bin", "python")


def run_child(py, kind, path, args, home):
    cmd = [py, HERE, "--child", kind, "--file", path]
    if args.world_size:
        cmd += ["--world-size", str(args.world_size)]
    if args.gpu:
        cmd += ["--gpu", args.gpu]
    if args.sky_accelerators_csv:
        cmd += ["--sky-accelerators-csv", os.path.abspath(args.sky_accelerators_csv)]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTHON", "ALLOW_EXTRA_ARGS", "RANK", "LOCAL_RANK", "WORLD_SIZE",
                                "LOCAL_WORLD_SIZE", "MASTER_", "ACCELERATE_", "CUDA_VISIBLE_DEVICES"))}
    env.update({
        "HOME": home, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1", "AXOLOTL_DO_NOT_TRACK": "1", "WANDB_MODE": "disabled",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "TOKENIZERS_PARALLELISM": "false",
        "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
    })
    try:
        proc = subprocess.run(cmd, cwd=os.path.dirname(path), env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return False, f"check timed out after {args.timeout}s"
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            res = json.loads(line[len(RESULT_TAG):])
            return res["ok"], res["msg"]
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return False, f"checker crashed (rc={proc.returncode}): {one_line(' | '.join(tail), 400)}"


def parent_main(args):
    d = os.path.abspath(args.dir)
    if not os.path.isdir(d):
        print(f"usage error: {d} is not a directory", file=sys.stderr)
        return 2
    only = set(args.only.split(",")) if args.only else None
    if only and only - {f[0] for f in FILES}:
        print(f"usage error: --only knows {[f[0] for f in FILES]}", file=sys.stderr)
        return 2
    present = [f for f in FILES if os.path.isfile(os.path.join(d, f[0])) and (only is None or f[0] in only)]
    if not present:
        print(f"usage error: none of {[f[0] for f in FILES]} is in {d}", file=sys.stderr)
        return 2
    failed = False
    with tempfile.TemporaryDirectory(prefix="validate-emit-") as home:
        for name, kind, roles in present:
            oks, msgs = [], []
            for role in roles:
                root, py = venv_python(role, args)
                if not os.path.exists(py):
                    oks.append(False)
                    msgs.append(f"[{role} venv] interpreter {py} missing (see tests/truth/validate_emit.md)")
                    continue
                ok, msg = run_child(py, kind, os.path.join(d, name), args, home)
                oks.append(ok)
                msgs.append(msg if len(roles) == 1 else f"[{os.path.basename(root)}] {msg}")
            ok = all(oks)
            failed |= not ok
            shown = msgs if ok else [m for m, o in zip(msgs, oks) if not o]
            print(f"{'OK' if ok else 'FAIL'} {name}: {' ; '.join(shown)}", flush=True)
    return 1 if failed else 0


# ----------------------------------------------------------------------------------------------
# child helpers (run inside an engine venv, cwd = DIR)
# ----------------------------------------------------------------------------------------------

def _load_yaml(path):
    import yaml
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _version(dist):
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def world_size(args):
    """(N, where it came from); see the module docstring for the order."""
    if args.world_size:
        return int(args.world_size), "--world-size"
    if os.path.isfile("accelerate.yaml"):
        try:
            n = _load_yaml("accelerate.yaml").get("num_processes")
            if isinstance(n, int) and n > 0:
                return n, "accelerate.yaml num_processes"
        except Exception:
            pass
    if os.path.isfile("skypilot.yaml"):
        try:
            sky = _load_yaml("skypilot.yaml")
            acc = (sky.get("resources") or {}).get("accelerators")
            per = None
            if isinstance(acc, str):
                per = int(acc.split(":")[1]) if ":" in acc else 1
            elif isinstance(acc, dict) and len(acc) == 1:
                per = int(list(acc.values())[0])
            if per:
                return int(sky.get("num_nodes") or 1) * per, "skypilot.yaml num_nodes x accelerators"
        except Exception:
            pass
    if os.path.isfile("ds_config.json"):
        try:
            with open("ds_config.json", encoding="utf-8") as f:
                ds = json.load(f)
            tb, mb, ga = (ds.get(k) for k in ("train_batch_size", "train_micro_batch_size_per_gpu",
                                              "gradient_accumulation_steps"))
            if all(isinstance(x, int) and x > 0 for x in (tb, mb, ga)) and tb % (mb * ga) == 0:
                return tb // (mb * ga), "ds_config.json train_batch_size/(micro*accum)"
        except Exception:
            pass
    return 1, "default"


def target_gpu(args):
    """(name, compute capability as int like 90)."""
    g = args.gpu
    if not g and os.path.isfile("skypilot.yaml"):
        try:
            acc = (_load_yaml("skypilot.yaml").get("resources") or {}).get("accelerators")
            if isinstance(acc, dict) and len(acc) == 1:
                acc = list(acc)[0]
            if isinstance(acc, str):
                name = acc.split(":")[0].upper()
                if name in GPU_CC:
                    g = name
        except Exception:
            pass
    g = g or "H100"
    m = re.fullmatch(r"sm_?(\d+)", g, re.IGNORECASE)
    if m:
        return g, int(m.group(1))
    if g.upper() not in GPU_CC:
        raise CheckError(f"--gpu {g!r}: unknown GPU (use sm_XX or one of {sorted(GPU_CC)})")
    return g.upper(), GPU_CC[g.upper()]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _emulate_gpu_probes(cc):
    """Make transformers/llamafactory answer their bf16 probes as the target GPU would."""
    import transformers.training_args as ta
    ta.is_torch_bf16_gpu_available = lambda *a, **k: cc >= 80
    # DeepSpeed on a CPU host would JIT-compile its shared-memory comm op when torch.distributed starts;
    # that op does not exist on a CUDA target, so skip it.
    import deepspeed.comm.torch  # noqa: F401
    sys.modules["deepspeed.comm.torch"].build_shm_op = lambda: None


class _TracingDict(dict):
    """Records which top-level keys the engine looks up (copy.copy keeps the class and the record)."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.read = set()

    def get(self, k, *a):
        self.read.add(k)
        return super().get(k, *a)

    def __getitem__(self, k):
        self.read.add(k)
        return super().__getitem__(k)

    def __contains__(self, k):
        self.read.add(k)
        return super().__contains__(k)


def _has_auto(obj):
    if obj == "auto":
        return True
    if isinstance(obj, dict):
        return any(_has_auto(v) for v in obj.values())
    if isinstance(obj, list):
        return any(_has_auto(v) for v in obj)
    return False


def _ds_config(cfg_dict, ws):
    """Build deepspeed.runtime.config.DeepSpeedConfig offline for a data-parallel world of `ws` ranks.
    Returns (config, top-level keys DeepSpeedConfig never read)."""
    from unittest import mock
    import deepspeed.runtime.config as C

    class _MPU:  # DeepSpeedConfig's own hook for the data-parallel world size
        def get_data_parallel_world_size(self):
            return ws

    traced = _TracingDict(cfg_dict)
    with mock.patch.object(C.dist, "get_rank", return_value=0):
        cfg = C.DeepSpeedConfig(traced, mpu=_MPU())
    return cfg, sorted(set(cfg_dict) - traced.read)


def _ds_mismatches(ds_file, targs_like):
    """transformers' own DS<->TrainingArguments consistency check (trainer_config_process; the Trainer raises
    on these in trainer_config_finalize)."""
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig
    hf = HfTrainerDeepSpeedConfig(ds_file)
    hf.trainer_config_process(targs_like)
    return hf.mismatches


# ----------------------------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------------------------

def check_llamafactory(path, args):
    from pathlib import Path
    from omegaconf import OmegaConf
    raw = OmegaConf.to_container(OmegaConf.load(Path(path).absolute()))  # exactly how llamafactory-cli reads it
    if not isinstance(raw, dict):
        raise CheckError("top level is not a mapping")
    ws, ws_src = world_size(args)
    gpu, cc = target_gpu(args)
    if raw.get("deepspeed"):
        # `FORCE_TORCHRUN=1 llamafactory-cli train` runs each rank under torchrun: emulate rank 0 of a
        # 1-process torchrun (gloo on 127.0.0.1), the world size is emulated below for the batch checks.
        os.environ.update({"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "LOCAL_WORLD_SIZE": "1",
                           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port())})
    os.environ.pop("ALLOW_EXTRA_ARGS", None)
    _emulate_gpu_probes(cc)
    from unittest import mock
    import llamafactory.hparams.parser as P
    P.is_torch_bf16_gpu_available = lambda *a, **k: cc >= 80
    from transformers import HfArgumentParser

    # 1. types and choices (Literal/Enum fields) with LLaMA-Factory's own HfArgumentParser over its own
    #    dataclasses, as `llamafactory-cli train --key value` parses them; the YAML path (parse_dict below)
    #    skips this, so e.g. `stage: sft2` or `flash_attn: flash_attention_2` would only fail after model load.
    hp = HfArgumentParser(P._TRAIN_ARGS)

    def _error(message):
        raise CheckError(f"type/choice check (HfArgumentParser): {message}")

    hp.error = _error
    argv = []
    for k, v in raw.items():
        if v is None or isinstance(v, (dict, list)):
            continue
        argv += [f"--{k}", ("true" if v else "false") if isinstance(v, bool) else str(v)]
    hp.parse_known_args(argv)

    # 2. LLaMA-Factory's own entry point for `llamafactory-cli train` (unknown keys, cross-field checks,
    #    deepspeed file loaded by transformers' TrainingArguments, ...)
    model_args, data_args, training_args, finetuning_args, _ = P.get_train_args(dict(raw))

    notes = []
    # 3. ds_config.json vs the training arguments, with transformers' own consistency check
    if training_args.deepspeed:
        with mock.patch.object(type(training_args), "world_size", new_callable=mock.PropertyMock, return_value=ws):
            mism = _ds_mismatches(training_args.deepspeed, training_args)
        if mism:
            raise CheckError(f"DeepSpeed config mismatches TrainingArguments (world size {ws} from {ws_src}): "
                             + "; ".join(m.strip("- ") for m in mism))
        notes.append(f"deepspeed {training_args.deepspeed} consistent at world size {ws} ({ws_src})")
    # 4. template name against LLaMA-Factory's template registry (checked there only after the tokenizer loads)
    from llamafactory.data.template import TEMPLATES
    if data_args.template is not None and data_args.template not in TEMPLATES:
        raise CheckError(f"Template {data_args.template} does not exist (LLaMA-Factory TEMPLATES)")
    # 5. dataset names: resolved by LLaMA-Factory against <dataset_dir>/dataset_info.json at train time
    from llamafactory.data.parser import get_dataset_list
    info = os.path.join(data_args.dataset_dir, "dataset_info.json")
    if data_args.dataset_dir == "ONLINE" or os.path.isfile(info):
        get_dataset_list(data_args.dataset, data_args.dataset_dir)
        notes.append(f"datasets {data_args.dataset} resolved via {data_args.dataset_dir}")
    else:
        notes.append(f"dataset names {data_args.dataset} not resolved: {info} absent (needed at train time)")
    return (f"llamafactory get_train_args + HfArgumentParser type/choice check: stage={finetuning_args.stage} "
            f"finetuning_type={finetuning_args.finetuning_type} template={data_args.template} "
            f"(target {gpu}/sm_{cc}); " + "; ".join(notes) + "; "
            f"llamafactory {_version('llamafactory')}, transformers {_version('transformers')}, "
            f"deepspeed {_version('deepspeed')}")


def _schema_names(model_cls):
    names = set()
    for n, f in model_cls.model_fields.items():
        names.add(n)
        for a in (f.alias, f.validation_alias):
            if isinstance(a, str):
                names.add(a)
            elif a is not None and hasattr(a, "choices"):
                names.update(c for c in a.choices if isinstance(c, str))
    return names


def check_axolotl(path, args):
    import copy
    raw = _load_yaml(path)  # axolotl.cli.config.load_cfg uses yaml.safe_load too
    if not isinstance(raw, dict):
        raise CheckError("top level is not a mapping")
    ws, ws_src = world_size(args)
    gpu, cc = target_gpu(args)
    import torch
    from axolotl.utils.config import prepare_plugins, validate_config
    from axolotl.utils.dict import DictDefault
    from axolotl.utils.schemas.config import AxolotlConfigWCapabilities
    from axolotl.utils.schemas.datasets import SFTDataset
    from axolotl.utils.schemas.enums import CustomSupportedOptimizers

    cfg = DictDefault(copy.deepcopy(raw))
    schema = AxolotlConfigWCapabilities
    if cfg.get("plugins"):
        from axolotl.utils.config import merge_input_args
        prepare_plugins(cfg)
        schema = merge_input_args()[0]
    # capabilities as axolotl.cli.config.gpu_capabilities() would report them on the target GPU
    caps = {"bf16": cc >= 80, "fp8": cc >= 89, "tf32": cc >= 80, "n_gpu": ws, "compute_capability": f"sm_{cc}"}
    env_caps = {"torch_version": str(torch.__version__).split("+", maxsplit=1)[0]}
    out = validate_config(cfg, capabilities=caps, env_capabilities=env_caps)

    # axolotl's pydantic schema silently drops unknown keys: report them against the schema's own fields
    unknown = sorted(k for k in raw if k not in _schema_names(schema))
    ds_fields = _schema_names(SFTDataset)
    for i, ds in enumerate(raw.get("datasets") or []):
        if isinstance(ds, dict):
            unknown += [f"datasets[{i}].{k}" for k in ds if k not in ds_fields]
    if unknown:
        raise CheckError(f"keys unknown to axolotl's schema (axolotl itself silently ignores them): {unknown}")

    # optimizer: axolotl passes non-custom names to transformers' TrainingArguments(optim=...)
    from transformers.training_args import OptimizerNames
    opt = out.get("optimizer")
    allowed = {o.value for o in OptimizerNames} | {o.value for o in CustomSupportedOptimizers}
    if opt is not None and opt not in allowed:
        raise CheckError(f"optimizer {opt!r} is neither a transformers OptimizerNames value nor an axolotl "
                         "CustomSupportedOptimizers value")

    notes = []
    ds_path = out.get("deepspeed")
    if isinstance(ds_path, str):
        if not os.path.isfile(ds_path):
            raise CheckError(f"deepspeed: {ds_path} does not exist (transformers' TrainingArguments would reject it)")
        from types import SimpleNamespace

        def _or(v, d):
            return d if v is None else v

        bf16 = out.get("bf16") is True or out.get("bfloat16") is True or (out.get("bf16") == "auto" and cc >= 80)
        fp16 = out.get("fp16") is True or out.get("float16") is True
        targs = SimpleNamespace(
            world_size=ws, per_device_train_batch_size=out.get("micro_batch_size"),
            gradient_accumulation_steps=_or(out.get("gradient_accumulation_steps"), 1),
            max_grad_norm=_or(out.get("max_grad_norm"), 1.0), learning_rate=out.get("learning_rate"),
            adam_beta1=_or(out.get("adam_beta1"), 0.9), adam_beta2=_or(out.get("adam_beta2"), 0.999),
            adam_epsilon=_or(out.get("adam_epsilon"), 1e-8), weight_decay=_or(out.get("weight_decay"), 0.0),
            save_on_each_node=False, fp16=fp16, fp16_full_eval=False, bf16=bf16, bf16_full_eval=False)
        mism = _ds_mismatches(ds_path, targs)
        if mism:
            raise CheckError(f"DeepSpeed config mismatches axolotl.yaml (world size {ws} from {ws_src}): "
                             + "; ".join(m.strip("- ") for m in mism))
        notes.append(f"deepspeed {ds_path} consistent at world size {ws} ({ws_src})")
    return (f"axolotl validate_config (AxolotlConfigWCapabilities, emulated {gpu}/sm_{cc} x{ws}) + unknown-key "
            f"check: adapter={out.get('adapter')} attn={out.get('attn_implementation')}"
            + "".join(f"; {n}" for n in notes)
            + f"; axolotl {_version('axolotl')}, transformers {_version('transformers')}, "
            f"deepspeed {_version('deepspeed')}")


def check_deepspeed(path, args):
    import hjson
    import deepspeed.runtime.config as C
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        cfg = json.loads(text)  # transformers/accelerate load the file with json.load: it must be strict JSON
    except json.JSONDecodeError as e:
        raise CheckError(f"not strict JSON: {e}")
    hjson.loads(text, object_pairs_hook=C.dict_raise_error_on_duplicate_keys)  # DeepSpeed's own file loader
    if _has_auto(cfg):
        raise CheckError('contains "auto" values: only the HF Trainer/accelerate fill them; peftcost should emit '
                         "concrete numbers")
    ws, ws_src = world_size(args)
    dsc, unread = _ds_config(cfg, ws)
    if unread:
        raise CheckError(f"top-level keys never read by DeepSpeedConfig (DeepSpeed silently ignores them): {unread}")
    zc = dsc.zero_config
    off = getattr(zc.offload_optimizer.device, "value", zc.offload_optimizer.device) if zc.offload_optimizer else "none"
    offp = getattr(zc.offload_param.device, "value", zc.offload_param.device) if zc.offload_param else "none"
    prec = "bf16" if dsc.bfloat16_config.enabled else ("fp16" if dsc.float16_config.enabled else "fp32")
    return (f"DeepSpeedConfig (world size {ws} from {ws_src}): train_batch_size={dsc.train_batch_size} "
            f"micro={dsc.train_micro_batch_size_per_gpu} accum={dsc.gradient_accumulation_steps} "
            f"zero_stage={int(dsc.zero_optimization_stage)} offload_optimizer={off} offload_param={offp} {prec}; "
            f"deepspeed {_version('deepspeed')}")


def check_accelerate(path, args):
    from unittest import mock
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    import accelerate.utils.launch as L
    # 1. accelerate's own loader: unknown top-level keys, distributed_type / compute_environment enums
    cfg = load_config_from_file(path)
    # 2. the argument handling of `accelerate launch --config_file PATH train.py`, stopping before any process
    #    is started; deepspeed_config keys are copied onto launch arguments, unknown ones would be dropped
    parser = launch_command_parser()
    largs = parser.parse_args(["--config_file", path, "train.py"])
    unknown = sorted(k for k in (cfg.deepspeed_config or {}) if not hasattr(largs, k))
    if unknown:
        raise CheckError(f"deepspeed_config keys that `accelerate launch` does not know (silently ignored): {unknown}")
    largs, defaults, mp_from_config = _validate_launch_command(largs)
    detail = ""
    with mock.patch.object(L, "is_port_in_use", return_value=False):  # a property of this host, not the config
        if largs.use_deepspeed:
            fields = list(defaults.deepspeed_config.keys()) + (["mixed_precision"] if mp_from_config else [])
            largs.deepspeed_fields_from_accelerate_config = ",".join(fields)
            _, env = L.prepare_deepspeed_cmd_env(largs)
            from accelerate.utils import DeepSpeedPlugin
            with mock.patch.dict(os.environ, env, clear=True):
                plugin = DeepSpeedPlugin()  # loads/validates deepspeed_config_file or builds the inline config
            ds = plugin.deepspeed_config
            if not cfg.deepspeed_config.get("deepspeed_config_file"):
                # inline config: let DeepSpeed validate it as the Accelerator would after filling the "auto"s
                import copy
                filled = copy.deepcopy(ds)
                filled.pop("steps_per_print", None)
                gas = filled.get("gradient_accumulation_steps")
                gas = gas if isinstance(gas, int) else 1
                filled.update({"train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": gas,
                               "train_batch_size": largs.num_processes * gas})
                if filled.get("gradient_clipping") == "auto":
                    filled["gradient_clipping"] = 1.0
                _ds_config(filled, largs.num_processes)
            detail = (f"DEEPSPEED zero_stage={plugin.zero_stage} "
                      f"config_file={cfg.deepspeed_config.get('deepspeed_config_file')} "
                      f"mixed_precision={env['ACCELERATE_MIXED_PRECISION']} "
                      f"deepspeed {_version('deepspeed')}")
        elif largs.multi_gpu or largs.use_fsdp:
            env = L.prepare_multi_gpu_env(largs)
            detail = f"{cfg.distributed_type.value} mixed_precision={env['ACCELERATE_MIXED_PRECISION']}"
        else:
            _, env = L.prepare_simple_launcher_cmd_env(largs)
            detail = f"{cfg.distributed_type.value} mixed_precision={env['ACCELERATE_MIXED_PRECISION']}"
    return (f"accelerate load_config_from_file + launch argument handling: {detail}, "
            f"num_machines={largs.num_machines} num_processes={largs.num_processes}; "
            f"accelerate {_version('accelerate')}")


def check_skypilot(path, args):
    import sky
    from sky import catalog
    from sky.utils import gpu_names
    # Task.from_yaml: SkyPilot's JSON schema (unknown keys with did-you-mean, types, the infra pattern, i.e. the
    # supported clouds), Resources construction
    task = sky.Task.from_yaml(path)
    # Task.validate() minus Resources.validate(), which needs the hosted catalog (downloaded at run time)
    task.validate_name()
    task.validate_run()
    task.expand_and_validate_workdir()
    task.expand_and_validate_file_mounts()
    known = {n.lower(): n for n in list(gpu_names.CANONICAL_GPU_NAMES) + catalog.get_common_gpus()}
    csv_accs = None
    if args.sky_accelerators_csv:
        import csv
        import ast
        with open(args.sky_accelerators_csv, encoding="utf-8") as f:
            csv_accs = {r["AcceleratorName"]: ast.literal_eval(r["Clouds"]) if r["Clouds"].startswith("[")
                        else [r["Clouds"]] for r in csv.DictReader(f)}
        known = {n.lower(): n for n in csv_accs}
    parts = []
    for r in task.resources:
        accs = r.accelerators or {}
        for name, count in accs.items():
            if name.lower().startswith("tpu-"):
                continue
            canon = known.get(name.lower())
            if canon is None:
                src = args.sky_accelerators_csv or "sky.utils.gpu_names.CANONICAL_GPU_NAMES + sky.catalog.get_common_gpus()"
                raise CheckError(f"accelerator {name!r} is not a SkyPilot accelerator name (checked against {src})")
            if csv_accs is not None and r.cloud is not None:
                clouds = [c.lower() for c in csv_accs[canon]]
                if str(r.cloud).lower() not in clouds:
                    raise CheckError(f"accelerator {canon} is not offered on {r.cloud} (catalog: {csv_accs[canon]})")
            if count != int(count) or count < 1:
                raise CheckError(f"accelerator count {count} for {name} (expected a whole number >= 1)")
        parts.append(f"{r.cloud}/{r.region or '*'} {accs} spot={r.use_spot} disk={r.disk_size}GB")
    catalog_note = ("accelerator names and clouds checked against " + args.sky_accelerators_csv
                    if args.sky_accelerators_csv else
                    "accelerator names checked against SkyPilot's built-in GPU list; region and per-cloud "
                    "availability need the hosted catalog (not checked)")
    return (f"sky.Task.from_yaml + Task validation: num_nodes={task.num_nodes} " + ", ".join(parts)
            + f"; {catalog_note}; skypilot {sky.__version__}")


def check_peft(path, args):
    import copy
    import importlib.util
    with open(path, encoding="utf-8") as f:
        src = f.read()
    compile(src, path, "exec")  # same as py_compile, without writing a .pyc
    spec = importlib.util.spec_from_file_location("emitted_train_peft", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # must not train: training belongs under `if __name__ == "__main__":`
    fn = getattr(mod, "build_peft_config", None)
    if not callable(fn):
        raise CheckError("no callable build_peft_config()")
    cfg = fn()
    import peft
    from peft.config import PeftConfigMixin
    method = getattr(mod, "METHOD", None)
    if cfg is None and method == "full":
        return (f"compiles, imports without training, build_peft_config() -> None for METHOD = 'full' "
                f"(every weight trains); peft {_version('peft')}, transformers {_version('transformers')}")
    if method == "adapter":
        return (f"compiles, imports without training, build_peft_config() -> {type(cfg).__name__} "
                f"(AdapterHub adapters, not peft)")
    if not isinstance(cfg, PeftConfigMixin):
        raise CheckError(f"build_peft_config() returned {type(cfg).__name__}, not a peft config")
    if type(cfg).__name__ not in PEFT_TYPES:
        raise CheckError(f"build_peft_config() returned {type(cfg).__name__}, expected one of {sorted(PEFT_TYPES)}")
    # peft's own (de)serialisation, as save_pretrained/from_pretrained do it
    again = peft.PeftConfig.from_peft_type(**cfg.to_dict())
    if type(again) is not type(cfg):
        raise CheckError(f"to_dict/from_peft_type round trip gave {type(again).__name__}")
    # apply it to a tiny random Llama-architecture model (the module names of Llama/Qwen2/Mistral) and run a step
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig
    torch.manual_seed(0)
    tiny = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    model = AutoModelForCausalLM.from_config(tiny)
    targets = getattr(cfg, "target_modules", None)
    llama_names = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    if (getattr(mod, "TRUST_REMOTE_CODE", False) and isinstance(targets, (list, set, tuple))
            and not set(targets) & llama_names):
        # Qwen v1 / ChatGLM / MiniCPM names (c_attn, query_key_value, ...) exist only in their remote
        # code, which cannot be fetched offline: the tiny-Llama step does not apply.
        return (f"compiles, imports without training, build_peft_config() -> {type(cfg).__name__} "
                f"(target_modules {sorted(targets)} of a remote-code architecture: get_peft_model on a tiny "
                f"Llama skipped), round-trips; peft {_version('peft')}, transformers {_version('transformers')}")
    bert_names = {"query", "key", "value", "dense", "intermediate.dense", "output.dense", "attention.output.dense"}
    if isinstance(targets, (list, set, tuple)) and set(targets) <= bert_names:
        # A BERT encoder (BGE): a tiny random BERT with the same module names.
        from transformers import AutoModelForSequenceClassification, BertConfig, BertModel
        bert = BertConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                          num_attention_heads=4, max_position_embeddings=64, num_labels=2)
        seq_cls = str(cfg.task_type).endswith("SEQ_CLS")
        model = AutoModelForSequenceClassification.from_config(bert) if seq_cls else BertModel(bert)
        pm = peft.get_peft_model(model, copy.deepcopy(cfg))
        trainable = sum(p.numel() for p in pm.parameters() if p.requires_grad)
        ids = torch.randint(0, 128, (2, 8))
        out = pm(input_ids=ids, labels=torch.tensor([0, 1])) if seq_cls else pm(input_ids=ids)
        (out.loss if seq_cls else out.last_hidden_state.sum()).backward()
        return (f"compiles, imports without training, build_peft_config() -> {type(cfg).__name__} "
                f"(task_type={cfg.task_type}), round-trips, get_peft_model on a tiny BERT: {trainable} "
                f"trainable params, forward+backward ok; peft {_version('peft')}, "
                f"transformers {_version('transformers')}")
    pm = peft.get_peft_model(model, copy.deepcopy(cfg))
    # peft only fails when NO target matches; a partly wrong list (e.g. a typo next to good names) passes there
    targets = getattr(cfg, "target_modules", None)
    if isinstance(targets, (list, set, tuple)):
        hit = list(getattr(pm, "targeted_module_names", []) or [])
        missing = sorted(t for t in targets if not any(n == t or n.endswith("." + t) for n in hit))
        if missing:
            raise CheckError(f"target_modules {missing} match no module of a Llama-architecture model "
                             "(Llama/Qwen2/Mistral names); peft itself ignores them when another target matches")
    trainable = sum(p.numel() for p in pm.parameters() if p.requires_grad)
    if trainable == 0:
        raise CheckError("get_peft_model left no trainable parameter")
    ids = torch.randint(0, 128, (1, 8))
    loss = pm(input_ids=ids, labels=ids).loss
    loss.backward()
    return (f"compiles, imports without training, build_peft_config() -> {type(cfg).__name__} "
            f"(peft_type={cfg.peft_type.value if hasattr(cfg.peft_type, 'value') else cfg.peft_type}, "
            f"task_type={cfg.task_type}), round-trips, get_peft_model on a tiny Llama: {trainable} trainable "
            f"params, forward+backward ok; peft {_version('peft')}, transformers {_version('transformers')}")


CHECKS = {"llamafactory": check_llamafactory, "axolotl": check_axolotl, "deepspeed": check_deepspeed,
          "accelerate": check_accelerate, "skypilot": check_skypilot, "peft": check_peft}


def child_main(args):
    import contextlib
    import io
    import logging
    import warnings
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    sink = io.StringIO()
    try:
        # keep the engines' own chatter off stdout (the result line is parsed from it)
        with contextlib.redirect_stdout(sink):
            msg = CHECKS[args.child](os.path.abspath(args.file), args)
        res = {"ok": True, "msg": msg}
    except CheckError as e:
        res = {"ok": False, "msg": one_line(e)}
    except BaseException as e:  # the engines raise ValueError, AssertionError, pydantic errors, SystemExit...
        res = {"ok": False, "msg": exc_text(e)}
    sys.stderr.write(sink.getvalue()[-4000:])
    print(RESULT_TAG + json.dumps(res), flush=True)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", help="directory written by peftcost --emit ... --out DIR")
    ap.add_argument("--world-size", type=int, help="GPUs in the data-parallel world (default: inferred)")
    ap.add_argument("--gpu", help="target GPU: a SkyPilot name (H100, A100-80GB, L4, ...) or sm_XX "
                                  "(default: from skypilot.yaml, else H100)")
    ap.add_argument("--sky-accelerators-csv", help="optional SkyPilot catalog common/accelerators.csv: check "
                                                   "accelerator names and their clouds against it")
    ap.add_argument("--only", help="comma-separated file names to check (default: every known file in DIR)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per check (default 600)")
    ap.add_argument("--venv", help="venv with llamafactory/deepspeed/accelerate/peft (default $EMIT_VENV or "
                                   "/work/emit-venv)")
    ap.add_argument("--venv-axolotl", help="axolotl venv (default $EMIT_VENV_AXOLOTL or /work/emit-venv-axolotl)")
    ap.add_argument("--venv-sky", help="skypilot venv (default $EMIT_VENV_SKY or /work/emit-venv-sky)")
    ap.add_argument("--venv-truth", help="venv with the newest peft (default $TRUTH_VENV or /work/truth-venv)")
    ap.add_argument("--child", choices=sorted(CHECKS), help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args)
    if not args.dir:
        ap.error("DIR is required")
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())

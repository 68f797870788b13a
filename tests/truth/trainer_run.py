#!/usr/bin/env python3
"""A real, short run of transformers' Trainer on this CPU, for `peftcost calibrate --from-log`.

Trains LoRA (peft's default targets for llama, q_proj and v_proj, r=8, alpha 16) on a
random-initialised 4-layer llama (`configs/small-llama.json`, not a published model) with random
tokens, fp32, 40 optimizer steps of 4 sequences x 256 tokens, and writes into OUT_DIR:
- `trainer_state.json`: the Trainer's own state (log_history, train_runtime, total_flos, ...);
- `steps.csv`: the wall time of every optimizer step (`step,step_seconds,peak_rss_gib`), timed by
  a TrainerCallback;
- `run.json`: the versions, the machine and the peftcost scenario that describes the run.

The scenario in peftcost flags (tests/it/calibrate.rs uses the same):
  --model-config tests/truth/configs/small-llama.json --method lora --dtype fp32 --seq-len 256
  --micro-batch 4 --grad-accum 1 --samples 160 --epochs 1 --hardware cpu-16c

Run (about a minute on 2 cores): /work/truth-venv/bin/python tests/truth/trainer_run.py tests/truth/trainer-run
A second run at another shape, to check a calibration away from the run it was fitted to
(`tests/truth/trainer-run-s512-mb8`, about three minutes):
  /work/truth-venv/bin/python tests/truth/trainer_run.py tests/truth/trainer-run-s512-mb8 512 8
(torch 2.15 CPU, transformers 5.25, peft 0.21.2 when it was committed; not run by CI).
"""
import json
import os
import platform
import resource
import sys
import time

import torch
import transformers
import peft
from transformers import AutoConfig, AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments

HERE = os.path.dirname(os.path.abspath(__file__))
SEQ, MB, STEPS = 256, 4, 40
if len(sys.argv) > 3:
    SEQ, MB = int(sys.argv[2]), int(sys.argv[3])


class Tokens(torch.utils.data.Dataset):
    def __init__(self, n, vocab):
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(3, vocab, (n, SEQ), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i].clone()}


class StepTimer(TrainerCallback):
    def __init__(self):
        self.rows, self.t = [], None

    def on_step_begin(self, args, state, control, **kw):
        self.t = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
        self.rows.append((state.global_step, time.perf_counter() - self.t, rss))


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    cfg = AutoConfig.from_pretrained(os.path.join(HERE, "configs", "small-llama.json"))
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    model = peft.get_peft_model(
        model, peft.LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
    )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    timer = StepTimer()
    args = TrainingArguments(
        output_dir=os.path.join(out, "_trainer"),
        per_device_train_batch_size=MB,
        gradient_accumulation_steps=1,
        num_train_epochs=1,
        learning_rate=1e-4,
        logging_steps=5,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=Tokens(STEPS * MB, cfg.vocab_size), callbacks=[timer])
    trainer.train()
    trainer.state.save_to_json(os.path.join(out, "trainer_state.json"))
    with open(os.path.join(out, "steps.csv"), "w") as f:
        f.write("step,step_seconds,peak_rss_gib\n")
        for s, t, r in timer.rows:
            f.write(f"{s},{t:.6f},{r:.4f}\n")
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump(
            {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "peft": peft.__version__,
                "python": platform.python_version(),
                "machine": platform.processor() or platform.machine(),
                "threads": torch.get_num_threads(),
                "trainable_params": trainable,
                "seq_len": SEQ,
                "micro_batch": MB,
                "steps": STEPS,
            },
            f,
            indent=2,
        )
    import shutil

    shutil.rmtree(os.path.join(out, "_trainer"), ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "trainer-run"))

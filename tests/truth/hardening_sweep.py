#!/usr/bin/env python3
"""Issue 19's sweep, rerun: the classes of bad input and fault it was filed with, against the
release binary, counted as panics/aborts, hangs, wrong exit 0 and data lost.

  cargo build --release && python3 tests/truth/hardening_sweep.py [--quick] > tests/truth/hardening-sweep.txt

Not run by CI (several thousand processes; about 15 minutes on 2 cores). Python 3.9+, the standard
library only; the TUI class needs Linux ptys. The classes:

- numeric: every numeric flag of estimate, plan, deploy and report, with values that are always
  invalid (negative, NaN, inf, text, empty, beyond u64) and edge values (0, 1, 2^32, 2^63,
  u64::MAX, 1e308, 1e-308, 2^16, 2^20, 0.5). An invalid value must exit non-zero; an edge value
  that exits 0 must give JSON that holds together (trainable <= all and > 0 for a PEFT method,
  fits <=> memory <= capacity, headroom = capacity - memory, no negative or astronomically large
  cost/hours/bytes).
- ids: unknown, empty, escape-laden, 100 KB and path-like model/hardware/provider/method/region
  ids: non-zero exit, one line, no raw ESC, at most 2 KB of error.
- data files: every byte prefix of every shipped pricing table and fx.toml (`pricing validate`
  must refuse each strict prefix: the end marker), and every byte prefix of a calibration, an HF
  config.json, a vLLM bench JSON and a trainer_state.json (JSON: every prefix is invalid), plus
  prefixes of the model TOML, LLaMA-Factory YAML and training-log CSV (a prefix may be valid
  there: only panics and hangs count); /dev/zero, /dev/urandom, a FIFO and a directory as each
  kind of file.
- out: `report --out`, `models import --out`, `calibrate --out` and `estimate --emit --out` onto a
  symlink to a victim file, a dangling symlink, a FIFO, a directory, /dev/null, a file in a
  missing or read-only directory, and an existing file (mode 0600): the victim never changes, an
  existing file keeps its mode, nothing is left behind as .tmp, nothing blocks.
- tui: the TUI in a pty, sent SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGTSTP+SIGCONT then q, a 10 KB
  bracketed paste full of `e` then q: it must exit within 10 s, leave the tty's modes as it found
  them, leave the alternate screen and show the cursor, and write no export file.
- concurrency: pairs of `pricing update` run at once from a local server (an fx table without EUR
  against an EUR-priced table, and two valid tables): afterwards every command must still load.
- timeouts: `pricing update --timeout-secs 5` against a server sending a byte a second must end
  within 8 s.
"""
import http.server
import json
import os
import pty
import re
import select
import shutil
import signal
import socketserver
import stat
import subprocess
import sys
import tempfile
import termios
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release", "peftcost")
QUICK = "--quick" in sys.argv
TIMEOUT = 20

COUNTS = {}  # class -> dict(inputs, panics, hangs, wrong_exit0, data_lost, multiline, raw_esc)
EXAMPLES = {}


def count(cls, key, example=None):
    c = COUNTS.setdefault(
        cls, dict(inputs=0, panics=0, hangs=0, wrong_exit0=0, data_lost=0, bad_message=0)
    )
    c[key] += 1
    if example and key != "inputs":
        EXAMPLES.setdefault((cls, key), []).append(example)


def run(args, env=None, cwd=None, timeout=TIMEOUT, stdin=subprocess.DEVNULL):
    """(rc, stdout, stderr, hung); rc < 0 is a signal."""
    e = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    e.update(env or {})
    try:
        p = subprocess.run(
            [BIN] + args, env=e, cwd=cwd, timeout=timeout, capture_output=True, stdin=stdin
        )
        return p.returncode, p.stdout, p.stderr, False
    except subprocess.TimeoutExpired as t:
        return None, t.stdout or b"", t.stderr or b"", True


def judge(cls, args, must_fail, env=None, check=None, cwd=None):
    """Run one input and count what went wrong."""
    count(cls, "inputs")
    rc, out, err, hung = run(args, env=env, cwd=cwd)
    shown = " ".join(a if len(a) < 60 else a[:20] + f"...({len(a)} chars)" for a in args)
    if hung:
        count(cls, "hangs", shown)
        return
    if rc < 0 or rc == 101 or b"panicked" in err:
        count(cls, "panics", f"{shown} -> rc {rc}: {err[-200:]!r}")
        return
    if rc == 0:
        problem = "must fail" if must_fail else (check(out) if check else None)
        if problem:
            count(cls, "wrong_exit0", f"{shown}: {problem}")
        return
    text = err.decode("utf-8", "replace").strip()
    if b"\x1b" in err or len(err) > 2048 or (text.count("\n") > 0 and not text.startswith("error: invalid value") and "For more information" not in text and "Usage:" not in text):
        # clap's own usage errors carry a usage hint after the message line.
        count(cls, "bad_message", f"{shown}: {text[:200]!r}")


# ---------------------------------------------------------------- numeric flags
INVALID = ["-1", "-0.5", "nan", "NaN", "inf", "-inf", "abc", "", "1e3x", "18446744073709551616",
           "99999999999999999999999"]
EDGE = ["0", "1", "0.5", "65536", "1048576", "4294967296", "9223372036854775808",
        "18446744073709551615", "1e308", "1e-308"]

TRAIN_FLAGS = {
    # flag: extra args giving it meaning
    "--rank": [], "--alpha": [], "--reduction-factor": ["--method", "adapter"],
    "--bottleneck": ["--method", "adapter"], "--virtual-tokens": ["--method", "prompt"],
    "--encoder-hidden": ["--method", "ptuning"], "--num-labels": ["--model", "bge-large-zh", "--task", "seq-cls"],
    "--samples": [], "--seq-len": [], "--epochs": [], "--micro-batch": [], "--grad-accum": [],
    "--global-batch": [], "--gpus": [], "--zero": [], "--max-price": [], "--top": [],
    "--max-price-age": [], "--fail-if-cost-over": [],
}
PLAN_ONLY = {"--max-gpus": [], "--deadline": [], "--budget": []}
DEPLOY_FLAGS = {"--context": [], "--qps": [], "--requests-per-day": [], "--input-tokens": [],
                "--output-tokens": [], "--max-ttft": [], "--max-tpot": [], "--adapters": []}
REPORT_FLAGS = ["--samples", "--seq-len", "--epochs", "--micro-batch", "--grad-accum", "--global-batch",
                "--gpus", "--zero", "--qps", "--input-tokens", "--output-tokens", "--max-ttft",
                "--max-tpot", "--max-price", "--top", "--max-price-age"]

NUMERIC_KEY = re.compile(r"(cost|hours|price|bytes|memory|seconds|params|tokens|per_month|instances)", re.I)


def walk(v, path=""):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from walk(x, f"{path}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from walk(x, f"{path}[{i}]")
    else:
        yield path, v


def generic_check(out):
    try:
        doc = json.loads(out)
    except ValueError as e:
        return f"exit 0 but not JSON: {e}"
    for path, v in walk(doc):
        last = path.rsplit(".", 1)[-1]
        if isinstance(v, (int, float)) and not isinstance(v, bool) and NUMERIC_KEY.search(last):
            if v < 0 and "headroom" not in last and "delta" not in last and "calibration" not in last:
                return f"{path} = {v} is negative"
            if v > 1e24:
                return f"{path} = {v} is beyond any real job"
    return None


def estimate_check(out):
    problem = generic_check(out)
    if problem:
        return problem
    doc = json.loads(out)
    p = doc["params"]
    if p["trainable"] > p["all"]:
        return f"trainable {p['trainable']} > all {p['all']}"
    if doc["method"]["kind"] != "full" and p["trainable"] <= 0:
        return "a PEFT method that trains nothing"
    for d in doc["devices"]:
        m, cap = d["memory"]["total"], d["capacity_bytes"]
        if d["fits"] and m > cap:
            return f"{d['hardware']}: fits with {m} > {cap}"
        if "headroom_bytes" in d and d["headroom_bytes"] != cap - m:
            return f"{d['hardware']}: headroom {d['headroom_bytes']} != {cap} - {m}"
    return None


def numeric(pool):
    jobs = []
    base = ["--model", "qwen-7b", "--format", "json"]
    for cmd, flags, check in [
        ("estimate", TRAIN_FLAGS, estimate_check),
        ("plan", {**TRAIN_FLAGS, **PLAN_ONLY}, generic_check),
        ("deploy", DEPLOY_FLAGS, generic_check),
        ("report", {f: [] for f in REPORT_FLAGS}, generic_check),
    ]:
        for flag, extra in flags.items():
            if cmd == "report":
                extra = []
            for v in INVALID + EDGE:
                head = [cmd] + ([] if cmd == "report" else base[:2]) + base[2:]
                args = head + extra + [f"{flag}={v}"]
                if extra[:2] == ["--model", "bge-large-zh"]:
                    args = [cmd] + extra + ["--format", "json", f"{flag}={v}"]
                jobs.append(pool.submit(judge, "numeric flags", args, v in INVALID, check=check))
    return jobs


# ---------------------------------------------------------------- ids
def ids(pool):
    values = ["nosuch", "", " ", "\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\x1b]52;c;ZXZpbA==\x07",
              "A" * 100_000, "../../etc/passwd", "qwen-7b\n", "模型", "-", "%s%n"]
    jobs = []
    for flag, cmd in [("--model", ["estimate"]), ("--hardware", ["estimate", "--model", "qwen-7b"]),
                      ("--provider", ["estimate", "--model", "qwen-7b"]), ("--method", ["estimate", "--model", "qwen-7b"]),
                      ("--region", ["estimate", "--model", "qwen-7b"]), ("--model", ["deploy"]),
                      ("--hardware", ["deploy", "--model", "qwen-7b"]), ("--currency", ["deploy", "--model", "qwen-7b"]),
                      ("--provider", ["report"])]:
        for v in values:
            # Ids are trimmed and case-folded: a trailing newline from a shell still names the model.
            legit = flag == "--model" and v == "qwen-7b\n"
            jobs.append(pool.submit(judge, "ids", cmd + [f"{flag}={v}"], not legit))
    for sub in [["models", "show"], ["hardware", "show"], ["pricing", "show"]]:
        for v in values:
            # `models show` names models by the same trimmed ids as --model.
            legit = sub == ["models", "show"] and v == "qwen-7b\n"
            jobs.append(pool.submit(judge, "ids", sub + [v], not legit))
    return jobs


# ---------------------------------------------------------------- data files
def read(path):
    with open(path, "rb") as f:
        return f.read()


def prefixes(data, every):
    step = 1 if not QUICK else max(every, 1)
    return range(0, len(data), step)


def data_files(pool, tmp):
    jobs = []
    # Pricing and fx tables: every strict prefix must be refused (end marker), except the one
    # that drops only the trailing newline.
    for name in sorted(os.listdir(os.path.join(ROOT, "pricing"))):
        data = read(os.path.join(ROOT, "pricing", name))
        for cut in prefixes(data, 53):
            f = os.path.join(tmp, f"cut-{name}-{cut}.toml")
            with open(f, "wb") as h:
                h.write(data[:cut])
            # A cut of the trailing newline alone leaves the whole table (as tests/it/fuzz.rs).
            whole = data[cut:].strip() == b""
            jobs.append(pool.submit(judge_and_remove, "data files", ["pricing", "validate", f], not whole, f))
    # JSON kinds: every strict prefix is invalid JSON.
    cal = json.dumps({"format_version": 1, "tool_version": "0.1.0", "created_unix": 1790000000,
                      "device": "cpu: x", "device_kind": "cpu", "hardware_id": None, "model": "qwen-7b",
                      "memory_gib": 16.0, "matmul_gflops": {"f32": 100.0}, "bandwidth_gbs": 10.0,
                      "train_gflops": {"lora": 50.0}, "train_efficiency": {"lora": 0.5}}, indent=1).encode()
    json_kinds = [
        ("calibration", cal, lambda f: ["estimate", "--model", "qwen-7b", "--calibration", f]),
        ("config.json", read(os.path.join(ROOT, "tests/truth/configs/small-llama.json")),
         lambda f: ["estimate", "--model-config", f]),
        ("trainer_state", read(os.path.join(ROOT, "tests/truth/trainer-run/trainer_state.json")),
         lambda f: ["validate", "--log", f, "--hardware", "cpu-16c", "--model-config",
                    os.path.join(ROOT, "tests/truth/configs/small-llama.json"), "--method", "lora", "--dtype", "fp32",
                    "--seq-len", "256", "--micro-batch", "4"]),
    ]
    vllm = [os.path.join(dp, n) for dp, _, ns in os.walk(os.path.join(ROOT, "tests/data/vllm-bench")) for n in ns if n.endswith(".json")]
    if vllm:
        json_kinds.append(("vllm", read(vllm[0]), lambda f: ["deploy", "--model", "qwen2.5-7b", "--hardware", "a100-80g", "--calibrate-from", f]))
    for kind, data, cmd in json_kinds:
        end = data.rstrip().rfind(b"}")
        for cut in prefixes(data, 17):
            f = os.path.join(tmp, f"cut-{kind}-{cut}.json")
            with open(f, "wb") as h:
                h.write(data[:cut])
            jobs.append(pool.submit(judge_and_remove, "data files", cmd(f), cut <= end, f))
    # Kinds where a prefix can be valid: only panics and hangs count.
    lf = [os.path.join(dp, n) for dp, _, ns in os.walk(os.path.join(ROOT, "tests/data/engine-configs")) for n in ns if n.endswith(".yaml")]
    model_toml = run(["models", "import", os.path.join(ROOT, "tests/truth/configs/small-llama.json")])[1]
    loose = [("steps.csv", read(os.path.join(ROOT, "tests/truth/trainer-run/steps.csv")),
              lambda f: ["calibrate", "--from-log", f, "--hardware", "cpu-16c", "--dry-run"])]
    if lf:
        loose.append(("llamafactory", read(sorted(lf)[0]), lambda f: ["estimate", "--from-config", f]))
    if model_toml:
        loose.append(("model.toml", model_toml, None))
    for kind, data, cmd in loose:
        for cut in prefixes(data, 11):
            d = os.path.join(tmp, f"prof-{kind}-{cut}")
            if kind == "model.toml":
                os.makedirs(os.path.join(d, "models"))
                with open(os.path.join(d, "models", "cut.toml"), "wb") as h:
                    h.write(data[:cut])
                args = ["--profiles", d, "estimate", "--model", "cut"]
                jobs.append(pool.submit(judge_and_remove, "data files", args, False, d, lambda out: None))
            else:
                f = d + "." + kind.split(".")[-1]
                with open(f, "wb") as h:
                    h.write(data[:cut])
                jobs.append(pool.submit(judge_and_remove, "data files", cmd(f), False, f, lambda out: None))
    # Special files as each kind.
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    for special in ["/dev/zero", "/dev/urandom", fifo, tmp]:
        for args in (["pricing", "validate", special], ["estimate", "--model", "qwen-7b", "--calibration", special],
                     ["estimate", "--model-config", special], ["estimate", "--from-config", special],
                     ["calibrate", "--from-log", special, "--hardware", "cpu-16c", "--dry-run"],
                     ["deploy", "--model", "qwen-7b", "--hardware", "a10", "--calibrate-from", special]):
            jobs.append(pool.submit(judge, "data files", args, True))
    return jobs


def judge_and_remove(cls, args, must_fail, path, check=None):
    try:
        judge(cls, args, must_fail, check=check)
    finally:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.remove(path)


# ---------------------------------------------------------------- --out targets
def out_targets(tmp):
    writers = {
        "report --out": lambda t: ["report", "--format", "csv", "--out", t],
        "models import --out": lambda t: ["models", "import", os.path.join(ROOT, "tests/truth/configs/small-llama.json"), "--out", t, "--force"],
        "calibrate --out": lambda t: ["calibrate", "--from-log", os.path.join(ROOT, "tests/truth/trainer-run/steps.csv"),
                                      "--hardware", "cpu-16c", "--model-config", os.path.join(ROOT, "tests/truth/configs/small-llama.json"),
                                      "--method", "lora", "--dtype", "fp32", "--seq-len", "256", "--micro-batch", "4", "--grad-accum", "1",
                                      "--out", t, "--force"],
        "estimate --emit --out": lambda t: ["estimate", "--model", "qwen-7b", "--hardware", "a10g", "--emit", "llamafactory", "--out", t, "--force"],
    }
    for name, make in writers.items():
        for kind in ["symlink-to-victim", "dangling-symlink", "fifo", "directory", "dev-null", "missing-dir",
                     "read-only-dir", "existing-0600"]:
            d = tempfile.mkdtemp(dir=tmp)
            victim = os.path.join(d, "victim.txt")
            with open(victim, "w") as h:
                h.write("precious\n")
            target = os.path.join(d, "target")
            if kind == "symlink-to-victim":
                os.symlink(victim, target)
            elif kind == "dangling-symlink":
                os.symlink(os.path.join(d, "nowhere", "x"), target)
            elif kind == "fifo":
                os.mkfifo(target)
            elif kind == "directory":
                os.mkdir(target)
                with open(os.path.join(target, "keep"), "w") as h:
                    h.write("keep\n")
            elif kind == "dev-null":
                target = "/dev/null"
            elif kind == "missing-dir":
                target = os.path.join(d, "a", "b", "target")
            elif kind == "read-only-dir":
                ro = os.path.join(d, "ro")
                os.mkdir(ro)
                target = os.path.join(ro, "target")
                os.chmod(ro, 0o500)
            elif kind == "existing-0600":
                with open(target, "w") as h:
                    h.write("old\n")
                os.chmod(target, 0o600)
            if name == "estimate --emit --out" and kind in ("existing-0600",):
                target = d  # a directory that holds files already
            before_mode = os.lstat(target).st_mode if os.path.lexists(target) and target != "/dev/null" else None
            count("out targets", "inputs")
            rc, out, err, hung = run(make(target))
            label = f"{name} onto {kind}"
            if hung:
                count("out targets", "hangs", label)
            elif rc < 0 or rc == 101 or b"panicked" in err:
                count("out targets", "panics", label)
            lost = []
            if read(victim) != b"precious\n":
                lost.append("victim changed")
            if kind == "directory" and not os.path.exists(os.path.join(target, "keep")):
                lost.append("directory content lost")
            if kind in ("symlink-to-victim", "dangling-symlink") and not os.path.islink(target) and rc != 0:
                lost.append("symlink replaced on failure")
            if kind == "existing-0600" and name != "estimate --emit --out":
                now = os.lstat(target).st_mode
                if stat.S_IMODE(now) != stat.S_IMODE(before_mode):
                    lost.append(f"mode {oct(stat.S_IMODE(before_mode))} -> {oct(stat.S_IMODE(now))}")
            if kind == "fifo" and not stat.S_ISFIFO(os.lstat(target).st_mode):
                lost.append("fifo replaced")
            if kind == "dev-null" and not stat.S_ISCHR(os.stat("/dev/null").st_mode):
                lost.append("/dev/null replaced")
            strays = [f for dp, _, fs in os.walk(d) for f in fs if f.endswith(".tmp")]
            if strays:
                lost.append(f"stray {strays}")
            if lost:
                count("out targets", "data_lost", f"{label}: {', '.join(lost)} (rc {rc})")
            if kind == "read-only-dir":
                os.chmod(os.path.dirname(target), 0o700)


# ---------------------------------------------------------------- TUI in a pty
def tui_case(tmp, name, action):
    count("tui signals and pastes", "inputs")
    cwd = tempfile.mkdtemp(dir=tmp)
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.environ.update(TERM="xterm-256color", COLUMNS="120", LINES="40", NO_COLOR="1")
        os.execv(BIN, [BIN, "tui", "--model", "qwen-7b"])
    import fcntl, struct
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    before = termios.tcgetattr(fd)
    buf = bytearray()

    def pump(seconds):
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return False
                if not chunk:
                    return False
                buf.extend(chunk)
                # Answer a cursor-position query, as a terminal would.
                if b"\x1b[6n" in chunk:
                    os.write(fd, b"\x1b[1;1R")
        return True

    pump(3.0)
    action(pid, fd, pump)
    deadline = time.time() + 10
    status = None
    while time.time() < deadline:
        pump(0.1)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    label = f"tui: {name}"
    if status is None:
        count("tui signals and pastes", "hangs", label)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
        return
    pump(0.2)
    after = termios.tcgetattr(fd)
    os.close(fd)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) not in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT):
        count("tui signals and pastes", "panics", f"{label}: signal {os.WTERMSIG(status)}")
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 101:
        count("tui signals and pastes", "panics", label)
    problems = []
    if after[3] != before[3] or after[0] != before[0] or after[1] != before[1]:
        problems.append("tty modes not restored")
    tail = bytes(buf)
    if tail.rfind(b"\x1b[?1049h") > tail.rfind(b"\x1b[?1049l"):
        problems.append("alternate screen left on")
    if tail.rfind(b"\x1b[?25l") > tail.rfind(b"\x1b[?25h"):
        problems.append("cursor left hidden")
    if os.listdir(cwd):
        problems.append(f"wrote {len(os.listdir(cwd))} files")
    if problems:
        count("tui signals and pastes", "data_lost", f"{label}: {', '.join(problems)}")


def tui(tmp):
    def sig(s):
        return lambda pid, fd, pump: os.kill(pid, s)

    def tstp(pid, fd, pump):
        os.kill(pid, signal.SIGTSTP)
        time.sleep(0.5)
        os.kill(pid, signal.SIGCONT)
        pump(1.0)
        os.write(fd, b"q")

    def paste(pid, fd, pump):
        body = (b"e" * 50 + b"q\x03\r") * 190
        os.write(fd, b"\x1b[200~")
        for i in range(0, len(body), 1024):
            os.write(fd, body[i:i + 1024])
            pump(0.02)
        os.write(fd, b"\x1b[201~")
        pump(1.0)
        os.write(fd, b"q")

    cases = [("SIGTERM", sig(signal.SIGTERM)), ("SIGHUP", sig(signal.SIGHUP)), ("SIGINT", sig(signal.SIGINT)),
             ("SIGQUIT", sig(signal.SIGQUIT)), ("SIGTSTP+SIGCONT then q", tstp), ("10 KB bracketed paste then q", paste)]
    for _ in range(1 if QUICK else 3):
        for name, action in cases:
            tui_case(tmp, name, action)


# ---------------------------------------------------------------- concurrency and timeouts
class Handler(http.server.BaseHTTPRequestHandler):
    files = {}

    def do_GET(self):
        if self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(60):
                try:
                    self.wfile.write(b"#")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(1)
            return
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def concurrency(tmp):
    fx = read(os.path.join(ROOT, "pricing", "fx.toml")).decode()
    fx_no_eur = "\n".join(l for l in fx.splitlines() if not l.strip().startswith("EUR")) + "\n"
    aws = read(os.path.join(ROOT, "pricing", "aws.toml")).decode()
    aws_eur = aws.replace('currency = "USD"', 'currency = "EUR"')
    Handler.files = {"/fx": fx_no_eur.encode(), "/aws-eur": aws_eur.encode(), "/aws": aws.encode(),
                     "/fx-ok": fx.encode()}
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    for pair in [(("fx", "fx"), ("aws-eur", "aws")), (("aws", "aws"), ("fx-ok", "fx"))] * (1 if QUICK else 5):
        d = tempfile.mkdtemp(dir=tmp)
        env = {"PEFTCOST_CONFIG_DIR": d}
        count("concurrent updates", "inputs")
        procs = [subprocess.Popen([BIN, "pricing", "update", "--from", f"http://127.0.0.1:{port}/{path}",
                                   "--provider", prov, "--allow-shrink"], env=dict(os.environ, **env),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for path, prov in pair]
        for p in procs:
            p.wait(timeout=60)
        rc, out, err, hung = run(["estimate", "--model", "qwen-7b", "--format", "json"], env=env)
        if rc != 0:
            count("concurrent updates", "data_lost", f"{pair}: afterwards {err[:200]!r}")
    count("timeouts", "inputs")
    d = tempfile.mkdtemp(dir=tmp)
    t0 = time.time()
    rc, out, err, hung = run(["pricing", "update", "--from", f"http://127.0.0.1:{port}/slow", "--provider", "aws",
                              "--timeout-secs", "5"], env={"PEFTCOST_CONFIG_DIR": d}, timeout=30)
    took = time.time() - t0
    if hung or took > 8:
        count("timeouts", "hangs", f"--timeout-secs 5 took {took:.1f} s")
    elif rc == 0:
        count("timeouts", "wrong_exit0", "a 1 B/s download succeeded")
    srv.shutdown()


def main():
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: run cargo build --release first")
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="sweep-")
    os.environ["PEFTCOST_CONFIG_DIR"] = os.path.join(tmp, "config")
    os.environ["PEFTCOST_DATA_DIR"] = os.path.join(tmp, "data")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        jobs = numeric(pool) + ids(pool) + data_files(pool, tmp)
        for j in jobs:
            j.result()
    out_targets(tmp)
    tui(tmp)
    concurrency(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    version = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"# hardening sweep: {version} at {commit}, {time.strftime('%Y-%m-%d')}, {time.time() - t0:.0f} s{' (quick)' if QUICK else ''}")
    print()
    print("| class | inputs | panics/aborts | hangs | wrong exit 0 | data lost / tty broken | bad message |")
    print("|---|---|---|---|---|---|---|")
    total = dict(inputs=0, panics=0, hangs=0, wrong_exit0=0, data_lost=0, bad_message=0)
    for cls, c in COUNTS.items():
        print(f"| {cls} | {c['inputs']} | {c['panics']} | {c['hangs']} | {c['wrong_exit0']} | {c['data_lost']} | {c['bad_message']} |")
        for k in total:
            total[k] += c[k]
    print(f"| **all** | {total['inputs']} | {total['panics']} | {total['hangs']} | {total['wrong_exit0']} | {total['data_lost']} | {total['bad_message']} |")
    for (cls, key), ex in sorted(EXAMPLES.items()):
        print(f"\n{cls} / {key} ({len(ex)}):")
        for e in (ex if "--all" in sys.argv else ex[:15]):
            print(f"  {e}")
    sys.exit(1 if any(total[k] for k in total if k != "inputs") else 0)


if __name__ == "__main__":
    main()

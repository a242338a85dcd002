"""Shared machinery for the Switchyard benchmarks (bench/run.py, bench/frameworks/run.py).

Everything here talks to 127.0.0.1 only, and every loop is bounded in count and time.

- `Nginx`: the fake OpenAI upstream (bench/nginx/nginx.conf) on 127.0.0.1:18081.
- `Server`: a gateway process started in its own process group, pinned with taskset; knows
  how to wait for its first successful answer and how to read the CPU time and memory of its
  whole process tree from /proc.
- `run_wrk`: one bounded wrk run with bench/wrk/chat.lua, parsed from the script's WRKJSON line.
- `measure` / `measure_quietest`: a wrk run with the CPU of the server and of other jobs.
- `add_noise_options` / `check_noise_options` / `start_session`: what every benchmark script
  does first (the --noisy-retries and --wait-quiet options, the results directory, the
  environment, waiting for the machine to be quiet); `rate_cells` / `other_load_cell`: the
  table cells every script's Markdown shares.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
NGINX_CONF = BENCH_DIR / "nginx" / "nginx.conf"
WRK_SCRIPT = BENCH_DIR / "wrk" / "chat.lua"
UPSTREAM_PORT = 18081
UPSTREAM = f"http://127.0.0.1:{UPSTREAM_PORT}"
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1

# CPU placement. On the 2-core bench machine the gateway under test gets core 1 to itself;
# wrk and nginx share core 0 (both are far cheaper per request than any Python gateway).
GATEWAY_CPUS = os.environ.get("BENCH_GATEWAY_CPUS", "1" if NCPU >= 2 else "0")
LOADGEN_CPUS = os.environ.get("BENCH_LOADGEN_CPUS", "0")
PIN = os.environ.get("BENCH_PIN", "1") != "0" and shutil.which("taskset") is not None

CHAT_BODY = b'{"model":"bench","messages":[{"role":"user","content":"hi"}]}'
# The gateways' master key (bench/switchyard.yaml, bench/litellm.yaml, bench/wrk/chat.lua).
BENCH_KEY = "sk-bench-5b1c2f0e9d8a4c3b7e6f1a2d3c4b5a69"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pinned(cmd: list[str], cpus: str) -> list[str]:
    return ["taskset", "-c", cpus, *cmd] if PIN else cmd


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --------------------------------------------------------------------------- /proc readers


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: split after the last ')'
        rest = stat[stat.rindex(b")") + 2 :].split()
        kids.setdefault(int(rest[1]), []).append(int(entry))
    return kids


def process_tree(root: int) -> list[int]:
    """root and all its live descendants."""
    kids = _children_map()
    out, todo = [], [root]
    while todo and len(out) < 10_000:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def _stat_fields(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(b")") + 2 :].split()


def tree_cpu_seconds(root: int) -> float:
    """utime+stime of every live process in the tree (all threads included), plus the
    cutime+cstime the root has collected from children that already exited."""
    ticks = 0
    for pid in process_tree(root):
        f = _stat_fields(pid)
        if f is None:
            continue
        # after the ')' : state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
        ticks += int(f[11]) + int(f[12])
        if pid == root:
            ticks += int(f[13]) + int(f[14])
    return ticks / CLK_TCK


def _status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mib(root: int) -> float:
    """Current resident set size, summed over the process tree (MiB)."""
    return sum(_status_kib(p, "VmRSS") for p in process_tree(root)) / 1024


def tree_hwm_mib(root: int) -> float:
    """Peak resident set size (VmHWM) summed over the live processes of the tree (MiB).
    A sum of per-process peaks: an upper bound when the processes peaked at different times."""
    return sum(_status_kib(p, "VmHWM") for p in process_tree(root)) / 1024


# --------------------------------------------------------------------------- processes


class Nginx:
    """The fake upstream, run in the foreground (daemon off) as our own child."""

    def __init__(self) -> None:
        self.prefix = Path(tempfile.mkdtemp(prefix="switchyard-bench-nginx-"))
        (self.prefix / "tmp").mkdir()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Nginx:
        global _nginx_pid
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise SystemExit("nginx not found: run `bash bench/setup.sh` first")
        if not port_is_free(UPSTREAM_PORT):
            raise SystemExit(f"127.0.0.1:{UPSTREAM_PORT} is busy (a stale bench nginx?)")
        cmd = pinned(
            [nginx, "-p", str(self.prefix), "-e", "stderr", "-c", str(NGINX_CONF)], LOADGEN_CPUS
        )
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"nginx exited with {self.proc.returncode}")
            if post_ok(f"{UPSTREAM}/v1/chat/completions", timeout=0.5):
                _nginx_pid = self.proc.pid
                return self
            time.sleep(0.05)
        self.stop()
        raise SystemExit("nginx did not answer within 10 s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful shutdown of master + worker
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bench_key() -> str:
    """The key requests carry: a keyed target's virtual key (bench/keyed.py), else the master
    key of bench/switchyard.yaml."""
    return os.environ.get("SWITCHYARD_BENCH_KEY") or BENCH_KEY


def post_ok(url: str, body: bytes = CHAT_BODY, timeout: float = 1.0) -> bool:
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {bench_key()}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class Server:
    """A gateway (or a framework test app) under test."""

    name: str
    cmd: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = REPO_DIR
    startup_timeout: float = 120.0
    log_path: Path | None = None
    cpus: str = GATEWAY_CPUS  # taskset's list; several workers get every CPU
    quiet_stdout: bool = False  # standard output to /dev/null (the log keeps standard error)
    proc: subprocess.Popen[bytes] | None = None
    startup_s: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/chat/completions"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> float:
        """Start the process and poll (every 20 ms) with a real chat completion until one
        succeeds. Returns seconds from spawn to that first successful answer."""
        if not port_is_free(self.port):
            raise RuntimeError(f"{self.name}: port {self.port} is busy")
        env = {**os.environ, **self.env}
        out = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            pinned(self.cmd, self.cpus),
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if self.quiet_stdout else out,
            stderr=out if self.quiet_stdout else subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = t0 + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name}: exited with {self.proc.returncode} during "
                    f"start-up (log: {self.log_path})"
                )
            if post_ok(self.url, timeout=2.0):
                self.startup_s = time.monotonic() - t0
                return self.startup_s
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.name}: no successful answer within {self.startup_timeout} s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------- wrk


def run_wrk(
    url: str,
    connections: int,
    duration_s: float,
    model: str = "bench",
    stream: bool = False,
    threads: int = 1,
) -> dict[str, Any]:
    threads = max(1, min(threads, connections))
    cmd = pinned(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration_s:g}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(WRK_SCRIPT),
            url,
            "--",
            model,
            *(["stream"] if stream else []),
        ],
        LOADGEN_CPUS,
    )
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60)
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if res.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({res.returncode}): {res.stderr.strip()[-500:]}")
    data: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6) if data["duration_us"] else 0.0
    data["errors"] = sum(
        data[k] for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout")
    )
    data["connections"] = connections
    data["stream"] = stream
    return data


def system_busy_seconds() -> float:
    """CPU time all CPUs spent busy since boot (the first line of /proc/stat), in seconds."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
    return busy / CLK_TCK


def children_cpu_seconds() -> float:
    """CPU of this script's exited, waited-for children (wrk runs)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# Set by Nginx.__enter__ so that measure() can tell the upstream's CPU from foreign load.
_nginx_pid: int | None = None

# A run during which processes other than the server, nginx and wrk used more than this share
# of one core is flagged "noisy" (another job was running on the machine).
NOISY_CORE_SHARE = 0.20


def wait_for_quiet(max_wait_s: float, share: float = NOISY_CORE_SHARE) -> float:
    """Wait (at most max_wait_s) until the machine's busy CPU over a 2 s window is below
    `share` of one core. Returns the last measured share; the caller warns if still busy."""
    deadline = time.monotonic() + max_wait_s
    while True:
        b0, t0 = system_busy_seconds(), time.monotonic()
        time.sleep(2.0)
        busy = (system_busy_seconds() - b0) / (time.monotonic() - t0)
        if busy < share or time.monotonic() >= deadline:
            return busy
        log(f"machine busy ({busy:.0%} of a core used by other jobs): waiting")


def measure(
    server_pid: int,
    url: str,
    connections: int,
    duration_s: float,
    model: str = "bench",
    stream: bool = False,
) -> dict[str, Any]:
    """One wrk run with the CPU time of the server's process tree taken around it, and the CPU
    used meanwhile by everything else on the machine (to flag runs disturbed by other jobs)."""
    ng = _nginx_pid if _nginx_pid not in (None, server_pid) else None
    sys0, kids0 = system_busy_seconds(), children_cpu_seconds()
    cpu0 = tree_cpu_seconds(server_pid)
    ng0 = tree_cpu_seconds(ng) if ng else 0.0
    t0 = time.monotonic()
    data = run_wrk(url, connections, duration_s, model=model, stream=stream)
    wall = time.monotonic() - t0
    cpu1 = tree_cpu_seconds(server_pid)
    ng1 = tree_cpu_seconds(ng) if ng else 0.0
    sys1, kids1 = system_busy_seconds(), children_cpu_seconds()
    data["cpu_s"] = cpu1 - cpu0
    data["cpu_us_per_req"] = (data["cpu_s"] * 1e6 / data["requests"]) if data["requests"] else None
    data["wrk_cpu_s"] = kids1 - kids0
    data["upstream_cpu_s"] = ng1 - ng0
    # busy CPU not accounted to the server, nginx or wrk (kernel softirq work for loopback
    # traffic lands partly here too, so a quiet machine shows a few per cent, not zero)
    other = (sys1 - sys0) - data["cpu_s"] - data["upstream_cpu_s"] - data["wrk_cpu_s"]
    data["other_core_share"] = max(0.0, other) / wall if wall > 0 else 0.0
    data["noisy"] = data["other_core_share"] > NOISY_CORE_SHARE
    return data


def measure_quietest(
    server_pid: int,
    url: str,
    connections: int,
    duration_s: float,
    retries: int,
    model: str = "bench",
    stream: bool = False,
) -> dict[str, Any]:
    """measure(), repeated up to `retries` more times while the run is noisy (another job used
    the CPU meanwhile); returns the attempt with the least foreign load."""
    best: dict[str, Any] | None = None
    answered = 0  # over every attempt, not only the one kept (the usage rows count them all)
    for attempt in range(1 + max(0, retries)):
        if attempt:
            log(f"noisy run ({best['other_core_share']:.0%} of a core used by other jobs): retry")
            wait_for_quiet(15)
        r = measure(server_pid, url, connections, duration_s, model=model, stream=stream)
        answered += r["requests"]
        r["attempts"] = attempt + 1
        if best is None or r["other_core_share"] < best["other_core_share"]:
            best = {**r}
        best["attempts"] = attempt + 1
        if not best["noisy"]:
            break
    assert best is not None
    best["answered_all_attempts"] = answered
    return best


# --------------------------------------------------------------------------- a script's run


def add_noise_options(ap: argparse.ArgumentParser) -> None:
    """--noisy-retries and --wait-quiet; check them with `check_noise_options`."""
    ap.add_argument(
        "--noisy-retries",
        type=int,
        default=1,
        help="repeat a run this many times while other jobs load the CPU; keep the quietest",
    )
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=60.0,
        help="wait at most this many seconds for other jobs to leave the CPU (0: do not wait)",
    )


def check_noise_options(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not 0 <= args.noisy_retries <= 3 or not 0 <= args.wait_quiet <= 600:
        ap.error("--noisy-retries must be in [0, 3] and --wait-quiet in [0, 600]")


def start_session(wait_quiet: float) -> tuple[str, dict[str, Any]]:
    """Make the results directory, describe the machine, and wait (at most `wait_quiet` s;
    0: not at all) for other jobs to leave the CPU. Returns the run's UTC timestamp and the
    environment, with the CPU share other jobs still used as "busy_before_start"."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    env_info = environment()
    quiet = wait_for_quiet(wait_quiet) if wait_quiet else None
    if quiet is not None and quiet >= NOISY_CORE_SHARE:
        log(f"warning: machine still busy ({quiet:.0%} of a core) after {wait_quiet:g} s")
    env_info["busy_before_start"] = quiet
    return stamp, env_info


def rate_cells(run: dict[str, Any]) -> str:
    """The req/s | p50 ms | p99 ms | CPU µs/req cells of a measured run."""
    return (
        f"{fmt(run['rps'])} | {fmt(run['lat_p50_us'] / 1000, 2)} | "
        f"{fmt(run['lat_p99_us'] / 1000, 2)} | {fmt(run['cpu_us_per_req'])}"
    )


def other_load_cell(run: dict[str, Any]) -> str:
    """The "other load" cell: the share of a core other jobs used, marked when noisy, and how
    many attempts `measure_quietest` made when more than one."""
    attempts = run.get("attempts", 1)
    tries = f" (best of {attempts})" if attempts > 1 else ""
    return f"{run['other_core_share']:.0%}{' ~ noisy' if run['noisy'] else ''}{tries}"


# --------------------------------------------------------------------------- environment


def environment() -> dict[str, Any]:
    def cmd_out(cmd: list[str]) -> str:
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, subprocess.SubprocessError, IndexError):
            return "?"

    cpu_model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": NCPU,
        "cpu_model": cpu_model,
        "mem_gib": round(mem_gib, 1),
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "wrk": " ".join(cmd_out(["wrk", "-v"]).split()[:2]),
        "nginx": cmd_out(["nginx", "-v"]).replace("nginx version: ", ""),
        "git_rev": cmd_out(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"]),
        "pinning": (
            f"taskset: gateway on CPU {GATEWAY_CPUS}, wrk + nginx on CPU {LOADGEN_CPUS}"
            if PIN
            else "none"
        ),
    }


def fmt(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"

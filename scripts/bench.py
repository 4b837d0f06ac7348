#!/usr/bin/env python3
"""make bench: centrpc against its baselines, every scenario on loopback, in one invocation.

    python3 scripts/bench.py [--mode quick|full|smoke] [--out DIR] [--no-pin] [--no-build] [--only SCENARIO]

1. Backend only: ghz -> CentrifugoProxy.RPC `tasks.get_stats`, centrpc (the example app) against
   bare tonic (bench/bare_tonic.rs, a pre-encoded reply), at concurrency 1, 16, 256.
2. End to end: bench/loadgen (WebSocket clients, centrifuge-go) -> Centrifugo 6.9.1 -> backend:
   centrpc, bare tonic, Centrifugo's built-in `ping` (no backend), and Centrifugo's HTTP proxy to
   an aiohttp backend doing the same work (bench/python_backend).
3. Scaling of centrpc: payload 100 B -> 1 MB (`system.echo`, against bare tonic echoing bytes),
   registered methods 1 -> 10 000 (against 1 method), clients 1 -> 1 000 (against bare tonic).
4. Subscription streams (bench/stream_bench.rs): items delivered to loadgen subscribers through a
   stream against the same items published through Centrifugo's server API, at max and at equal
   offered load (items/s, ratio, CPU per item of centrpc and Centrifugo, p50/p99 delivery
   latency, every item checked in order); then 10 000 open streams (smoke: 20), idle (centrpc's
   RSS per open stream) and at 1 item/s each (CPU per item).

Every row reports req/s, p50/p90/p99 latency, server CPU-seconds per 1 000 calls (utime+stime of
the processes under test over the measured window) and peak RSS (VmHWM, reset before each run).
Baselines run in the same invocation; ratios are what matter on a shared machine. Targets are
reported (target / met? columns), never asserted: the exit status is non-zero only when a run
produced no successful call at all, or, in smoke mode, any error.

Writes bench/results/<date>.{json,md,png} (smoke mode: a temporary directory, printed at the end).
Modes: quick ~1-2 min, full ~10 min (3 rounds of scenarios 1-2, best round kept), smoke ~20 s
(every scenario once, tiny inputs, debug build; for `make test`).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import itertools
import json
import os
import platform
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("CENTRPC_CACHE", Path.home() / ".cache/centrpc"))
BIN = CACHE / "bin"
VENV_PY = CACHE / "venv/bin/python"
# cargo's target directory (CARGO_TARGET_DIR, relative to the repository when relative).
TARGET = ROOT / os.environ.get("CARGO_TARGET_DIR", "target")
CLK_TCK = os.sysconf("SC_CLK_TCK")
RSS_TARGET_MB = 30.0
PROXY_RPC = "centrifugal.centrifugo.proxy.CentrifugoProxy.RPC"
STATS_PARAMS = {"user_id": "42"}
STATS_RESULT = {"total": 0, "completed": 0}


def reexec_in_venv() -> None:
    """matplotlib and aiohttp live in the project's venv: run there if this python lacks them."""
    try:
        import aiohttp  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError:
        if VENV_PY.exists() and not os.environ.get("CENTRPC_BENCH_REEXEC"):
            os.environ["CENTRPC_BENCH_REEXEC"] = "1"
            os.execv(str(VENV_PY), [str(VENV_PY), __file__, *sys.argv[1:]])
        sys.exit("bench: needs aiohttp and matplotlib: `bash scripts/setup.sh python` "
                 f"(or {VENV_PY.parent}/pip install aiohttp matplotlib)")


# ------------------------------------------------------------------------------------------------
# Modes


@dataclass
class Mode:
    profile: str                 # cargo profile of the binaries
    rounds_backend: int          # rounds of scenario 1 (best round per configuration kept)
    rounds_e2e: int              # rounds of scenario 2
    rounds_scaling: int          # rounds of scenarios 3a and 3b
    ghz_run: list[str]           # ghz length of a measured run
    ghz_warm: list[str]          # ghz length of the warm-up run per server
    ghz_scaling_run: list[str]   # ghz length per payload / method-count point
    s1_concurrency: list[int]
    lg_duration: str             # loadgen measured duration
    lg_warmup: str
    s2_clients: int
    s2_concurrency: int
    payloads: list[int]
    methods: list[int]
    clients: list[int]


MODES = {
    "smoke": Mode("debug", 1, 1, 1, ["-n", "300"], ["-n", "50"], ["-n", "5"], [16], "0.5s", "0.2s",
                  2, 4, [100, 1_000_000], [1, 10_000], [1, 10]),
    "quick": Mode("release", 2, 1, 2, ["-z", "1s"], ["-n", "2000"], ["-z", "1s"], [1, 16, 256],
                  "2500ms", "1s", 8, 16, [100, 10_000, 100_000, 1_000_000], [1, 100, 10_000],
                  [1, 10, 100]),
    "full": Mode("release", 3, 3, 3, ["-z", "6s"], ["-z", "1s"], ["-z", "3s"], [1, 16, 256],
                 "8s", "2s", 8, 16, [100, 1_000, 10_000, 100_000, 1_000_000],
                 [1, 10, 100, 1_000, 10_000], [1, 10, 100, 1_000]),
}


# ------------------------------------------------------------------------------------------------
# Processes, CPU and memory


def clean_env() -> dict[str, str]:
    """The environment without the caller's CENTRPC_* settings (CENTRPC_CACHE aside)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("CENTRPC_") or k == "CENTRPC_CACHE"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid: int) -> int:
    """utime + stime of every thread of `pid`, in clock ticks."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss(pid: int) -> None:
    """Resets VmHWM to the current RSS (Linux >= 4.0), so the peak covers only the next run."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


class Cpus:
    """Pinning: the processes under test on one half of the CPUs, the load generator on the other."""

    def __init__(self, pin: bool):
        avail = sorted(os.sched_getaffinity(0))
        self.pinned = pin and len(avail) >= 2
        half = len(avail) // 2
        self.sut = set(avail[:half]) if self.pinned else set(avail)
        self.load = set(avail[half:]) if self.pinned else set(avail)

    def describe(self) -> str:
        if not self.pinned:
            return "not pinned (load generator and servers share every CPU)"
        return (f"servers under test (centrpc / bare tonic / Centrifugo / Python) on CPU "
                f"{fmt_cpus(self.sut)}, load generator (ghz / loadgen) on CPU {fmt_cpus(self.load)}")


def fmt_cpus(cpus: set[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


class Proc:
    """A child process, pinned, with a high fd limit, stopped on exit."""

    live: ClassVar[list[Proc]] = []

    def __init__(self, name: str, argv: list[str], cpus: set[int], work: Path, env=None,
                 log: bool = True, stdout=None):
        self.name = name
        self.argv = argv
        self.log = work / f"{name}.log" if log else None
        err = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115

        def pre() -> None:
            os.sched_setaffinity(0, cpus)
            _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

        # preexec_fn is safe here: no other thread runs while a process starts (see Bench.loadgen).
        self.p = subprocess.Popen(argv, env=env, stdout=stdout or subprocess.DEVNULL, stderr=err,
                                  preexec_fn=pre, cwd=ROOT)  # noqa: PLW1509
        if self.log:
            err.close()
        self.pid = self.p.pid
        Proc.live.append(self)

    def wait_port(self, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.p.returncode} before listening "
                                   f"on {port}: {' '.join(self.argv)}{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name}: nothing listens on {port} after {timeout} s{self.log_tail()}")

    def log_tail(self) -> str:
        if not self.log or not self.log.exists():
            return ""
        lines = self.log.read_text(errors="replace").splitlines()[-15:]
        return "\n  " + "\n  ".join(lines) if lines else ""

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self in Proc.live:
            Proc.live.remove(self)

    @classmethod
    def stop_all(cls) -> None:
        for p in list(cls.live):
            p.stop()


class Sampler:
    """Samples CPU ticks of some processes every 50 ms, to read CPU over any window afterwards."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def sample(self) -> None:
        ticks = {}
        for name, pid in self.pids.items():
            try:
                ticks[name] = cpu_ticks(pid)
            except OSError:
                ticks[name] = self.samples[-1][1].get(name, 0) if self.samples else 0
        self.samples.append((time.monotonic(), ticks))

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            self.sample()

    def __enter__(self) -> Sampler:  # noqa: PYI034
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()
        self.sample()

    def at(self, t: float) -> dict[str, float]:
        """Ticks at time t, interpolated between the samples around it."""
        s = self.samples
        if t <= s[0][0]:
            return dict(s[0][1])
        for (t0, a), (t1, b) in itertools.pairwise(s):
            if t0 <= t <= t1:
                f = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
                return {k: a[k] + f * (b[k] - a[k]) for k in a}
        return dict(s[-1][1])

    def cpu_seconds(self, t0: float, t1: float) -> dict[str, float]:
        a, b = self.at(t0), self.at(t1)
        return {k: max(b[k] - a[k], 0) / CLK_TCK for k in a}


# ------------------------------------------------------------------------------------------------
# Load generators


@dataclass
class Run:
    """One measured run."""
    rps: float
    p50: float
    p90: float
    p99: float
    calls: int
    ok: int
    errors: dict
    cpu_s: dict[str, float]          # per process under test, over the measured window
    peak_rss_kib: dict[str, int]     # per process under test
    extra: dict = field(default_factory=dict)

    def cpu_per_1k(self, name: str) -> float | None:
        if name not in self.cpu_s or not self.calls:
            return None
        return self.cpu_s[name] / self.calls * 1000


def rpc_request(method: str, data: bytes) -> dict:
    return {"client": "bench-client", "transport": "websocket", "protocol": "json",
            "encoding": "json", "user": "42", "method": method,
            "data": base64.b64encode(data).decode()}


def pb_field(num: int, value: bytes) -> bytes:
    """A length-delimited protobuf field (strings and bytes)."""
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            b, n = n & 0x7F, n >> 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)
    return varint(num << 3 | 2) + varint(len(value)) + value


def rpc_request_binary(method: str, data: bytes) -> bytes:
    """RPCRequest serialized (proxy.proto field numbers), for ghz -B: no per-call JSON work in ghz."""
    return b"".join([pb_field(1, b"bench-client"), pb_field(2, b"websocket"), pb_field(3, b"json"),
                     pb_field(4, b"json"), pb_field(10, b"42"), pb_field(11, method.encode()),
                     pb_field(12, data)])


class Bench:
    def __init__(self, mode: str, mode_cfg: Mode, cpus: Cpus, work: Path, bins: dict[str, Path]):
        self.mode = mode
        self.m = mode_cfg
        self.cpus = cpus
        self.work = work
        self.bins = bins
        self.runs = 0

    # ghz ---------------------------------------------------------------------------------------

    def ghz(self, port: int, request: dict | bytes, concurrency: int, length: list[str],
            under_test: dict[str, int]) -> Run:
        self.runs += 1
        out = self.work / f"ghz-{self.runs}.json"
        argv = [str(BIN / "ghz"), "--insecure", "--call", PROXY_RPC, "-c", str(concurrency),
                "--connections", "1", "--cpus", str(len(self.cpus.load)), *length,
                "--duration-stop", "wait", "--disable-template-functions", "--disable-template-data",
                "--max-recv-message-size", "8MB", "--max-send-message-size", "8MB",
                "-O", "json", "-o", str(out)]
        if isinstance(request, bytes):
            data_file = self.work / f"ghz-{self.runs}.bin"
            data_file.write_bytes(request)
            argv += ["-B", str(data_file)]
        else:
            argv += ["-d", json.dumps(request)]
        argv.append(f"127.0.0.1:{port}")
        for pid in under_test.values():
            reset_peak_rss(pid)
        before = {n: cpu_ticks(p) for n, p in under_test.items()}
        p = Proc("ghz", argv, self.cpus.load, self.work)
        rc = p.p.wait()
        after = {n: cpu_ticks(p) for n, p in under_test.items()}
        Proc.live.remove(p)
        if rc != 0 or not out.exists():
            raise RuntimeError(f"ghz failed ({rc}): {' '.join(argv)}{p.log_tail()}")
        r = json.loads(out.read_text())
        out.unlink()
        lat = {d["percentage"]: d["latency"] / 1e6 for d in r.get("latencyDistribution") or []}
        status = r.get("statusCodeDistribution") or {}
        ok = status.get("OK", 0)
        errors = {k: v for k, v in status.items() if k != "OK"}
        return Run(rps=r["rps"], p50=lat.get(50, 0.0), p90=lat.get(90, 0.0), p99=lat.get(99, 0.0),
                   calls=r["count"], ok=ok, errors=errors,
                   cpu_s={n: (after[n] - before[n]) / CLK_TCK for n in under_test},
                   peak_rss_kib={n: status_kib(pid, "VmHWM") for n, pid in under_test.items()})

    def ghz_warm(self, port: int, request: dict | bytes) -> None:
        self.ghz(port, request, 16, self.m.ghz_warm, {})

    def verify(self, port: int, request: dict, expect) -> None:
        """One call through grpcurl, checked: ghz counts every gRPC OK as a success, and centrpc
        answers its errors (413, 422, 404…) inside an OK reply, so a wrong setup would look fast."""
        argv = [str(BIN / "grpcurl"), "-plaintext", "-max-msg-sz", str(16 << 20), "-d", "@",
                f"127.0.0.1:{port}", PROXY_RPC.rsplit(".", 1)[0] + "/RPC"]
        out = subprocess.run(argv, check=False, input=json.dumps(request), capture_output=True, text=True,
                             timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"verify: grpcurl failed on {request['method']}: {out.stderr.strip()}")
        reply = json.loads(out.stdout)
        data = (reply.get("result") or {}).get("data")
        got = json.loads(base64.b64decode(data)) if data else None
        if "error" in reply or got != expect:
            raise RuntimeError(f"verify: {request['method']} on port {port} answered "
                               f"{out.stdout.strip()[:300]}, expected {json.dumps(expect)[:100]}")

    # loadgen -----------------------------------------------------------------------------------

    def loadgen(self, url: str, token: str, clients: int, concurrency: int, method: str,
                params: dict, under_test: dict[str, int]) -> Run:
        argv = [str(self.bins["loadgen"]), "-url", url, "-token", token, "-clients", str(clients),
                "-concurrency", str(concurrency), "-method", method, "-params", json.dumps(params),
                "-duration", self.m.lg_duration, "-warmup", self.m.lg_warmup,
                "-connect-timeout", "60s"]
        for pid in under_test.values():
            reset_peak_rss(pid)
        # Started before the sampler thread: preexec_fn (pinning) must not run while other
        # threads exist. The measured window begins after connecting and warm-up anyway.
        p = Proc("loadgen", argv, self.cpus.load, self.work, stdout=subprocess.PIPE)
        with Sampler(under_test) as sampler:
            line = p.p.stdout.readline()
            t_report = time.monotonic()
            rc = p.p.wait()
            Proc.live.remove(p)
        if rc != 0 or not line:
            raise RuntimeError(f"loadgen failed ({rc}): {' '.join(argv)}{p.log_tail()}")
        r = json.loads(line)
        # The report is printed as soon as the measured window ends: the window is the
        # duration_s before it (connecting and warm-up excluded).
        cpu = sampler.cpu_seconds(t_report - r["duration_s"], t_report)
        lat = r.get("latency_ms") or {}
        errors = {**{f"code {k}": v for k, v in (r.get("errors") or {}).items()},
                  **(r.get("client_errors") or {})}
        if r.get("mismatched"):
            errors["mismatched"] = r["mismatched"]
        errors = {k: v for k, v in errors.items() if v}
        return Run(rps=r["rps"], p50=lat.get("p50", 0.0), p90=lat.get("p90", 0.0),
                   p99=lat.get("p99", 0.0), calls=r["calls"], ok=r["ok"], errors=errors,
                   cpu_s=cpu,
                   peak_rss_kib={n: status_kib(pid, "VmHWM") for n, pid in under_test.items()})

    # servers -----------------------------------------------------------------------------------

    def centrpc(self, name: str, port: int, extra_env=None, argv: list[str] | None = None) -> Proc:
        # Defaults for everything (log filter, no auth, TLS or metrics port): the app as shipped.
        env = dict(clean_env(), CENTRPC_LISTEN=f"127.0.0.1:{port}", **(extra_env or {}))
        # Its log goes to a file: one line per failed call at most, and none in these runs.
        p = Proc(name, argv or [str(self.bins["tasks"]), "serve"], self.cpus.sut, self.work, env=env)
        p.wait_port(port)
        return p

    def bare(self, port: int) -> Proc:
        p = Proc("bare_tonic", [str(self.bins["bare_tonic"]), "--listen", f"127.0.0.1:{port}"],
                 self.cpus.sut, self.work)
        p.wait_port(port)
        return p

    def python_backend(self, port: int) -> Proc:
        p = Proc("python_backend", [sys.executable, str(ROOT / "bench/python_backend/server.py"),
                                    "--port", str(port)], self.cpus.sut, self.work)
        p.wait_port(port)
        return p

    def centrifugo(self, name: str, config: dict) -> tuple[Proc, str]:
        path = self.work / f"{name}.json"
        path.write_text(json.dumps(config, indent=2))
        port = config["http_server"]["port"]
        env = dict(os.environ)
        env.pop("GOMAXPROCS", None)  # Go derives it from the CPU affinity
        p = Proc(name, [str(BIN / "centrifugo"), "-c", str(path)], self.cpus.sut, self.work, env=env)
        p.wait_port(port)
        return p, f"ws://127.0.0.1:{port}/connection/websocket"


# ------------------------------------------------------------------------------------------------
# Scenarios


def row(scenario: str, point, config: str, run: Run, main: str, **kw) -> dict:
    """A table row: `main` is the process whose CPU and RSS the row reports."""
    rss = run.peak_rss_kib.get(main)
    r = {"scenario": scenario, "point": point, "config": config, "rps": round(run.rps, 1),
         "p50_ms": round(run.p50, 3), "p90_ms": round(run.p90, 3), "p99_ms": round(run.p99, 3),
         "calls": run.calls, "ok": run.ok, "errors": run.errors,
         "cpu_s_per_1k": None if run.cpu_per_1k(main) is None else round(run.cpu_per_1k(main), 5),
         "peak_rss_mb": None if rss is None else round(rss / 1024, 1)}
    if "centrifugo" in run.cpu_s:
        r["centrifugo_cpu_s_per_1k"] = round(run.cpu_per_1k("centrifugo"), 5)
    r.update(kw)
    return r


def div(a, b) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def best(runs: list[Run]) -> Run:
    """Interference from other processes only slows a run down: keep the fastest round."""
    return max(runs, key=lambda r: r.rps)


def scenario_backend(b: Bench) -> list[dict]:
    print("== 1. backend only: ghz -> tasks.get_stats, centrpc vs bare tonic", flush=True)
    request = rpc_request("tasks.get_stats", json.dumps(STATS_PARAMS, separators=(",", ":")).encode())
    ports = {"bare tonic": free_port(), "centrpc": free_port()}
    procs = {"bare tonic": b.bare(ports["bare tonic"]), "centrpc": b.centrpc("centrpc", ports["centrpc"])}
    try:
        for name, port in ports.items():
            b.verify(port, request, STATS_RESULT)
            b.ghz_warm(port, request)
        results: dict[tuple[int, str], list[Run]] = {}
        for rnd in range(b.m.rounds_backend):
            for c in b.m.s1_concurrency:
                order = list(ports) if rnd % 2 == 0 else list(reversed(ports))
                for name in order:
                    run = b.ghz(ports[name], request, c, b.m.ghz_run, {"server": procs[name].pid})
                    results.setdefault((c, name), []).append(run)
                    print(f"   c={c:<4} {name:<18} {run.rps:>9.0f} req/s  p99 {run.p99:7.3f} ms", flush=True)
    finally:
        for p in procs.values():
            p.stop()
    rows = []
    for c in b.m.s1_concurrency:
        base = best(results[(c, "bare tonic")])
        for name in ports:
            run = best(results[(c, name)])
            r = row("backend", c, name, run, "server", rounds=len(results[(c, name)]))
            if name != "bare tonic":
                r["rps_ratio"] = div(run.rps, base.rps)
                r["p99_ratio"] = div(run.p99, base.p99)
                r["cpu_ratio"] = div(run.cpu_per_1k("server"), base.cpu_per_1k("server"))
                r["targets"] = {"req/s >= 0.95x bare": (r["rps_ratio"] or 0) >= 0.95,
                                "p99 <= 1.1x bare": (r["p99_ratio"] or 9) <= 1.1,
                                "RSS <= 30 MB": r["peak_rss_mb"] <= RSS_TARGET_MB}
            rows.append(r)
    return rows


def centrifugo_config(b: Bench, env: dict, app_port: int, cf_port: int, *args: str) -> dict:
    env = dict(env, CENTRPC_LISTEN=f"127.0.0.1:{app_port}", CENTRPC_CENTRIFUGO_PORT=str(cf_port),
               CENTRPC_CENTRIFUGO_ADDRESS="127.0.0.1", CENTRPC_CLIENT_CONCURRENCY="64")
    out = subprocess.run([str(b.bins["tasks"]), "centrifugo-config", *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


class Stack:
    """Centrifugo plus one backend, for the end-to-end runs."""

    def __init__(self, b: Bench, kind: str, secrets_env: dict):
        self.kind = kind
        self.procs: list[Proc] = []
        self.under_test: dict[str, int] = {}
        app_port, cf_port = free_port(), free_port()
        try:
            if kind == "centrpc":
                cfg = centrifugo_config(b, secrets_env, app_port, cf_port)
                p = b.centrpc("centrpc", app_port)
            elif kind == "bare tonic":
                cfg = centrifugo_config(b, secrets_env, app_port, cf_port,
                                        "--endpoint", f"grpc://127.0.0.1:{app_port}")
                p = b.bare(app_port)
            elif kind == "Centrifugo ping":
                cfg = centrifugo_config(b, secrets_env, app_port, cf_port)
                cfg["rpc"]["ping"] = {"enabled": True, "method": "ping"}
                p = None
            elif kind == "Python (aiohttp, HTTP proxy)":
                cfg = centrifugo_config(b, secrets_env, app_port, cf_port)
                cfg["rpc"]["proxy"]["endpoint"] = f"http://127.0.0.1:{app_port}/rpc"
                cfg["rpc"]["proxy"].pop("grpc", None)
                p = b.python_backend(app_port)
                verify_http(app_port)
            else:
                raise ValueError(kind)
            if p:
                self.procs.append(p)
                self.under_test["server"] = p.pid
            cf, self.url = b.centrifugo("centrifugo", cfg)
            self.procs.append(cf)
            self.under_test["centrifugo"] = cf.pid
        except BaseException:
            self.stop()
            raise
        self.method, self.params = ("ping", {}) if kind == "Centrifugo ping" \
            else ("tasks.get_stats", STATS_PARAMS)

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()


def verify_http(port: int) -> None:
    """One call to the Python backend in Centrifugo's HTTP proxy format, checked."""
    import urllib.request
    body = json.dumps({"client": "c", "transport": "websocket", "protocol": "json", "encoding": "json",
                       "user": "42", "method": "tasks.get_stats", "data": STATS_PARAMS}).encode()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/rpc", body, timeout=10) as resp:
        reply = json.loads(resp.read())
    if reply != {"result": {"data": STATS_RESULT}}:
        raise RuntimeError(f"verify: the Python backend answered {reply}")


def e2e_setup(b: Bench) -> tuple[dict, str]:
    env = dict(clean_env(), CENTRPC_HMAC_SECRET=secrets.token_hex(16),
               CENTRPC_CENTRIFUGO_API_KEY=secrets.token_hex(16))
    token = subprocess.run([str(b.bins["tasks"]), "token", "--user", "bench", "--ttl", "2h"],
                           env=env, check=True, capture_output=True, text=True).stdout.strip()
    return env, token


E2E_KINDS = ["centrpc", "bare tonic", "Centrifugo ping", "Python (aiohttp, HTTP proxy)"]


def scenario_e2e(b: Bench) -> list[dict]:
    print(f"== 2. end to end: loadgen ({b.m.s2_clients} clients x {b.m.s2_concurrency} in flight) "
          "-> Centrifugo -> backend", flush=True)
    env, token = e2e_setup(b)
    results: dict[str, list[Run]] = {}
    for rnd in range(b.m.rounds_e2e):
        for kind in (E2E_KINDS if rnd % 2 == 0 else list(reversed(E2E_KINDS))):
            stack = Stack(b, kind, env)
            try:
                run = b.loadgen(stack.url, token, b.m.s2_clients, b.m.s2_concurrency, stack.method,
                                stack.params, stack.under_test)
            finally:
                stack.stop()
            results.setdefault(kind, []).append(run)
            print(f"   {kind:<30} {run.rps:>8.0f} req/s  p99 {run.p99:7.3f} ms", flush=True)
    runs = {k: best(v) for k, v in results.items()}
    bare, python = runs["bare tonic"], runs["Python (aiohttp, HTTP proxy)"]
    rows = []
    for kind in E2E_KINDS:
        run = runs[kind]
        r = row("e2e", f"{b.m.s2_clients}x{b.m.s2_concurrency}", kind, run, "server",
                rounds=len(results[kind]), rps_vs_bare=div(run.rps, bare.rps))
        if kind == "Centrifugo ping":
            r["cpu_s_per_1k"], r["peak_rss_mb"] = None, None
        if kind == "centrpc":
            r["rps_vs_python"] = div(run.rps, python.rps)
            r["cpu_vs_bare"] = div(run.cpu_per_1k("server"), bare.cpu_per_1k("server"))
            r["cpu_vs_python"] = div(run.cpu_per_1k("server"), python.cpu_per_1k("server"))
            r["targets"] = {"req/s >= 0.95x bare": (r["rps_vs_bare"] or 0) >= 0.95,
                            "req/s >= 5x Python": (r["rps_vs_python"] or 0) >= 5,
                            "RSS <= 30 MB": r["peak_rss_mb"] <= RSS_TARGET_MB}
        rows.append(r)
    return rows


def scenario_payload(b: Bench) -> list[dict]:
    print("== 3a. payload size: ghz -> system.echo (c=1), centrpc vs bare tonic echoing bytes", flush=True)
    ports = {"bare tonic": free_port(), "centrpc": free_port()}
    # 1 MB is just under the default --max-payload (1 MiB); 2 MiB leaves room, so a change of the
    # sizes never turns into in-band 413 replies.
    procs = {"bare tonic": b.bare(ports["bare tonic"]),
             "centrpc": b.centrpc("centrpc-echo", ports["centrpc"],
                                  extra_env={"CENTRPC_MAX_PAYLOAD": str(2 * 1024 * 1024)})}
    results: dict[tuple[int, str], list[Run]] = {}
    try:
        requests = {}
        for size in b.m.payloads:
            payload = echo_payload(size)
            requests[size] = rpc_request_binary("system.echo", payload)
            for port in ports.values():
                b.verify(port, rpc_request("system.echo", payload), json.loads(payload))
        for port in ports.values():
            b.ghz_warm(port, requests[b.m.payloads[0]])
        for rnd in range(b.m.rounds_scaling):
            for size in b.m.payloads:
                for name in (list(ports) if rnd % 2 == 0 else list(reversed(ports))):
                    run = b.ghz(ports[name], requests[size], 1, b.m.ghz_scaling_run,
                                {"server": procs[name].pid})
                    results.setdefault((size, name), []).append(run)
                    print(f"   {human_bytes(size):>7} {name:<12} {run.rps:>8.0f} req/s  "
                          f"p50 {run.p50:8.3f} ms", flush=True)
    finally:
        for p in procs.values():
            p.stop()
    rows = []
    for size in b.m.payloads:
        base = best(results[(size, "bare tonic")])
        for name in ports:
            run = best(results[(size, name)])
            r = row("payload", size, name, run, "server", rounds=len(results[(size, name)]),
                    mb_per_s=round(run.rps * size * 2 / 1e6, 1))
            if name == "centrpc":
                r["rps_ratio"] = div(run.rps, base.rps)
                r["p50_ratio"] = div(run.p50, base.p50)
                r["p99_ratio"] = div(run.p99, base.p99)
                r["cpu_ratio"] = div(run.cpu_per_1k("server"), base.cpu_per_1k("server"))
                r["targets"] = {"RSS <= 30 MB": r["peak_rss_mb"] <= RSS_TARGET_MB}
            rows.append(r)
    return rows


def echo_payload(size: int) -> bytes:
    """loadgen's system.echo payload shape, padded to `size` bytes."""
    shell = '{"client":0,"pad":"","seq":0}'
    return ('{"client":0,"pad":"' + "x" * max(size - len(shell), 0) + '","seq":0}').encode()


def scenario_methods(b: Bench) -> list[dict]:
    print("== 3b. registered methods: ghz (c=16) -> method #N/2 of a centrpc app with N methods", flush=True)
    procs, ports, requests = {}, {}, {}
    try:
        # Every app is up at once (idle when not measured) so the rounds interleave the points.
        for n in b.m.methods:
            ports[n] = free_port()
            procs[n] = b.centrpc(f"centrpc-many-{n}", ports[n], argv=[
                str(b.bins["bare_tonic"]), "centrpc-many", "--methods", str(n), "serve"])
            requests[n] = rpc_request(f"bench.m{n // 2}", json.dumps(STATS_PARAMS).encode())
            b.verify(ports[n], requests[n], STATS_RESULT)
            b.ghz_warm(ports[n], requests[n])
        results: dict[int, list[Run]] = {}
        for rnd in range(b.m.rounds_scaling):
            for n in (b.m.methods if rnd % 2 == 0 else list(reversed(b.m.methods))):
                run = b.ghz(ports[n], requests[n], 16, b.m.ghz_scaling_run, {"server": procs[n].pid})
                results.setdefault(n, []).append(run)
                print(f"   {n:>6} methods {run.rps:>9.0f} req/s  p50 {run.p50:7.3f} ms", flush=True)
    finally:
        for p in procs.values():
            p.stop()
    rows = []
    base = best(results[b.m.methods[0]])
    for n in b.m.methods:
        run = best(results[n])
        r = row("methods", n, "centrpc", run, "server", rounds=len(results[n]),
                rps_ratio=div(run.rps, base.rps), p50_ratio=div(run.p50, base.p50),
                p99_ratio=div(run.p99, base.p99),
                cpu_ratio=div(run.cpu_per_1k("server"), base.cpu_per_1k("server")))
        r["targets"] = {"p50 <= 1.1x 1 method": (r["p50_ratio"] or 0) <= 1.1,
                        "RSS <= 30 MB": r["peak_rss_mb"] <= RSS_TARGET_MB}
        rows.append(r)
    return rows


def scenario_clients(b: Bench) -> list[dict]:
    print("== 3c. clients: loadgen (N clients x 1 in flight) -> Centrifugo -> centrpc vs bare tonic", flush=True)
    env, token = e2e_setup(b)
    runs: dict[tuple[int, str], Run] = {}
    for kind in ("bare tonic", "centrpc"):
        stack = Stack(b, kind, env)
        try:
            for n in b.m.clients:
                run = b.loadgen(stack.url, token, n, 1, stack.method, stack.params, stack.under_test)
                runs[(n, kind)] = run
                print(f"   {n:>5} clients {kind:<12} {run.rps:>8.0f} req/s  p99 {run.p99:7.3f} ms", flush=True)
        finally:
            stack.stop()
    rows = []
    for n in b.m.clients:
        base = runs[(n, "bare tonic")]
        for kind in ("bare tonic", "centrpc"):
            run = runs[(n, kind)]
            r = row("clients", n, kind, run, "server")
            if kind == "centrpc":
                r["rps_ratio"] = div(run.rps, base.rps)
                r["p99_ratio"] = div(run.p99, base.p99)
                r["cpu_ratio"] = div(run.cpu_per_1k("server"), base.cpu_per_1k("server"))
                r["targets"] = {"req/s >= 0.95x bare": (r["rps_ratio"] or 0) >= 0.95,
                                "RSS <= 30 MB": r["peak_rss_mb"] <= RSS_TARGET_MB}
            rows.append(r)
    return rows


# 4. Subscription streams ---------------------------------------------------------------------------


@dataclass
class StreamsMode:
    conns: int            # throughput: WebSocket connections
    subs: int             # throughput: subscriptions per connection
    max_items: int        # throughput at max: items per subscription
    equal_s: float        # throughput at equal offered load: seconds of items
    scale_conns: int      # scale: connections x subscriptions = open streams
    scale_subs: int
    scale_items: int      # scale: items per stream once active
    scale_interval_us: int
    idle_s: float         # scale: idle window over which CPU is read
    timeout: str          # loadgen gives up waiting for items after this (a safety net)


STREAMS_MODES = {
    "smoke": StreamsMode(2, 10, 100, 0.5, 2, 10, 3, 200_000, 0.3, "60s"),
    "quick": StreamsMode(10, 10, 2_000, 3.0, 100, 100, 5, 1_000_000, 2.0, "180s"),
    "full": StreamsMode(10, 10, 5_000, 8.0, 100, 100, 20, 1_000_000, 5.0, "600s"),
}
GATES = itertools.count(1)
API_CONCURRENCY = 32   # server-API publishes in flight (centrpc::ServerApi, one request per item)
STREAM_ERRORS = ("lost", "duplicates", "out_of_order", "unexpected", "undecodable",
                 "subscription_errors", "resubscribes", "reconnects")


def control(port: int, method: str, params: dict) -> dict:
    """Calls a `control.*` method of bench/stream_bench.rs directly over gRPC (grpcurl)."""
    argv = [str(BIN / "grpcurl"), "-plaintext", "-d", "@", f"127.0.0.1:{port}",
            PROXY_RPC.rsplit(".", 1)[0] + "/RPC"]
    request = rpc_request(method, json.dumps(params, separators=(",", ":")).encode())
    out = subprocess.run(argv, check=False, input=json.dumps(request), capture_output=True, text=True,
                         timeout=60)
    reply = json.loads(out.stdout) if out.returncode == 0 else {}
    data = (reply.get("result") or {}).get("data")
    if out.returncode != 0 or "error" in reply or data is None:
        raise RuntimeError(f"{method} failed: {out.stderr.strip() or out.stdout.strip()[:300]}")
    return json.loads(base64.b64decode(data))


class StreamStack:
    """bench/stream_bench.rs behind its own Centrifugo (config from its `centrifugo-config`)."""

    def __init__(self, b: Bench, env: dict, name: str):
        self.procs: list[Proc] = []
        self.port, cf_port = free_port(), free_port()
        cfg_env = dict(env, CENTRPC_LISTEN=f"127.0.0.1:{self.port}",
                       CENTRPC_CENTRIFUGO_PORT=str(cf_port), CENTRPC_CENTRIFUGO_ADDRESS="127.0.0.1")
        cfg = json.loads(subprocess.run([str(b.bins["stream_bench"]), "centrifugo-config"], env=cfg_env,
                                        check=True, capture_output=True, text=True).stdout)
        try:
            # 10 000 streams and the connections carrying them: centrpc's stream limit raised
            # (Proc raises every child's open-files limit to the hard limit).
            self.app = b.centrpc(name, self.port, extra_env={
                "CENTRPC_MAX_STREAMS": "100000",
                "CENTRPC_CENTRIFUGO_API_URL": f"http://127.0.0.1:{cf_port}/api",
                "CENTRPC_CENTRIFUGO_API_KEY": env["CENTRPC_CENTRIFUGO_API_KEY"]},
                argv=[str(b.bins["stream_bench"]), "serve"])
            self.procs.append(self.app)
            self.cf, self.url = b.centrifugo(f"centrifugo-{name}", cfg)
            self.procs.append(self.cf)
        except BaseException:
            self.stop()
            raise
        self.under_test = {"server": self.app.pid, "centrifugo": self.cf.pid}

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()


def subscribe_run(b: Bench, stack: StreamStack, token: str, path: str, conns: int, subs: int,
                  items: int, interval_us: int, timeout: str, idle_s: float = 0.0) -> dict:
    """loadgen in subscribe mode: every subscription up, then the items started (the streams' gate
    opened, or the server-API publishing started) and received. Returns loadgen's report with CPU
    per item over the window from the first to the last item received, plus idle figures when
    `idle_s` (RSS with every subscription open, CPU over `idle_s` before the items start)."""
    stream = path == "stream"
    gate = next(GATES)  # the streams of this run wait for their own gate
    data = {"count": items, "interval_us": interval_us, "gate": gate} if stream else None
    argv = [str(b.bins["loadgen"]), "-url", stack.url, "-token", token, "-clients", str(conns),
            "-subs", str(subs), "-subscribe", "bench:" if stream else "feed:",
            "-items", str(items), "-duration", timeout, "-connect-timeout", "300s", "-timeout", "30s"]
    if data:
        argv += ["-sub-data", json.dumps(data, separators=(",", ":"))]
    for pid in stack.under_test.values():
        reset_peak_rss(pid)
    before_stats = control(stack.port, "control.stats", {})
    rss_before = {n: status_kib(pid, "VmRSS") for n, pid in stack.under_test.items()}
    p = Proc("loadgen-subscribe", argv, b.cpus.load, b.work, stdout=subprocess.PIPE)
    idle: dict = {}
    try:
        with Sampler(stack.under_test) as sampler:
            line = p.p.stdout.readline()
            if not line:
                raise RuntimeError(f"loadgen failed ({p.p.wait()}): {' '.join(argv)}{p.log_tail()}")
            if idle_s:
                time.sleep(0.5)  # let the last opens settle
                t0 = time.monotonic()
                time.sleep(idle_s)
                cpu = sampler.cpu_seconds(t0, time.monotonic())
                idle = {"rss_before_kib": rss_before,
                        "rss_open_kib": {n: status_kib(pid, "VmRSS") for n, pid in stack.under_test.items()},
                        "idle_cpu_share": {n: round(v / idle_s, 4) for n, v in cpu.items()}}
            t_go = time.monotonic()
            if stream:
                control(stack.port, "control.go", {"gate": gate})
            else:
                keys = [f"{c}-{s}" for c in range(conns) for s in range(subs)]
                control(stack.port, "control.publish", {"keys": keys, "count": items,
                                                        "interval_us": interval_us,
                                                        "concurrency": API_CONCURRENCY})
            line = p.p.stdout.readline()
            rc = p.p.wait()
    finally:
        if p in Proc.live:
            p.stop()
    if rc != 0 or not line:
        raise RuntimeError(f"loadgen failed ({rc}): {' '.join(argv)}{p.log_tail()}")
    r = json.loads(line)
    after_stats = control(stack.port, "control.stats", {})
    r["publish_failed"] = after_stats["failed"] - before_stats["failed"]
    # CPU from the moment the items were started (a stream produces items before its subscriber
    # receives the first) to the last item received. loadgen's times are wall clock, the
    # sampler's monotonic.
    shift = time.time() - time.monotonic()
    if r["received"]:
        t_end = max(r["last_item_unix_ms"] / 1000 - shift, t_go + 0.01)
        cpu = sampler.cpu_seconds(t_go, t_end)
        r["cpu_us_per_item"] = {n: round(v / r["received"] * 1e6, 2) for n, v in cpu.items()}
        r["cpu_share"] = {n: round(v / (t_end - t_go), 3) for n, v in cpu.items()}
    else:
        r["cpu_us_per_item"], r["cpu_share"] = {}, {}
    r["peak_rss_kib"] = {n: status_kib(pid, "VmHWM") for n, pid in stack.under_test.items()}
    r.update(idle)
    return r


def stream_row(point: str, config: str, r: dict, **kw) -> dict:
    lat = r.get("latency_ms") or {}
    errors = {k: r[k] for k in STREAM_ERRORS if r.get(k)}
    if r.get("publish_failed"):
        errors["publish failed"] = r["publish_failed"]
    unsub = {k: v for k, v in (r.get("unsubscribed") or {}).items()}
    out = {"scenario": "streams", "point": point, "config": config, "rps": r["items_per_s"],
           "items": r["received"], "expected": r["expected"], "ok": r["distinct"], "errors": errors,
           "p50_ms": lat.get("p50"), "p90_ms": lat.get("p90"), "p99_ms": lat.get("p99"),
           "max_ms": lat.get("max"), "duration_s": r["duration_s"],
           "centrpc_cpu_us_per_item": r["cpu_us_per_item"].get("server"),
           "centrifugo_cpu_us_per_item": r["cpu_us_per_item"].get("centrifugo"),
           "centrpc_busy": r["cpu_share"].get("server"), "centrifugo_busy": r["cpu_share"].get("centrifugo"),
           "peak_rss_mb": round(r["peak_rss_kib"]["server"] / 1024, 1),
           "centrifugo_peak_rss_mb": round(r["peak_rss_kib"]["centrifugo"] / 1024, 1),
           "unsubscribed": unsub, "stop_reason": r.get("stop_reason"),
           "error_samples": r.get("error_samples") or {}}
    out.update(kw)
    return out


def scenario_streams(b: Bench) -> list[dict]:
    sm = STREAMS_MODES[b.mode]
    n = sm.conns * sm.subs
    print(f"== 4. streams: {n} subscriptions ({sm.conns} connections x {sm.subs}), items through a "
          "stream against the same items through the server API", flush=True)
    env, token = e2e_setup(b)
    rows: list[dict] = []
    stack = StreamStack(b, env, "stream_bench")
    try:
        # Warm-up: both paths once, small.
        for path in ("stream", "api"):
            subscribe_run(b, stack, token, path, sm.conns, sm.subs, 10, 0, sm.timeout)
        runs: dict[tuple[str, str], dict] = {}
        for path in ("stream", "api"):
            runs[("max", path)] = subscribe_run(b, stack, token, path, sm.conns, sm.subs, sm.max_items,
                                                0, sm.timeout)
            r = runs[("max", path)]
            print(f"   max   {path:<6} {r['items_per_s']:>9.0f} items/s  p99 "
                  f"{(r['latency_ms'] or {}).get('p99', 0):8.3f} ms  lost {r['lost']}", flush=True)
        # Equal offered load: half the slower path's maximum, the same pacing on both paths.
        rate = min(runs[("max", "stream")]["items_per_s"], runs[("max", "api")]["items_per_s"]) / 2
        interval_us = max(int(n * 1e6 / max(rate, 1)), 1)
        items = max(int(sm.equal_s * 1e6 / interval_us), 10)
        offered = round(n * 1e6 / interval_us)
        for path in ("api", "stream"):
            runs[("equal", path)] = subscribe_run(b, stack, token, path, sm.conns, sm.subs, items,
                                                  interval_us, sm.timeout)
            r = runs[("equal", path)]
            print(f"   equal {path:<6} {r['items_per_s']:>9.0f} items/s (offered {offered}/s)  p99 "
                  f"{(r['latency_ms'] or {}).get('p99', 0):8.3f} ms  lost {r['lost']}", flush=True)
    finally:
        stack.stop()
    for point in ("max", "equal"):
        s, a = runs[(point, "stream")], runs[(point, "api")]
        label = "as fast as possible" if point == "max" else f"{offered:,} items/s offered"
        for path, r in (("stream", s), ("server API", a)):
            kw = {"subscriptions": n, "offered": None if point == "max" else offered}
            if path == "stream":
                kw["rps_ratio"] = div(s["items_per_s"], a["items_per_s"])
                kw["cpu_ratio"] = div(sum(s["cpu_us_per_item"].values()), sum(a["cpu_us_per_item"].values()))
                kw["p99_ratio"] = div((s["latency_ms"] or {}).get("p99"), (a["latency_ms"] or {}).get("p99"))
            rows.append(stream_row(label, path, r, **kw))

    rows.append(streams_scale(b, env, token))
    # Sane figures in every mode (errors such as lost or out-of-order items are in `errors`):
    # every subscription got its items, at a measurable rate and latency.
    for r in rows:
        if not (r["rps"] > 0 and r["p99_ms"] and r["ok"] == r["expected"] > 0):
            raise RuntimeError(f"streams {r['point']} {r['config']}: {r['ok']} of {r['expected']} items "
                               f"in order, {r['rps']} items/s, p99 {r['p99_ms']} ms "
                               f"(stopped: {r['stop_reason']}; errors: {errs(r)}; {r['error_samples']})")
    return rows


def streams_scale(b: Bench, env: dict, token: str) -> dict:
    sm = STREAMS_MODES[b.mode]
    total = sm.scale_conns * sm.scale_subs
    print(f"== 4b. streams at scale: {total} open streams, idle, then 1 item every "
          f"{sm.scale_interval_us / 1e6:g} s each", flush=True)
    stack = StreamStack(b, env, "stream_bench_scale")
    try:
        subscribe_run(b, stack, token, "stream", 2, 5, 10, 0, sm.timeout)  # warm-up
        time.sleep(0.2)
        r = subscribe_run(b, stack, token, "stream", sm.scale_conns, sm.scale_subs, sm.scale_items,
                          sm.scale_interval_us, sm.timeout, idle_s=sm.idle_s)
    finally:
        stack.stop()
    grow = r["rss_open_kib"]["server"] - r["rss_before_kib"]["server"]
    cf_grow = r["rss_open_kib"]["centrifugo"] - r["rss_before_kib"]["centrifugo"]
    row_ = stream_row(f"{total:,} streams", "stream", r, subscriptions=total,
                      offered=round(total * 1e6 / sm.scale_interval_us),
                      rss_before_mb=round(r["rss_before_kib"]["server"] / 1024, 1),
                      rss_open_mb=round(r["rss_open_kib"]["server"] / 1024, 1),
                      rss_per_stream_kib=round(grow / total, 2),
                      centrifugo_rss_per_stream_kib=round(cf_grow / total, 2),
                      idle_cpu_share=r["idle_cpu_share"], subscribe_s=r["subscribe_s"])
    print(f"   {total} streams: centrpc RSS {row_['rss_before_mb']} -> {row_['rss_open_mb']} MB "
          f"({row_['rss_per_stream_kib']} KiB per stream), idle CPU {r['idle_cpu_share']}, "
          f"{row_['centrpc_cpu_us_per_item']} us CPU per item at {r['items_per_s']:.0f} items/s", flush=True)
    return row_


# ------------------------------------------------------------------------------------------------
# Reports


def human_bytes(n: int) -> str:
    for unit, size in (("MB", 1_000_000), ("kB", 1_000)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


def num(v, digits: int = 0) -> str:
    if v is None:
        return "—"
    return f"{v:,.{digits}f}"


def sig(v) -> str:
    """Three significant digits."""
    if v is None:
        return "—"
    if v == 0:
        return "0"
    return f"{v:.3g}" if v < 1000 else f"{v:,.0f}"


def ratio(v) -> str:
    return "—" if v is None else f"{v:.3g}×"


def busy(r: dict, with_centrifugo: bool = False) -> str:
    """CPU use of the processes under test during the run, as a share of one core."""
    per_call = (r.get("cpu_s_per_1k") or 0) + (r.get("centrifugo_cpu_s_per_1k") or 0 if with_centrifugo else 0)
    return f"{per_call * r['rps'] / 1000:.0%}" if per_call else "—"


def met(r: dict) -> str:
    t = r.get("targets")
    if not t:
        return ""
    missed = [k for k, ok in t.items() if not ok]
    return "yes" if not missed else "**no**: " + "; ".join(missed)


def errs(r: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "0"


def md_table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def markdown(result: dict) -> str:
    s = result["scenarios"]
    env = result["environment"]
    lines = [
        f"# centrpc benchmarks, {result['date']} ({result['mode']} mode)",
        "",
        f"Machine: {env['cpus']} × {env['cpu_model']}, Linux {env['kernel']}; load average "
        f"{env['loadavg_start']} at the start, {env['loadavg_end']} at the end. "
        f"Pinning: {env['pinning']}. Commit {env['git']}. "
        f"Binaries: cargo `{result['profile']}` profile; Centrifugo {env['centrifugo']}, ghz {env['ghz']}; "
        f"Python {env['python']}. Measuring took {sum(result['scenario_seconds'].values()):.0f} s.",
        "",
        "Absolute numbers are noise on a small shared machine (load generator, Centrifugo and the server "
        "share the cores, and other work runs alongside). **Read the ratios**: every baseline ran in the "
        "same invocation, next to the configuration it is compared with. CPU is the server's "
        "utime+stime per 1 000 calls over the measured window; RSS is the server's peak (VmHWM) "
        "during the run. Targets are reported, not asserted.",
        "",
    ]
    if result["mode"] == "smoke":
        lines += ["**Smoke mode**: debug build, runs of a few hundred calls. It checks that the harness "
                  "works; its numbers and target columns mean nothing.", ""]
    if "backend" in s:
        lines += ["## 1. Backend only (ghz → CentrifugoProxy.RPC `tasks.get_stats`)", "",
                  "One HTTP/2 connection, `-c` calls in flight. *bare tonic* answers with a pre-encoded "
                  "reply (the ceiling); *centrpc* is the example app as shipped (default flags and log "
                  "filter). Ratios are against bare tonic. *busy* is the server's CPU use as a share of one core: well under 100 % means "
                  "ghz, not the server, set the pace, and then *CPU / call vs bare* is the overhead "
                  "measure to trust.", ""]
        rows = [[str(r["point"]), r["config"], num(r["rps"]), sig(r["p50_ms"]), sig(r["p90_ms"]),
                 sig(r["p99_ms"]), sig(r["cpu_s_per_1k"]), busy(r), num(r["peak_rss_mb"], 1),
                 ratio(r.get("rps_ratio")), ratio(r.get("p99_ratio")), ratio(r.get("cpu_ratio")),
                 "≥ 0.95× req/s, p99 ≤ 1.1×, RSS ≤ 30 MB" if r.get("targets") else "", met(r), errs(r)]
                for r in s["backend"]]
        lines += [md_table(["concurrency", "server", "req/s", "p50 ms", "p90 ms", "p99 ms",
                            "CPU-s / 1k calls", "busy", "peak RSS MB", "req/s vs bare", "p99 vs bare",
                            "CPU / call vs bare", "target", "met?", "errors"], rows), ""]
        ins = result.get("instructions")
        if ins and "small" in ins["ceiling"] and "small" in ins["ratios"]:
            cpu = ", ".join(f"c={r['point']} {ratio(r.get('cpu_ratio'))}" for r in s["backend"]
                            if r["config"] == "centrpc")
            per = "; ".join(f"{n.replace('_', ' ')} {r['server_ratio']:.3f}×" for n, r in ins["ceiling"].items())
            own = ins["ratios"]["small"]
            lines += [f"**Instructions against CPU.** Server-side instructions per call, centrpc ÷ bare "
                      f"tonic (callgrind, `make bench-guard`, deterministic): **{ins['ceiling']['small']['server_ratio']:.3f}×** "
                      f"for this call, next to the CPU per call measured above: {cpu}. Other paths: {per}. "
                      "The CPU ratios move by several percent from run to run here; the instruction "
                      f"ratio is the same every time. Against a hand-written tonic service doing the same "
                      f"serde work (`{own['against']}`), centrpc's own {own['centrpc_instructions']:,.0f} "
                      f"instructions are {own['centrpc_share_of_bare_server_pct']:.1f} % of its server side; "
                      "on the other paths, against the hand-written service giving the same answer: "
                      + "; ".join(f"{n.replace('_', ' ')} {r['centrpc_instructions']:,.0f} instructions, "
                                  f"{r['centrpc_share_of_bare_server_pct']:.1f} %"
                                  for n, r in ins["ratios"].items() if n != "small") + ".", ""]
    if "e2e" in s:
        first = s["e2e"][0]["point"]
        lines += [f"## 2. End to end (loadgen → Centrifugo → backend), {first.replace('x', ' clients × ')} calls in flight each",
                  "",
                  "WebSocket clients on the official centrifuge-go SDK. *Centrifugo ping* is Centrifugo's "
                  "built-in `ping` RPC (no backend: the ceiling of the path); *Python* is Centrifugo's HTTP "
                  "proxy to one aiohttp process doing the same work. Centrifugo and the backend share "
                  "one core: *busy* is their CPU use together, as a share of it.", ""]
        rows = [[r["config"], num(r["rps"]), sig(r["p50_ms"]), sig(r["p90_ms"]), sig(r["p99_ms"]),
                 sig(r["cpu_s_per_1k"]), sig(r.get("centrifugo_cpu_s_per_1k")), busy(r, True),
                 num(r["peak_rss_mb"], 1), ratio(r.get("rps_vs_bare")), ratio(r.get("rps_vs_python")),
                 ratio(r.get("cpu_vs_bare")), ratio(r.get("cpu_vs_python")),
                 "≥ 0.95× bare req/s, ≥ 5× Python req/s, RSS ≤ 30 MB" if r.get("targets") else "",
                 met(r), errs(r)] for r in s["e2e"]]
        lines += [md_table(["backend", "req/s", "p50 ms", "p90 ms", "p99 ms", "backend CPU-s / 1k",
                            "Centrifugo CPU-s / 1k", "busy", "backend peak RSS MB", "req/s vs bare",
                            "req/s vs Python", "backend CPU / call vs bare", "vs Python", "target",
                            "met?", "errors"], rows), ""]
    if "payload" in s:
        lines += ["## 3a. Payload size (ghz → `system.echo`, 1 call in flight)", "",
                  "centrpc parses the payload into a JSON value and serializes it back; bare tonic returns "
                  "the request bytes unchanged. MB/s counts both directions. centrpc runs with "
                  "`CENTRPC_MAX_PAYLOAD=2097152`.", ""]
        rows = [[human_bytes(r["point"]), r["config"], num(r["rps"]), num(r["mb_per_s"], 1),
                 sig(r["p50_ms"]), sig(r["p90_ms"]), sig(r["p99_ms"]), sig(r["cpu_s_per_1k"]), busy(r),
                 num(r["peak_rss_mb"], 1), ratio(r.get("rps_ratio")), ratio(r.get("p50_ratio")),
                 ratio(r.get("cpu_ratio")), "RSS ≤ 30 MB" if r.get("targets") else "", met(r), errs(r)]
                for r in s["payload"]]
        lines += [md_table(["payload", "server", "req/s", "MB/s", "p50 ms", "p90 ms", "p99 ms",
                            "CPU-s / 1k calls", "busy", "peak RSS MB", "req/s vs bare", "p50 vs bare",
                            "CPU / call vs bare", "target", "met?", "errors"], rows), ""]
    if "methods" in s:
        lines += ["## 3b. Registered methods (ghz → method #N/2, 16 in flight)", "",
                  "`bare_tonic centrpc-many --methods N`: a centrpc app with N methods sharing one "
                  "`get_stats`-like handler. Ratios are against the 1-method app.", ""]
        rows = [[num(r["point"]), num(r["rps"]), sig(r["p50_ms"]), sig(r["p90_ms"]), sig(r["p99_ms"]),
                 sig(r["cpu_s_per_1k"]), busy(r), num(r["peak_rss_mb"], 1), ratio(r.get("rps_ratio")),
                 ratio(r.get("p50_ratio")), ratio(r.get("cpu_ratio")), "p50 ≤ 1.1× (flat), RSS ≤ 30 MB",
                 met(r), errs(r)] for r in s["methods"]]
        lines += [md_table(["methods", "req/s", "p50 ms", "p90 ms", "p99 ms", "CPU-s / 1k calls", "busy",
                            "peak RSS MB", "req/s vs 1 method", "p50 vs 1 method",
                            "CPU / call vs 1 method", "target", "met?", "errors"], rows), ""]
    if "clients" in s:
        lines += ["## 3c. Clients (loadgen, 1 call in flight per client → Centrifugo → backend)", "",
                  "Ratios are centrpc against bare tonic behind the same Centrifugo configuration; "
                  "*busy* is Centrifugo and the backend together, as a share of their core.", ""]
        rows = [[num(r["point"]), r["config"], num(r["rps"]), sig(r["p50_ms"]), sig(r["p90_ms"]),
                 sig(r["p99_ms"]), sig(r["cpu_s_per_1k"]), sig(r.get("centrifugo_cpu_s_per_1k")),
                 busy(r, True), num(r["peak_rss_mb"], 1), ratio(r.get("rps_ratio")),
                 ratio(r.get("p99_ratio")), ratio(r.get("cpu_ratio")),
                 "≥ 0.95× req/s, RSS ≤ 30 MB" if r.get("targets") else "", met(r), errs(r)]
                for r in s["clients"]]
        lines += [md_table(["clients", "backend", "req/s", "p50 ms", "p90 ms", "p99 ms",
                            "backend CPU-s / 1k", "Centrifugo CPU-s / 1k", "busy", "backend peak RSS MB",
                            "req/s vs bare", "p99 vs bare", "backend CPU / call vs bare", "target",
                            "met?", "errors"], rows), ""]
    if "streams" in s:
        tp = [r for r in s["streams"] if not r.get("rss_per_stream_kib")]
        scale = [r for r in s["streams"] if r.get("rss_per_stream_kib")]
        lines += ["## 4. Subscription streams (loadgen subscribers → Centrifugo ← centrpc)", "",
                  "The same items `{n, at_us}` reach subscribers two ways: *stream*, a `bench:<key>` "
                  "subscription stream of [`bench/stream_bench.rs`](../stream_bench.rs) (Centrifugo's "
                  "`SubscribeUnidirectional` proxy, one gRPC stream per subscriber), and *server API*, the "
                  "same app publishing each item to `feed:<key>` through `centrpc::ServerApi` (Centrifugo's "
                  f"`/api/publish`, one request per item, {API_CONCURRENCY} in flight). Every subscriber "
                  "checks n = 0..count-1 in order; latency is receive time − `at_us` (same clock). "
                  "Items start once every subscription is up. *Equal load* paces both paths to half the "
                  "slower path's maximum. items/s counts items received between the first and the last; "
                  "CPU is per item delivered, from the moment the items were started to the last one "
                  "received; *busy* is a share of one core.", ""]
        rows = [[r["point"], r["config"], num(r["rps"]), ratio(r.get("rps_ratio")), sig(r["p50_ms"]),
                 sig(r["p99_ms"]), ratio(r.get("p99_ratio")), sig(r["centrpc_cpu_us_per_item"]),
                 sig(r["centrifugo_cpu_us_per_item"]), ratio(r.get("cpu_ratio")),
                 f"{r['centrpc_busy'] or 0:.0%} / {r['centrifugo_busy'] or 0:.0%}",
                 num(r["peak_rss_mb"], 1), f"{num(r['ok'])} / {num(r['expected'])}", errs(r)] for r in tp]
        lines += [md_table(["load", "path", "items/s", "items/s stream ÷ API", "p50 ms", "p99 ms",
                            "p99 stream ÷ API", "centrpc CPU µs / item", "Centrifugo CPU µs / item",
                            "CPU / item (both) stream ÷ API", "busy centrpc / Centrifugo", "centrpc peak RSS MB", "items in order / expected",
                            "errors"], rows), ""]
        if scale:
            lines += ["**At scale.** Every stream opened and idle (gated), then each yields one item per "
                      "interval, the streams' first items spread over the interval. RSS per open stream "
                      "= (centrpc's RSS with every stream open − before) ÷ streams; idle CPU is over the "
                      "idle window, as a share of one core.", ""]
            rows = [[r["point"], num(r["rss_before_mb"], 1), num(r["rss_open_mb"], 1),
                     sig(r["rss_per_stream_kib"]), sig(r["centrifugo_rss_per_stream_kib"]),
                     f"{r['idle_cpu_share'].get('server', 0):.1%} / {r['idle_cpu_share'].get('centrifugo', 0):.1%}",
                     num(r["offered"]), num(r["rps"]), sig(r["centrpc_cpu_us_per_item"]),
                     sig(r["centrifugo_cpu_us_per_item"]), sig(r["p50_ms"]), sig(r["p99_ms"]),
                     num(r["subscribe_s"], 1), f"{num(r['ok'])} / {num(r['expected'])}", errs(r)]
                    for r in scale]
            lines += [md_table(["open streams", "centrpc RSS before MB", "with streams MB",
                                "centrpc KiB / stream", "Centrifugo KiB / stream",
                                "idle CPU centrpc / Centrifugo", "items/s offered", "items/s",
                                "centrpc CPU µs / item", "Centrifugo CPU µs / item", "p50 ms", "p99 ms",
                                "subscribing took s", "items in order / expected", "errors"], rows), ""]
    missed = result["targets_missed"]
    lines += ["## Targets", "",
              ("Every target met." if not missed else
               f"{len(missed)} target(s) missed (reported, not asserted):\n\n" +
               "\n".join(f"- {m}" for m in missed)), ""]
    return "\n".join(lines)


def legend(ax) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def chart(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    s = result["scenarios"]
    fig, axes = plt.subplots(3, 3, figsize=(16, 13))
    fig.suptitle(f"centrpc benchmarks {result['date']} ({result['mode']}): ratios matter, "
                 "absolute numbers are machine noise", fontsize=12)
    colors = {"bare tonic": "#999999", "centrpc": "#d9480f",
              "Centrifugo ping": "#4dabf7", "Python (aiohttp, HTTP proxy)": "#5c940d"}

    ax = axes[0][0]
    rows = s.get("backend", [])
    concs = sorted({r["point"] for r in rows})
    configs = list(dict.fromkeys(r["config"] for r in rows))
    width = 0.8 / max(len(configs), 1)
    for i, cfg in enumerate(configs):
        ys = [next((r["rps"] for r in rows if r["point"] == c and r["config"] == cfg), 0) for c in concs]
        ax.bar([j + i * width for j in range(len(concs))], ys, width, label=cfg, color=colors.get(cfg))
    ax.set_xticks([j + width * (len(configs) - 1) / 2 for j in range(len(concs))])
    ax.set_xticklabels([f"c={c}" for c in concs])
    ax.set_title("1. backend only (ghz): req/s")
    legend(ax)

    ax = axes[0][1]
    rows = s.get("e2e", [])
    ax.bar(range(len(rows)), [r["rps"] for r in rows], color=[colors.get(r["config"]) for r in rows])
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r["config"].replace(" (aiohttp, HTTP proxy)", "\n(aiohttp)").replace(", ", ",\n")
                        .replace("Centrifugo ", "Centrifugo\n") for r in rows], fontsize=8)
    ax.set_title("2. end to end through Centrifugo: req/s")

    ax = axes[0][2]
    for cfg in ("bare tonic", "centrpc"):
        pts = [r for r in s.get("payload", []) if r["config"] == cfg]
        ax.plot([r["point"] for r in pts], [r["p50_ms"] for r in pts], "o-", label=cfg, color=colors[cfg])
    if s.get("payload"):
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("payload bytes")
    ax.set_ylabel("p50 ms")
    ax.set_title("3a. payload size (system.echo, c=1): p50 latency")
    legend(ax)

    ax = axes[1][0]
    pts = s.get("methods", [])
    ax.plot([r["point"] for r in pts], [r["p50_ms"] for r in pts], "o-", label="p50", color=colors["centrpc"])
    ax.plot([r["point"] for r in pts], [r["p99_ms"] for r in pts], "s--", label="p99", color="#862e9c")
    if pts:
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
    ax.set_xlabel("registered methods")
    ax.set_ylabel("ms")
    ax.set_title("3b. method count (c=16): latency")
    legend(ax)

    ax = axes[1][1]
    for cfg in ("bare tonic", "centrpc"):
        pts = [r for r in s.get("clients", []) if r["config"] == cfg]
        ax.plot([r["point"] for r in pts], [r["rps"] for r in pts], "o-", label=f"{cfg} req/s", color=colors[cfg])
    if s.get("clients"):
        ax.set_xscale("log")
    ax.set_xlabel("WebSocket clients (1 in flight each)")
    ax.set_ylabel("req/s")
    ax.set_title("3c. clients through Centrifugo: req/s")
    legend(ax)

    ax = axes[1][2]
    rss = [(f"{r['scenario']} {r['point']}", r["peak_rss_mb"]) for sc in s.values() for r in sc
           if r["config"] == "centrpc" and r.get("peak_rss_mb") is not None]
    ax.barh(range(len(rss)), [v for _, v in rss], color=colors["centrpc"])
    ax.set_yticks(range(len(rss)))
    ax.set_yticklabels([k for k, _ in rss], fontsize=7)
    ax.axvline(RSS_TARGET_MB, color="black", linestyle="--", label="30 MB target")
    ax.set_xlabel("MB")
    ax.set_title("centrpc peak RSS per run")
    legend(ax)

    ax = axes[2][0]
    tp = [r for r in s.get("streams", []) if not r.get("rss_per_stream_kib")]
    points = list(dict.fromkeys(r["point"] for r in tp))
    paths = {"stream": colors["centrpc"], "server API": colors["Centrifugo ping"]}
    for i, (how, color) in enumerate(paths.items()):
        ys = [next((r["rps"] for r in tp if r["point"] == pt and r["config"] == how), 0) for pt in points]
        ax.bar([j + i * 0.4 for j in range(len(points))], ys, 0.4, label=how, color=color)
    ax.set_xticks([j + 0.2 for j in range(len(points))])
    ax.set_xticklabels(points, fontsize=8)
    ax.set_ylabel("items/s")
    ax.set_title("4. streams vs server API: items/s delivered")
    legend(ax)

    ax = axes[2][1]
    labels = [f"{r['point']}\n{r['config']}" for r in s.get("streams", [])]
    cp = [r["centrpc_cpu_us_per_item"] or 0 for r in s.get("streams", [])]
    cf = [r["centrifugo_cpu_us_per_item"] or 0 for r in s.get("streams", [])]
    ax.barh(range(len(labels)), cp, color=colors["centrpc"], label="centrpc")
    ax.barh(range(len(labels)), cf, left=cp, color=colors["Centrifugo ping"], label="Centrifugo")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("CPU µs per item delivered")
    ax.set_title("4. streams: CPU per item")
    legend(ax)
    axes[2][2].set_axis_off()

    for ax, key in ((axes[2][0], "streams"), (axes[2][1], "streams"), (axes[0][0], "backend"), (axes[0][1], "e2e"), (axes[0][2], "payload"),
                    (axes[1][0], "methods"), (axes[1][1], "clients")):
        if not s.get(key):
            ax.clear()
            ax.set_axis_off()
            ax.text(0.5, 0.5, f"{key}: not run", ha="center", va="center", transform=ax.transAxes)

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------


def pinned_version(tool: str) -> str:
    """setup.sh installs NAME-VERSION and links NAME to it."""
    name = (BIN / tool).resolve().name
    return name[len(tool) + 1:] if name.startswith(tool + "-") else "?"


def environment(cpus: Cpus) -> dict:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, cwd=ROOT, capture_output=True,
                         text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "status", "--porcelain"], check=False, cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "pinning": cpus.describe(), "git": git + (" (with local changes)" if dirty else ""),
            "centrifugo": pinned_version("centrifugo"), "ghz": pinned_version("ghz"),
            "python": platform.python_version()}


def ensure_tools() -> None:
    missing = [t for t in ("centrifugo", "grpcurl", "ghz", "loadgen") if not (BIN / t).exists()]
    if missing:
        print(f"bench: installing {' '.join(missing)} (scripts/setup.sh)", flush=True)
        subprocess.run(["bash", str(ROOT / "scripts/setup.sh"), *missing], check=True,
                       stdout=subprocess.DEVNULL)


def binaries(profile: str) -> dict[str, Path]:
    d = TARGET / profile / "examples"
    return {"tasks": d / "tasks", "bare_tonic": d / "bare_tonic", "stream_bench": d / "stream_bench",
            "loadgen": TARGET / "bench-loadgen" / "loadgen"}


def build(profile: str) -> dict[str, Path]:
    argv = ["cargo", "build", "--example", "tasks", "--example", "bare_tonic", "--example", "stream_bench"]
    if profile == "release":
        argv.insert(2, "--release")
    print("bench: " + " ".join(argv), flush=True)
    subprocess.run(argv, cwd=ROOT, check=True)
    bins = binaries(profile)
    # loadgen from this checkout, next to the other binaries: the shared copy in the tool cache is
    # whatever checkout ran `scripts/setup.sh loadgen` last. Go's build cache makes this cheap.
    go = shutil.which("go") or str(CACHE / "go/bin/go")
    subprocess.run([go, "build", "-o", str(bins["loadgen"]), "."], cwd=ROOT / "bench/loadgen", check=True)
    return bins


def instruction_ratios(work: Path) -> dict | None:
    """The instruction-count ratios of `make bench-guard` (callgrind, deterministic), to print next
    to the CPU per call measured here. None when valgrind is missing or the harness fails."""
    if shutil.which("valgrind") is None:
        print("bench: no valgrind, so no instruction ratios (bash scripts/setup.sh valgrind)", flush=True)
        return None
    print("== instructions per call: scripts/bench_guard.py (callgrind)", flush=True)
    out = work / "guard"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/bench_guard.py"), "--out", str(out),
                           *[a for sc in ("small", "invalid_params", "subscribe", "bare", "bare_subscribe",
                                        "hand_written", "hand_written_invalid", "hand_written_subscribe")
                             for a in ("--scenario", sc)]], cwd=ROOT, check=False)
    path = out / "results.json"
    if not path.exists():
        print(f"bench: bench_guard.py failed (exit {proc.returncode}); no instruction ratios", flush=True)
        return None
    return json.loads(path.read_text())


SCENARIOS = {"backend": scenario_backend, "e2e": scenario_e2e, "payload": scenario_payload,
             "methods": scenario_methods, "clients": scenario_clients, "streams": scenario_streams}


def main() -> int:
    ap = argparse.ArgumentParser(description="centrpc benchmarks against their baselines (make bench)")
    ap.add_argument("--mode", choices=list(MODES), default="quick")
    ap.add_argument("--out", type=Path, help="output directory (default bench/results; smoke: a temp dir)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin servers and load generator to CPUs")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--only", choices=list(SCENARIOS), action="append",
                    help="run only this scenario (repeatable)")
    args = ap.parse_args()
    reexec_in_venv()
    mode = MODES[args.mode]
    started = time.monotonic()
    ensure_tools()
    if args.no_build:
        bins = binaries(mode.profile)
        if not bins["loadgen"].exists():
            bins["loadgen"] = BIN / "loadgen"
    else:
        bins = build(mode.profile)
    out = args.out or (Path(tempfile.mkdtemp(prefix="centrpc-bench-smoke-")) if args.mode == "smoke"
                       else ROOT / "bench/results")
    out.mkdir(parents=True, exist_ok=True)
    cpus = Cpus(not args.no_pin)
    if cpus.pinned:
        os.sched_setaffinity(0, cpus.load)  # keep this script off the servers' CPU
    work = Path(tempfile.mkdtemp(prefix="centrpc-bench-"))
    b = Bench(args.mode, mode, cpus, work, bins)
    env = environment(cpus)
    print(f"bench: {args.mode} mode; {cpus.describe()}; logs in {work}", flush=True)
    scenarios: dict[str, list[dict]] = {}
    timings: dict[str, float] = {}
    try:
        for name, fn in SCENARIOS.items():
            if not args.only or name in args.only:
                t0 = time.monotonic()
                scenarios[name] = fn(b)
                timings[name] = round(time.monotonic() - t0, 1)
                print(f"   ({timings[name]} s)", flush=True)
    except KeyboardInterrupt:
        print(f"bench: interrupted; logs in {work}", file=sys.stderr)
        return 130
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        print(f"bench: FAILED: {e}\nbench: logs in {work}", file=sys.stderr)
        return 1
    finally:
        Proc.stop_all()
    instructions = (instruction_ratios(work) if args.mode != "smoke" and "backend" in scenarios
                    else None)
    env["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    today = datetime.date.today().isoformat()
    missed = [f"{r['scenario']} {r['point']} {r['config']}: {k}" for rows in scenarios.values()
              for r in rows for k, ok in (r.get("targets") or {}).items() if not ok]
    result = {"date": today, "mode": args.mode, "profile": mode.profile,
              "seconds": round(time.monotonic() - started, 1), "scenario_seconds": timings,
              "environment": env,
              "scenarios": scenarios, "targets_missed": missed, "instructions": instructions}
    (out / f"{today}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{today}.md").write_text(markdown(result))
    chart(result, out / f"{today}.png")
    shutil.rmtree(work, ignore_errors=True)
    print(f"bench: done in {result['seconds']} s; wrote {out}/{today}.{{json,md,png}}")
    if args.mode != "smoke":
        print(f"bench: {len(missed)} target(s) missed (reported, not asserted)" if missed
              else "bench: every target met")
    rows = [r for rs in scenarios.values() for r in rs]
    dead = [r for r in rows if r["ok"] == 0]
    errored = [r for r in rows if r["errors"]]
    for r in errored:
        print(f"bench: errors in {r['scenario']} {r['point']} {r['config']}: {errs(r)}", file=sys.stderr)
    if dead:
        print(f"bench: FAILED: {len(dead)} run(s) without a single successful call", file=sys.stderr)
        return 1
    if args.mode == "smoke" and errored:
        print("bench: FAILED: smoke runs must have no errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

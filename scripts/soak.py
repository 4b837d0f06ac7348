#!/usr/bin/env python3
"""make soak: the example app (release build) behind Centrifugo, loaded at ~70 % of the capacity
measured in the same run, for SOAK_SECONDS (default 600). Every reply is checked against its
request. Passes when no call is lost, failed or mismatched and centrpc's RSS grows < 5 % from the
end of warm-up to the end. Writes bench/results/soak-<date>.json.

Loopback only; bounded in time; stops by itself.
"""

import datetime
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("CENTRPC_CACHE", Path.home() / ".cache/centrpc"))
BIN = CACHE / "bin"
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
LOAD = 0.70


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"soak: nothing listens on {port}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def loadgen(url: str, token: str, *args: str) -> dict:
    out = subprocess.run([str(BIN / "loadgen"), "-url", url, "-token", token, *args],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    subprocess.run(["cargo", "build", "-q", "--release", "--example", "tasks"], cwd=ROOT, check=True)
    app_bin = ROOT / "target/release/examples/tasks"
    work = Path(tempfile.mkdtemp())
    app_port, cf_port = free_port(), free_port()
    env = dict(os.environ,
               CENTRPC_LISTEN=f"127.0.0.1:{app_port}", CENTRPC_AUTH_KEY="x-centrpc-auth",
               CENTRPC_AUTH_VALUE=secrets.token_hex(16), CENTRPC_HMAC_SECRET=secrets.token_hex(16),
               CENTRPC_CENTRIFUGO_API_KEY=secrets.token_hex(16), CENTRPC_CENTRIFUGO_PORT=str(cf_port),
               CENTRPC_CENTRIFUGO_ADDRESS="127.0.0.1", CENTRPC_CLIENT_CONCURRENCY="64", CENTRPC_LOG="warn")
    (work / "centrifugo.json").write_text(
        subprocess.run([str(app_bin), "centrifugo-config"], env=env, check=True, capture_output=True, text=True).stdout)
    app = subprocess.Popen([str(app_bin), "serve"], env=env, stderr=open(work / "app.log", "w"))
    cf = subprocess.Popen([str(BIN / "centrifugo"), "-c", str(work / "centrifugo.json")],
                          stdout=subprocess.DEVNULL, stderr=open(work / "cf.log", "w"))
    try:
        wait_port(app_port)
        wait_port(cf_port)
        token = subprocess.run([str(app_bin), "token", "--user", "soak", "--ttl", "2h"], env=env,
                               check=True, capture_output=True, text=True).stdout.strip()
        url = f"ws://127.0.0.1:{cf_port}/connection/websocket"
        shape = ["-clients", "8", "-concurrency", "8", "-payload-bytes", "200"]
        capacity = loadgen(url, token, *shape, "-duration", "10s", "-warmup", "2s")["rps"]
        rate = int(capacity * LOAD)
        print(f"soak: capacity {capacity:.0f} calls/s; soaking at {rate} calls/s for {SECONDS} s", flush=True)
        # The report goes to a file: it is larger than a pipe buffer, and this loop only reads
        # it once the load generator has exited.
        report_path = work / "loadgen.json"
        proc = subprocess.Popen([str(BIN / "loadgen"), "-url", url, "-token", token, *shape,
                                 "-rate", str(rate), "-duration", f"{SECONDS}s", "-warmup", "20s"],
                                stdout=open(report_path, "w"))
        time.sleep(min(20, SECONDS / 4))
        samples = []
        while proc.poll() is None:
            samples.append({"t_s": round(time.monotonic(), 1), "rss_kib": rss_kib(app.pid)})
            time.sleep(5)
        if proc.returncode != 0:
            sys.exit(f"soak: the load generator failed (exit {proc.returncode})")
        report = json.loads(report_path.read_text())
        start, end = samples[0]["rss_kib"], samples[-1]["rss_kib"]
        growth = (end - start) / start if start else 0.0
        lost = report["calls"] - report["ok"]
        passed = lost == 0 and report["mismatched"] == 0 and growth < 0.05
        result = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "seconds": SECONDS, "capacity_rps": capacity, "target_rps": rate, "achieved_rps": report["rps"],
            "calls": report["calls"], "ok": report["ok"], "failed_or_lost": lost,
            "errors": report["errors"], "client_errors": report["client_errors"], "mismatched": report["mismatched"],
            "latency_ms": report["latency_ms"], "rss_kib_start": start, "rss_kib_end": end,
            "rss_growth": round(growth, 4), "rss_peak_kib": max(s["rss_kib"] for s in samples), "passed": passed,
        }
        out = ROOT / "bench/results" / f"soak-{datetime.date.today()}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        print(f"soak: {'PASSED' if passed else 'FAILED'}: {report['calls']} calls, {lost} failed or lost, "
              f"{report['mismatched']} mismatched, RSS {start} -> {end} KiB ({growth:+.1%}); wrote {out}")
        sys.exit(0 if passed else 1)
    finally:
        app.terminate()
        cf.terminate()
        app.wait()
        cf.wait()


if __name__ == "__main__":
    main()

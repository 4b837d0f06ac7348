#!/usr/bin/env python3
"""make bench-guard: instructions per call under callgrind, held to a committed baseline.

    python3 scripts/bench_guard.py              # measure, compare to bench/guard/baseline.json
    python3 scripts/bench_guard.py --update     # measure and rewrite the baseline (make bench-guard-update)
    python3 scripts/bench_guard.py --self-test  # prove the guard trips on a deliberately slowed build
    python3 scripts/bench_guard.py --runs 3     # each scenario 3x, with the spread

Each scenario runs bench/bench_guard.rs (release build) under `valgrind --tool=callgrind`,
counting only the K measured calls (`--toggle-collect` on its `centrpc_guard_measure`): client and
server in one process on one current-thread runtime, so the count is deterministic. Two figures
per scenario are guarded: instructions per call (client + server, user space) and its server side
(hyper's HTTP/2 server tasks, which run tonic and centrpc). A scenario fails when either grows more
than the baseline's threshold (3 %) over its baseline figure; the message names the scenario and
both figures. Ratios centrpc / bare tonic (same client, same request bytes) are reported, not
guarded. Results go to <cargo target dir>/bench-guard/results.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "bench/guard/baseline.json"
EXAMPLE = "bench_guard"
MEASURED_FN = "centrpc_guard_measure"
THRESHOLD_PCT = 3.0
WARMUP = 100
CALLS = 500
SCENARIOS = ["small", "payload_10k", "invalid_params", "subscribe", "bare", "bare_subscribe",
             "hand_written", "hand_written_invalid", "hand_written_subscribe"]
# Which baseline each centrpc scenario is compared with, for centrpc's own share: the same client
# and request bytes, answered by tonic without centrpc doing the same application work and giving
# the same answer byte for byte (bench_guard checks both): the hand-written typed service (serde
# in and out as the handler does, the 422 with its field path, the hook's channel check).
# payload_10k has no counterpart.
AGAINST = {"small": "hand_written", "invalid_params": "hand_written_invalid",
           "subscribe": "hand_written_subscribe"}
# The ceiling: the same requests answered by bare tonic with a fixed answer (no application work
# at all, the request never read), reported next to the share so the application's own work is
# visible too.
CEILING = {"small": "bare", "invalid_params": "bare", "subscribe": "bare_subscribe"}
# The target for centrpc's own share of a call, in % of the baseline's server side.
TARGET_PCT = 3.0
# The server's share of a call: the inclusive cost of the server's tasks: tonic's connection task
# (`serve_connection`'s future, which polls hyper's HTTP/2 connection) and each stream's task
# (hyper's H2Stream, which runs the gRPC service: tonic + centrpc or bare tonic, and its drop).
# Task roots, because the optimizer may inline anything below them (hyper's `Server::poll`, used
# here before, vanished into its caller after an unrelated change). What is left is the client,
# the runtime's scheduling and the I/O driver.
SERVER_FNS = [
    re.compile(r"^<hyper::proto::h2::server::H2Stream<.*> as core::future::future::Future>::poll$"),
    re.compile(r"^tonic::transport::server::serve_connection::\{\{closure\}\}$"),
    re.compile(r"^core::ptr::drop_in_place<hyper::proto::h2::server::H2Stream<.*>>$"),
]
# The deliberate slowdowns of --self-test: elements pushed into an extra Vec per call
# (CENTRPC_GUARD_SLOWDOWN), ~14 instructions each: about +5 % and +1 % of `small`.
SLOWDOWN_TRIPS = 500
SLOWDOWN_PASSES = 100


def log(msg: str) -> None:
    print(msg, flush=True)


def tool_version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def environment() -> dict:
    return {"rustc": tool_version(["rustc", "--version"]),
            "valgrind": tool_version(["valgrind", "--version"]),
            "libc": tool_version(["ldd", "--version"]).splitlines()[0] if shutil.which("ldd")
            else "unknown"}


def require_valgrind() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("bench-guard: valgrind is required: `bash scripts/setup.sh valgrind` "
                 "(Debian's valgrind package)")


def target_dir() -> Path:
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return Path(json.loads(out)["target_directory"])


def build() -> Path:
    """cargo build --release --example bench_guard; returns the executable."""
    log("bench-guard: cargo build --release --example bench_guard")
    proc = subprocess.run(
        ["cargo", "build", "--release", "--example", EXAMPLE,
         "--message-format=json-render-diagnostics"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        sys.exit("bench-guard: the build failed")
    for line in proc.stdout.splitlines():
        msg = json.loads(line)
        if (msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == EXAMPLE
                and msg.get("executable")):
            return Path(msg["executable"])
    sys.exit("bench-guard: cargo did not report the bench_guard executable")


def server_share(out: Path) -> int:
    """Instructions spent in the server's tasks (SERVER_FNS), from callgrind's inclusive view."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
                          capture_output=True, text=True, check=True).stdout
    total = 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*?:(.*) \[", line)
        if m and any(p.match(m.group(2)) for p in SERVER_FNS):
            total += int(m.group(1).replace(",", ""))
    return total


def measure(exe: Path, scenario: str, slowdown: int = 0) -> tuple[float, float]:
    """Instructions per measured call of `scenario` (all, server side), from one callgrind run."""
    # The same environment, arguments and program path every time, whoever runs it from
    # wherever: they sit on the initial stack, and its alignment moves memcpy's counts.
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    if slowdown:
        env["CENTRPC_GUARD_SLOWDOWN"] = str(slowdown)
    valgrind = shutil.which("valgrind") or "valgrind"
    with tempfile.TemporaryDirectory(prefix="bench-guard-", dir="/tmp") as tmp:
        out = Path(tmp) / "callgrind.out"
        (Path(tmp) / EXAMPLE).symlink_to(exe)
        argv = [valgrind, "--tool=callgrind", f"--toggle-collect={EXAMPLE}::{MEASURED_FN}",
                f"--callgrind-out-file={out}", f"./{EXAMPLE}", scenario,
                "--warmup", str(WARMUP), "--calls", str(CALLS)]
        with open(Path(tmp) / "stderr", "w+b") as err:
            proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                  cwd=tmp, check=False)
            if proc.returncode != 0:
                err.seek(0)
                tail = err.read().decode(errors="replace").splitlines()[-15:]
                sys.exit(f"bench-guard: scenario {scenario} failed (exit {proc.returncode}):\n  "
                         + "\n  ".join(tail))
        total = None
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
        if not total:
            sys.exit(f"bench-guard: callgrind counted nothing for {scenario}: is "
                     f"{MEASURED_FN} still in bench/bench_guard.rs?")
        server = server_share(out)
        if not server:
            sys.exit(f"bench-guard: no server task found in {scenario}'s profile: did hyper "
                     "rename them? Update SERVER_FNS in scripts/bench_guard.py")
    return total / CALLS, server / CALLS


def pct(a: float, b: float) -> float:
    return (a / b - 1.0) * 100.0


def run_all(exe: Path, scenarios: list[str], runs: int, slowdown: int = 0) -> dict:
    results: dict[str, dict] = {}
    for name in scenarios:
        t0 = time.monotonic()
        pairs = sorted(measure(exe, name, slowdown) for _ in range(runs))
        counts = [c for c, _ in pairs]
        lo, hi = min(counts), max(counts)
        results[name] = {"instructions_per_call": round(pairs[len(pairs) // 2][0], 1),
                         "server_per_call": round(pairs[len(pairs) // 2][1], 1),
                         "runs": [round(c, 1) for c in counts],
                         "spread_pct": round(pct(hi, lo), 3)}
        log(f"  {name:<15} {results[name]['instructions_per_call']:>12,.1f} instr/call, server "
            f"side {results[name]['server_per_call']:>10,.1f}"
            + (f"  (runs {', '.join(f'{c:,.0f}' for c in counts)}; spread "
               f"{results[name]['spread_pct']:.3f} %)" if runs > 1 else "")
            + f"  [{time.monotonic() - t0:.1f} s]")
    return results


def ratios(results: dict, against: dict) -> dict:
    """centrpc / its baseline, for the whole call and for the server side (the 3 % target is
    centrpc's own instructions against the baseline's server-side ones)."""
    out = {}
    for name, base in against.items():
        if name in results and base in results:
            a, b = results[name]["instructions_per_call"], results[base]["instructions_per_call"]
            sa, sb = results[name]["server_per_call"], results[base]["server_per_call"]
            out[name] = {"against": base, "ratio": round(a / b, 4),
                         "server_ratio": round(sa / sb, 4),
                         "centrpc_instructions": round(a - b, 1),
                         "centrpc_share_of_bare_server_pct": round((a - b) / sb * 100, 2)}
    return out


def compare(results: dict, baseline: dict) -> list[str]:
    """One line per scenario over the threshold (empty: pass); prints every comparison."""
    threshold = baseline.get("threshold_pct", THRESHOLD_PCT)
    failures = []
    for name, r in results.items():
        for key, what in [("instructions_per_call", "whole call"), ("server_per_call", "server side")]:
            base = baseline["scenarios"].get(name, {}).get(key)
            now = r[key]
            if base is None:
                log(f"  {name:<15} {what}: no baseline figure (add it: make bench-guard-update)")
                continue
            change = pct(now, base)
            verdict = "ok"
            if change > threshold:
                verdict = "FAIL"
                failures.append(f"bench-guard: FAIL {name}: {now:,.1f} instructions per call "
                                f"({what}) against a baseline of {base:,.1f} (+{change:.2f} %, more "
                                f"than the {threshold:g} % allowed)")
            elif change < -threshold:
                verdict = "faster (lock it in: make bench-guard-update)"
            log(f"  {name:<15} {what:<11} {now:>12,.1f} vs baseline {base:>12,.1f}  "
                f"{change:+7.2f} %  {verdict}")
    return failures


def markdown(result: dict) -> str:
    lines = ["# bench-guard: instructions per call (callgrind)", "",
             f"{result['date']}, {result['environment']['rustc']}, "
             f"{result['environment']['valgrind']}; {result['calls']} measured calls after "
             f"{result['warmup']} warm-up, client + server in one process.", "",
             "| scenario | instructions / call | vs baseline | server side | vs baseline | "
             "spread (runs) |", "|---|---|---|---|---|---|"]
    base = result.get("baseline", {})
    for name, r in result["scenarios"].items():
        b = base.get(name, {})
        vs = {k: f"{pct(r[k], b[k]):+.2f} %" if b.get(k) else "—"
              for k in ("instructions_per_call", "server_per_call")}
        lines.append(f"| {name} | {r['instructions_per_call']:,.1f} | "
                     f"{vs['instructions_per_call']} | {r['server_per_call']:,.1f} | "
                     f"{vs['server_per_call']} | {r['spread_pct']:.3f} % ({len(r['runs'])}) |")
    lines += ["", "| centrpc scenario | against | ratio (whole call) | ratio (server side) | "
              "instructions over it | share of its server side |", "|---|---|---|---|---|---|"]
    for name, r in [*result["ratios"].items(), *result["ceiling"].items()]:
        lines.append(f"| {name} | {r['against']} | {r['ratio']:.3f}× | {r['server_ratio']:.3f}× | "
                     f"{r['centrpc_instructions']:,.0f} | "
                     f"{r['centrpc_share_of_bare_server_pct']:.1f} % |")
    return "\n".join(lines) + "\n"


def self_test(exe: Path) -> int:
    """Proves the guard can fail: runs the real guard (this script, as `make bench-guard` does) on
    `small` against a baseline measured just now, with the harness slowed on purpose
    (CENTRPC_GUARD_SLOWDOWN). About +5 % must fail and name the scenario; about +1 % must pass."""
    log("bench-guard self-test: measuring small without a slowdown for the reference")
    reference, reference_server = measure(exe, "small")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-guard-self-test-") as tmp:
        baseline = Path(tmp) / "baseline.json"
        baseline.write_text(json.dumps({"threshold_pct": THRESHOLD_PCT, "environment": environment(),
                                        "scenarios": {"small": {
                                            "instructions_per_call": round(reference, 1),
                                            "server_per_call": round(reference_server, 1)}}}))
        for n, must_fail in [(SLOWDOWN_TRIPS, True), (SLOWDOWN_PASSES, False)]:
            log(f"bench-guard self-test: the guard on small with CENTRPC_GUARD_SLOWDOWN={n} "
                f"(must {'FAIL' if must_fail else 'pass'}):")
            proc = subprocess.run(
                [sys.executable, __file__, "--no-build", "--exe", str(exe), "--scenario", "small",
                 "--slowdown", str(n), "--baseline", str(baseline), "--out", tmp],
                capture_output=True, text=True, check=False)
            for line in (proc.stdout + proc.stderr).splitlines():
                if "small" in line or "FAIL" in line:
                    log("    " + line)
            named = "bench-guard: FAIL small:" in proc.stderr
            if must_fail != (proc.returncode == 1 and named):
                ok = False
                log(f"bench-guard self-test: WRONG: exit {proc.returncode} with slowdown {n}")
    log("bench-guard self-test: " + ("ok: a slowed build trips the guard, naming the scenario, "
                                     "and a slowdown under the threshold does not" if ok else "FAILED"))
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help="rewrite bench/guard/baseline.json")
    ap.add_argument("--self-test", action="store_true",
                    help="check that a deliberately slowed build fails the guard")
    ap.add_argument("--runs", type=int, default=1, help="runs per scenario (median kept)")
    ap.add_argument("--scenario", action="append", choices=SCENARIOS,
                    help="only these scenarios (repeatable)")
    ap.add_argument("--no-build", action="store_true", help="use the existing release binary")
    ap.add_argument("--exe", type=Path, help="the harness binary (with --no-build)")
    ap.add_argument("--baseline", type=Path, default=BASELINE, help="baseline file to compare to")
    ap.add_argument("--slowdown", type=int, default=0,
                    help="CENTRPC_GUARD_SLOWDOWN for the harness: a deliberately slowed run")
    ap.add_argument("--out", type=Path, help="results directory (default <target>/bench-guard)")
    args = ap.parse_args()
    require_valgrind()
    t0 = time.monotonic()
    if args.no_build:
        exe = args.exe or target_dir() / "release/examples" / EXAMPLE
    else:
        exe = build()
    if not exe.exists():
        sys.exit(f"bench-guard: no harness binary at {exe}: run without --no-build")
    if args.self_test:
        return self_test(exe)
    scenarios = args.scenario or SCENARIOS
    log(f"bench-guard: {len(scenarios)} scenario(s) x {args.runs} run(s) under callgrind, "
        f"{WARMUP} warm-up + {CALLS} measured calls each")
    results = run_all(exe, scenarios, args.runs, args.slowdown)
    result = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
              "environment": environment(), "warmup": WARMUP, "calls": CALLS,
              "slowdown": args.slowdown, "scenarios": results, "ratios": ratios(results, AGAINST),
              "ceiling": ratios(results, CEILING), "target_pct": TARGET_PCT}
    for name, r in result["ratios"].items():
        share = r["centrpc_share_of_bare_server_pct"]
        log(f"  {name} / {r['against']}: {r['ratio']:.3f}x the whole call, {r['server_ratio']:.3f}x "
            f"the server side; centrpc's own {r['centrpc_instructions']:,.0f} instructions = "
            f"{share:.1f} % of {r['against']}'s server side (target {TARGET_PCT:g} %: "
            f"{'met' if share <= TARGET_PCT else 'MISSED'})")
    for name, r in result["ceiling"].items():
        log(f"  {name} / {r['against']} (pre-encoded, no application work): {r['ratio']:.3f}x the "
            f"whole call, {r['server_ratio']:.3f}x the server side")
    failures: list[str] = []
    if args.update:
        if args.slowdown:
            sys.exit("bench-guard: refusing to write a baseline from a slowed run")
        old = json.loads(BASELINE.read_text())["scenarios"] if BASELINE.exists() else {}
        merged = {**old, **{n: {"instructions_per_call": r["instructions_per_call"],
                                "server_per_call": r["server_per_call"]}
                            for n, r in results.items()}}
        BASELINE.parent.mkdir(parents=True, exist_ok=True)
        BASELINE.write_text(json.dumps({
            "note": "Instructions per call (callgrind), written by `make bench-guard-update`. "
                    "Commit a change with the reason in the commit message.",
            "threshold_pct": THRESHOLD_PCT, "warmup": WARMUP, "calls": CALLS,
            "environment": result["environment"],
            "scenarios": {n: merged[n] for n in SCENARIOS if n in merged}}, indent=2) + "\n")
        log(f"bench-guard: baseline written to {BASELINE.relative_to(ROOT)}; commit it with the "
            "reason in the commit message")
    else:
        if not args.baseline.exists():
            sys.exit(f"bench-guard: no baseline at {args.baseline}: run make bench-guard-update")
        baseline = json.loads(args.baseline.read_text())
        if (baseline.get("warmup", WARMUP), baseline.get("calls", CALLS)) != (WARMUP, CALLS):
            sys.exit(f"bench-guard: the baseline was measured with {baseline.get('warmup')} "
                     f"warm-up + {baseline.get('calls')} calls, this script makes {WARMUP} + "
                     f"{CALLS}: run make bench-guard-update")
        result["baseline"] = baseline["scenarios"]
        log(f"bench-guard: against {args.baseline} "
            f"(fails above +{baseline.get('threshold_pct', THRESHOLD_PCT):g} %)")
        failures = compare(results, baseline)
        if failures and baseline.get("environment") != result["environment"]:
            log(f"bench-guard: note: the baseline was measured with {baseline.get('environment')}, "
                f"this run with {result['environment']}; a toolchain change alone can move counts")
    out = args.out or target_dir() / "bench-guard"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "results.md").write_text(markdown(result))
    for f in failures:
        print(f, file=sys.stderr)
    if failures:
        print("bench-guard: where the instructions went: valgrind --tool=callgrind "
              f"--toggle-collect={EXAMPLE}::{MEASURED_FN} {exe} <scenario>, then "
              "callgrind_annotate callgrind.out.<pid> (compare with the same on the baseline's "
              "commit). If the growth is intended: make bench-guard-update, and say why in the "
              "commit message.", file=sys.stderr)
    log(f"bench-guard: {'FAILED' if failures else 'ok'} in {time.monotonic() - t0:.0f} s; "
        f"results in {out}/results.md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

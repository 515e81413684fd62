#!/usr/bin/env python3
"""Invoke benchmark for Stratus: warm latency, host overhead, throughput, cold start.

Starts `stratus serve` on a temporary project (trivial Python handler), drives the
Lambda Invoke API on 127.0.0.1 with http.client keep-alive connections, prints a
table (or JSON with --json) and stops the host with SIGTERM, even on error.
Standard library only; bounded to well under 2 minutes.

    python bench/invoke_bench.py --stratus .build/release/stratus [--json]
"""

import functools
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

from benchlib import BenchError, Client, arg_parser, cpu_per_item, parse_args, pct, run_bench, run_callers, verdict
from benchlib import summary as _summary

TARGET_OVERHEAD_P50_MS = 0.3  # host overhead of a warm call, p50
TARGET_COLD_OVER_FLOOR = 0.3  # cold start / the interpreter floor, medians (issue 11)

HANDLER = 'def handler(event, context):\n    return {"ok": True}\n'
FUNCTION_YAML = "runtime: python\nhandler: app.handler\nscaling: {min: 0, max: 16}\n"
DURATION_RE = re.compile(r"REPORT RequestId: \S+\tDuration: ([0-9.]+) ms")
INIT_RE = re.compile(r"\tInit Duration: ([0-9.]+) ms")
# What the python bootstrap imports before the handler (for the "floor + bootstrap imports" row).
BOOTSTRAP_IMPORTS = "import _socket, json, os, sys, time; import app"


# This bench's summaries and CPU figures keep their own (shorter) shape.
summary = functools.partial(_summary, percentiles=(50, 99), with_max=False)
# CPU microseconds per call: host process, its workers, this bench client; and wall.
cpu_per_call = functools.partial(cpu_per_item, suffix="_per_call", cores=False)


def report_field(log, regex, what):
    m = regex.search(log or "")
    if not m:
        raise BenchError("no %s in log:\n%s" % (what, log))
    return float(m.group(1))


# ---------------------------------------------------------------------------
# phases


NODE = shutil.which("node")
NODE_HANDLER = "exports.handler = async (event) => ({ok: true});\n"


def make_project(root, cold_count):
    for name in ["bench"] + ["cold%d" % i for i in range(cold_count)]:
        d = os.path.join(root, "functions", name)
        os.makedirs(d)
        with open(os.path.join(d, "function.yaml"), "w") as f:
            f.write(FUNCTION_YAML)
        with open(os.path.join(d, "app.py"), "w") as f:
            f.write(HANDLER)
    for i in range(cold_count if NODE else 0):
        d = os.path.join(root, "functions", "nodecold%d" % i)
        os.makedirs(d)
        with open(os.path.join(d, "function.yaml"), "w") as f:
            f.write("runtime: node\nhandler: index.handler\n")
        with open(os.path.join(d, "index.js"), "w") as f:
            f.write(NODE_HANDLER)


def resolve_python():
    """The interpreter the host runs, resolved as WorkerLauncher does."""
    if os.environ.get("STRATUS_PYTHON"):
        return os.environ["STRATUS_PYTHON"]
    out = subprocess.run(
        ["/usr/bin/env", "python3", "-c", "import sys;print(sys.executable)"],
        capture_output=True, text=True, timeout=30,
    )
    path = out.stdout.strip()
    return path if out.returncode == 0 and path else "python3"


def floor_once(python, directory, code):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # as the host sets for python workers
    # No timeout here: Popen.wait(timeout) polls in steps of up to 50 ms, which would quantise the
    # figure; a blocking waitpid does not (the --budget watchdog still bounds the run).
    t0 = time.perf_counter()
    status = subprocess.run([python, "-c", code], cwd=directory, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    ms = (time.perf_counter() - t0) * 1000.0
    if status != 0:
        raise BenchError("%s -c %r in %s exited with %d" % (python, code, directory, status))
    return ms


def phase_cold(port, count, python, directory, floor_runs):
    """Cold starts of cold0..N-1, interleaved with floor runs so load changes hit both alike."""
    client = Client(port)
    latency, init, floor, floor_boot = [], [], [], []
    try:
        client.health()  # the connection is warm; only the invoke is timed
        # The host's first python start also resolves the interpreter (once per host); keep that
        # out of cold0 by starting `bench` first, and report it on its own.
        first_ms, first_log = client.invoke("bench", tail=True)
        first = {"first_call_ms": first_ms, "init_ms": report_field(first_log, INIT_RE, "Init Duration")}
        for i in range(max(count, floor_runs)):
            if i < count:
                ms, log = client.invoke("cold%d" % i, tail=True)
                if "Init Duration" not in (log or ""):
                    raise BenchError("cold%d: first call has no Init Duration (not a cold start?)" % i)
                latency.append(ms)
                init.append(report_field(log, INIT_RE, "Init Duration"))
            if i < floor_runs:
                floor.append(floor_once(python, directory, "import app"))
                floor_boot.append(floor_once(python, directory, BOOTSTRAP_IMPORTS))
            time.sleep(0.02)
        return latency, init, floor, floor_boot, first
    finally:
        client.close()


def phase_node_cold(port, count, directory):
    """Cold starts of nodecold0..N-1 next to `node -e 'require("./index.js")'` in the same directory."""
    client = Client(port)
    latency, floor = [], []
    try:
        for i in range(count):
            ms, log = client.invoke("nodecold%d" % i, tail=True)
            if "Init Duration" not in (log or ""):
                raise BenchError("nodecold%d: first call has no Init Duration (not a cold start?)" % i)
            latency.append(ms)
            t0 = time.perf_counter()
            status = subprocess.run([NODE, "-e", 'require("./index.js")'], cwd=directory,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            if status != 0:
                raise BenchError("node -e require('./index.js') exited with %d" % status)
            floor.append((time.perf_counter() - t0) * 1000.0)
            time.sleep(0.02)
        return {"first_call_ms": latency, "floor_ms": floor,
                "ratio": statistics.median(latency) / statistics.median(floor)}
    finally:
        client.close()


def phase_warm(host, port, calls, warmup):
    client = Client(port)
    try:
        for i in range(warmup):
            client.invoke("bench", tail=bool(i % 2))
            client.health()
        health = [client.health() for _ in range(min(500, calls))]
        plain, tailed, durations, overhead = [], [], [], []
        cpu0, me0 = host.cpu_seconds(), time.process_time()
        t0 = time.perf_counter()
        for i in range(2 * calls):  # alternate, so drift hits both passes alike
            if i % 2:
                ms, log = client.invoke("bench", tail=True)
                d = report_field(log, DURATION_RE, "REPORT Duration")
                tailed.append(ms)
                durations.append(d)
                overhead.append(ms - d)
            else:
                ms, _ = client.invoke("bench")
                plain.append(ms)
        wall = time.perf_counter() - t0
        cpu = cpu_per_call(cpu0, me0, host.cpu_seconds(), time.process_time(), 2 * calls, wall)
        return {
            "calls_per_pass": calls,
            "latency_plain": summary(plain),
            "latency_tail": summary(tailed),
            "report_duration": summary(durations),
            "host_overhead": summary(overhead),
            "tail_cost_p50": pct(tailed, 50) - pct(plain, 50),
            "tail_cost_mean": statistics.fmean(tailed) - statistics.fmean(plain),
            # No-Tail calls carry no REPORT; estimate their overhead from the medians.
            "host_overhead_plain_p50_est": pct(plain, 50) - pct(durations, 50),
            "health_rtt": summary(health),
            "overhead_minus_health_p50": pct(overhead, 50) - pct(health, 50),
            "cpu": cpu,
        }
    finally:
        client.close()


def phase_throughput(host, port, concurrency, seconds, deadline):
    """`concurrency` threads, each on its own keep-alive connection, for `seconds`."""

    def warm(client, _idx):
        client.invoke("bench")  # make sure each caller has a worker started before measuring

    def step(client, _idx, _i, _start):
        return client.invoke("bench")[0]

    return run_callers(host, port, concurrency, seconds, deadline, warm, step, "throughput caller",
                       lambda n: {"requests": n, "rps": n / seconds}, summary, cpu_per_call)


# ---------------------------------------------------------------------------
# output


def cpu_line(add, cpu):
    if cpu:
        add("   CPU per call: host %.0f us, workers %.0f us, bench client %.0f us  (wall time / calls: %.0f us)"
            % (cpu["host_us_per_call"], cpu["worker_us_per_call"], cpu["client_us_per_call"], cpu["wall_us_per_call"]))


def print_table(r):
    w, t, c = r["warm"], r["throughput"], r["cold"]
    out = []
    add = out.append
    add("Stratus invoke bench  (%s; python %s; %d CPUs)" % (r["stratus"], r["python"], r["cpus"]))
    add("")
    add("1. warm invoke, concurrency 1, keep-alive, %d calls per pass (interleaved)" % w["calls_per_pass"])
    add("   %-44s %8s %8s %8s   %s" % ("ms", "p50", "p99", "mean", "target (issue)"))

    def row(label, s, target=""):
        add("   %-44s %8.3f %8.3f %8.3f   %s" % (label, s["p50"], s["p99"], s["mean"], target))

    row("client latency, no Tail", w["latency_plain"])
    row("client latency, X-Amz-Log-Type: Tail", w["latency_tail"])
    row("REPORT Duration (in the runtime)", w["report_duration"])
    ho = w["host_overhead"]
    row("host overhead = latency(Tail) - Duration", ho,
        "< %.1f p50  %s" % (TARGET_OVERHEAD_P50_MS, verdict(ho["p50"] < TARGET_OVERHEAD_P50_MS)))
    row("control-plane floor: GET /v1/health RTT", w["health_rtt"])
    add("   invoke path beyond a trivial route: overhead p50 - /v1/health p50 = %.3f ms"
        % (ho["p50"] - w["health_rtt"]["p50"]))
    tail = w["tail_cost_p50"]
    small = abs(tail) < max(0.05, 0.05 * w["latency_plain"]["p50"])
    add("   Tail itself costs %+.3f ms p50 (%+.3f mean): %s; overhead without Tail (p50 est.) %.3f ms"
        % (tail, w["tail_cost_mean"], "negligible, within noise" if small else "measurable",
           w["host_overhead_plain_p50_est"]))
    cpu_line(add, w["cpu"])
    add("")
    add("2. throughput, %d concurrent callers (threads, own keep-alive connection each), %.1f s"
        % (t["concurrency"], t["seconds"]))
    add("   %.0f requests/s  (%d requests)   latency p50 %.3f ms   p99 %.3f ms"
        % (t["rps"], t["requests"], t["latency"]["p50"], t["latency"]["p99"]))
    cpu_line(add, t["cpu"])
    add("")
    add("3. cold start, %d never-started functions (median of %d; floor median of %d runs)"
        % (len(c["first_call_ms"]), len(c["first_call_ms"]), len(c["floor_ms"])))
    add("   %-44s %8s %8s %8s" % ("ms", "median", "min", "max"))

    def crow(label, v):
        add("   %-44s %8.1f %8.1f %8.1f" % (label, statistics.median(v), min(v), max(v)))

    crow("first call, request -> response", c["first_call_ms"])
    crow("Init Duration (REPORT)", c["init_ms"])
    crow("interpreter floor: python3 -c 'import app'", c["floor_ms"])
    crow("floor + bootstrap's imports", c["floor_bootstrap_imports_ms"])
    add("   (host's very first start, not counted: %.1f ms request -> response, Init Duration %.1f ms)"
        % (c["host_first_start"]["first_call_ms"], c["host_first_start"]["init_ms"]))
    ratio = c["cold_over_floor"]
    add("   cold start / floor: %.2fx (%.1f ms below it)   target <= %.1fx  %s"
        % (ratio, -c["cold_minus_floor_ms"], TARGET_COLD_OVER_FLOOR, verdict(ratio <= TARGET_COLD_OVER_FLOOR)))
    add("   (Python workers are forked from a pre-started interpreter; the floor includes interpreter exit)")
    n = r.get("node_cold")
    if n:
        add("")
        add("4. node cold start, %d never-started functions" % len(n["first_call_ms"]))
        crow("first call, request -> response", n["first_call_ms"])
        crow("floor: node -e 'require(\"./index.js\")'", n["floor_ms"])
        add("   cold start / floor: %.2fx   target <= 1.0x  %s" % (n["ratio"], verdict(n["ratio"] <= 1.0)))
    else:
        add("4. node cold start: skipped (no node on PATH)")
    print("\n".join(out))  # run_bench adds the line on the host's exit


# ---------------------------------------------------------------------------


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--calls", type=int, default=2000, help="warm calls per pass (default 2000)")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=5.0, help="throughput window")
    ap.add_argument("--cold", type=int, default=10, help="never-started functions to cold-start")
    ap.add_argument("--floor-runs", type=int, default=10)
    args = parse_args(ap, budget=110.0)

    def measure(root, deadline, start_host):
        project = os.path.join(root, "project")
        make_project(project, args.cold)
        python = resolve_python()
        host = start_host(project)
        port = host.control_port

        # Cold starts first, on a quiet host, interleaved with the interpreter-floor runs.
        fdir = os.path.join(project, "functions", "cold0")
        cold_ms, init_ms, floor, floor_boot, first = phase_cold(port, args.cold, python, fdir, args.floor_runs)
        node_cold = phase_node_cold(port, args.cold, os.path.join(project, "functions", "nodecold0")) if NODE else None
        warm = phase_warm(host, port, args.calls, args.warmup)
        if time.perf_counter() + args.seconds + 10 > deadline:
            raise BenchError("out of time before the throughput phase")
        throughput = phase_throughput(host, port, args.concurrency, args.seconds, deadline)

        results = {
            "stratus": args.stratus,
            "python": python,
            "cpus": os.cpu_count() or 0,
            "targets": {
                "host_overhead_p50_ms": TARGET_OVERHEAD_P50_MS,
                "cold_over_floor": TARGET_COLD_OVER_FLOOR,
            },
            "warm": warm,
            "throughput": throughput,
            "node_cold": node_cold,
            "cold": {
                "host_first_start": first,
                "first_call_ms": cold_ms,
                "init_ms": init_ms,
                "floor_ms": floor,
                "floor_bootstrap_imports_ms": floor_boot,
                "first_call_median_ms": statistics.median(cold_ms),
                "init_median_ms": statistics.median(init_ms),
                "floor_median_ms": statistics.median(floor),
                "cold_minus_floor_ms": statistics.median(cold_ms) - statistics.median(floor),
                "cold_over_floor": statistics.median(cold_ms) / statistics.median(floor),
            },
        }
        results["pass"] = {
            "host_overhead": warm["host_overhead"]["p50"] < TARGET_OVERHEAD_P50_MS,
            "cold_start": results["cold"]["cold_over_floor"] <= TARGET_COLD_OVER_FLOOR,
        }
        return results

    # The deadline leaves 15 s of the budget to stop the host.
    return run_bench("invoke_bench", args, "stratus-bench-", 15, measure, print_table)


if __name__ == "__main__":
    sys.exit(main())

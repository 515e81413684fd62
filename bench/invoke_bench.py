#!/usr/bin/env python3
"""Invoke benchmark for Stratus: warm latency, host overhead, throughput, cold start.

Starts `stratus serve` on a temporary project (trivial Python handler), drives the
Lambda Invoke API on 127.0.0.1 with http.client keep-alive connections, prints a
table (or JSON with --json) and stops the host with SIGTERM, even on error.
Standard library only; bounded to well under 2 minutes.

    python bench/invoke_bench.py --stratus .build/release/stratus [--json]
"""

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TARGET_OVERHEAD_P50_MS = 0.3  # host overhead of a warm call, p50
TARGET_COLD_OVER_FLOOR_MS = 10.0  # cold start minus the interpreter floor, medians

HANDLER = 'def handler(event, context):\n    return {"ok": True}\n'
FUNCTION_YAML = "runtime: python\nhandler: app.handler\nscaling: {min: 0, max: 16}\n"
PAYLOAD = b'{"bench": 1}'
DURATION_RE = re.compile(r"REPORT RequestId: \S+\tDuration: ([0-9.]+) ms")
INIT_RE = re.compile(r"\tInit Duration: ([0-9.]+) ms")
# What the python bootstrap imports before the handler (for the "floor + bootstrap imports" row).
BOOTSTRAP_IMPORTS = "import _socket, json, os, sys, time; import app"


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------
# statistics


def pct(values, p):
    """Percentile with linear interpolation (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(values):
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p99": pct(values, 99),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


# ---------------------------------------------------------------------------
# the host


class Host:
    def __init__(self, binary, project, state):
        self.lines = []
        self.control_port = None
        self.exit_code = None
        self.proc = subprocess.Popen(
            [binary, "serve", project, "--http", "127.0.0.1:0", "--control", "127.0.0.1:0", "--state", state],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        # Keep draining the host's output so it never blocks on a full pipe.
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if len(self.lines) < 2000:
                self.lines.append(line)
            m = re.match(r"\s*control\s+http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.control_port = int(m.group(1))
            if line.strip() == "Ready.":
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout):
        self._ready.wait(timeout)
        if self.proc.poll() is not None or self.control_port is None or not self._ready.is_set():
            raise BenchError("stratus serve did not become ready:\n" + "\n".join(self.lines[-40:]))

    def stop(self):
        if self.exit_code is not None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.exit_code = self.proc.returncode
        return self.exit_code

    def cpu_seconds(self):
        """(host CPU s, workers CPU s) from /proc; None where unavailable (non-Linux)."""
        tick = os.sysconf("SC_CLK_TCK")

        def stat(pid):
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

        try:
            host = stat(self.proc.pid)
            workers = 0.0
            for task in os.listdir("/proc/%d/task" % self.proc.pid):
                try:
                    with open("/proc/%d/task/%s/children" % (self.proc.pid, task)) as f:
                        for child in f.read().split():
                            try:
                                workers += stat(int(child))
                            except OSError:
                                pass
                except OSError:
                    pass
            return host, workers
        except (OSError, ValueError):
            return None, None


# ---------------------------------------------------------------------------
# client


class Client:
    """One keep-alive connection to the control plane."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        self.conn.connect()

    def invoke(self, name, tail=False):
        """Returns (latency ms, X-Amz-Log-Result decoded or None)."""
        headers = {"Content-Type": "application/json"}
        if tail:
            headers["X-Amz-Log-Type"] = "Tail"
        t0 = time.perf_counter()
        self.conn.request("POST", "/2015-03-31/functions/%s/invocations" % name, PAYLOAD, headers)
        resp = self.conn.getresponse()
        body = resp.read()
        t1 = time.perf_counter()
        if resp.status != 200 or resp.getheader("X-Amz-Function-Error"):
            raise BenchError("invoke %s: HTTP %d %s" % (name, resp.status, body[:300]))
        log = resp.getheader("X-Amz-Log-Result")
        return (t1 - t0) * 1000.0, (base64.b64decode(log).decode("utf-8", "replace") if log else None)

    def health(self):
        t0 = time.perf_counter()
        self.conn.request("GET", "/v1/health")
        resp = self.conn.getresponse()
        resp.read()
        t1 = time.perf_counter()
        if resp.status != 200:
            raise BenchError("GET /v1/health: HTTP %d" % resp.status)
        return (t1 - t0) * 1000.0

    def close(self):
        self.conn.close()


def report_field(log, regex, what):
    m = regex.search(log or "")
    if not m:
        raise BenchError("no %s in log:\n%s" % (what, log))
    return float(m.group(1))


# ---------------------------------------------------------------------------
# phases


def make_project(root, cold_count):
    for name in ["bench"] + ["cold%d" % i for i in range(cold_count)]:
        d = os.path.join(root, "functions", name)
        os.makedirs(d)
        with open(os.path.join(d, "function.yaml"), "w") as f:
            f.write(FUNCTION_YAML)
        with open(os.path.join(d, "app.py"), "w") as f:
            f.write(HANDLER)


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


def cpu_per_call(cpu0, me0, cpu1, me1, n, wall):
    """CPU microseconds per call: host process, its workers, this bench client; and wall."""
    if not n or cpu0[0] is None or cpu1[0] is None:
        return {}
    return {
        "host_us_per_call": (cpu1[0] - cpu0[0]) / n * 1e6,
        "worker_us_per_call": (cpu1[1] - cpu0[1]) / n * 1e6,
        "client_us_per_call": (me1 - me0) / n * 1e6,
        "wall_us_per_call": wall / n * 1e6,
    }


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
    results = [[] for _ in range(concurrency)]
    errors = []
    barrier = threading.Barrier(concurrency + 1)
    state = {"measure_from": None, "stop_at": None}

    def caller(idx):
        try:
            client = Client(port)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
            barrier.abort()
            return
        try:
            client.invoke("bench")  # make sure each caller has a worker started before measuring
            barrier.wait(timeout=30)
            out = results[idx]
            while True:
                start = time.perf_counter()
                if start >= state["stop_at"] or start >= deadline:
                    break
                ms, _ = client.invoke("bench")
                if start >= state["measure_from"]:
                    out.append((start, ms))
        except threading.BrokenBarrierError:
            pass
        except Exception as e:  # noqa: BLE001
            errors.append(e)
            barrier.abort()
        finally:
            client.close()

    threads = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    try:
        now = time.perf_counter()
        state["measure_from"] = now + 2 * 3600  # set for real once everyone is ready
        state["stop_at"] = now + 2 * 3600
        barrier.wait(timeout=60)
    except threading.BrokenBarrierError:
        raise BenchError("throughput callers failed to start: %r" % errors[:3])
    begin = time.perf_counter()
    state["measure_from"] = begin + 0.5  # half a second of ramp, not counted
    state["stop_at"] = begin + 0.5 + seconds
    time.sleep(0.5)
    cpu0, me0 = host.cpu_seconds(), time.process_time()
    time.sleep(max(0.0, state["stop_at"] - time.perf_counter()))
    cpu1, me1 = host.cpu_seconds(), time.process_time()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.perf_counter() + 5))
    if errors:
        raise BenchError("throughput caller failed: %r" % errors[0])
    lat = [ms for r in results for (start, ms) in r if start < state["stop_at"]]
    return {
        "concurrency": concurrency,
        "seconds": seconds,
        "requests": len(lat),
        "rps": len(lat) / seconds,
        "latency": summary(lat),
        "cpu": cpu_per_call(cpu0, me0, cpu1, me1, len(lat), seconds),
    }


# ---------------------------------------------------------------------------
# output


def verdict(ok):
    return "PASS" if ok else "MISS"


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
    diff = c["cold_minus_floor_ms"]
    add("   cold start - floor: %.1f ms   target <= %.0f ms  %s"
        % (diff, TARGET_COLD_OVER_FLOOR_MS, verdict(diff <= TARGET_COLD_OVER_FLOOR_MS)))
    add("   (the floor includes interpreter exit, which a cold start does not pay)")
    add("")
    add("host stopped with SIGTERM: exit %s; bench took %.1f s" % (r["host_exit"], r["elapsed_s"]))
    print("\n".join(out))


# ---------------------------------------------------------------------------


def main():
    default_bin = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "stratus")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stratus", default=os.path.normpath(default_bin), help="stratus binary (release build)")
    ap.add_argument("--json", action="store_true", help="print results as JSON")
    ap.add_argument("--calls", type=int, default=2000, help="warm calls per pass (default 2000)")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=5.0, help="throughput window")
    ap.add_argument("--cold", type=int, default=10, help="never-started functions to cold-start")
    ap.add_argument("--floor-runs", type=int, default=10)
    ap.add_argument("--budget", type=float, default=110.0, help="hard limit for the whole run, seconds")
    args = ap.parse_args()
    if not os.access(args.stratus, os.X_OK):
        ap.error("not an executable: %s (build with `swift build -c release --product stratus`)" % args.stratus)

    started = time.perf_counter()
    deadline = started + args.budget - 15  # leave room to stop the host
    host = None
    root = tempfile.mkdtemp(prefix="stratus-bench-")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)

    def watchdog():
        sys.stderr.write("invoke_bench: over the %.0f s budget, stopping\n" % args.budget)
        try:
            if host is not None:
                host.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
            os._exit(3)

    timer = threading.Timer(args.budget, watchdog)
    timer.daemon = True
    timer.start()
    results = {}
    try:
        project = os.path.join(root, "project")
        make_project(project, args.cold)
        python = resolve_python()
        host = Host(args.stratus, project, os.path.join(root, "state"))
        host.wait_ready(30)
        port = host.control_port

        # Cold starts first, on a quiet host, interleaved with the interpreter-floor runs.
        fdir = os.path.join(project, "functions", "cold0")
        cold_ms, init_ms, floor, floor_boot, first = phase_cold(port, args.cold, python, fdir, args.floor_runs)
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
                "cold_minus_floor_ms": TARGET_COLD_OVER_FLOOR_MS,
            },
            "warm": warm,
            "throughput": throughput,
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
            },
        }
        results["pass"] = {
            "host_overhead": warm["host_overhead"]["p50"] < TARGET_OVERHEAD_P50_MS,
            "cold_start": results["cold"]["cold_minus_floor_ms"] <= TARGET_COLD_OVER_FLOOR_MS,
        }
    except BenchError as e:
        sys.stderr.write("invoke_bench: %s\n" % e)
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("invoke_bench: interrupted\n")
        return 130
    finally:
        if host is not None:
            code = host.stop()
            results["host_exit"] = code
            if code != 0:
                sys.stderr.write("invoke_bench: host exited with %s; last output:\n%s\n"
                                 % (code, "\n".join(host.lines[-20:])))
        timer.cancel()
        shutil.rmtree(root, ignore_errors=True)
    results["elapsed_s"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0 if results.get("host_exit") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

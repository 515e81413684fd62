#!/usr/bin/env python3
"""Hot reload under load: `stratus serve --watch` while 32 connections call a route and its handler is edited 20 times.

Prints, from one run of a release `stratus serve --watch`:
  - steady state: requests/s and p50/p99 latency at 32 connections, no edits;
  - during 20 consecutive edits of the handler (one every --interval seconds) at the same load: requests,
    how many failed (any status but 200, or a connection error; target 0), p50/p99 latency (ratio to steady),
    and the time from each save to the first response of the new code under that load;
  - quiet (one client polling every 5 ms, warm floor 1): the time from save to the first response of the new
    code (target <= 300 ms).
Every response must come from a revision that was saved: a body from no saved edit is counted as failed.

    python3 bench/reload_bench.py [--stratus .build/release/stratus] [--edits 20] [--interval 0.5] [--json]
"""

import http.client
import os
import sys
import threading
import time

import benchlib

HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "rev %d"}\n'


def write_handler(project, revision):
    """Saves the handler as an editor does: a new file renamed over the old one."""
    path = os.path.join(project, "functions", "hello", "app.py")
    with open(path + ".tmp", "w") as f:
        f.write(HANDLER % revision)
    os.replace(path + ".tmp", path)


def make_project(root):
    project = os.path.join(root, "project")
    os.makedirs(os.path.join(project, "functions", "hello"))
    os.makedirs(os.path.join(project, "triggers"))
    with open(os.path.join(project, "functions", "hello", "function.yaml"), "w") as f:
        f.write("runtime: python\nhandler: app.handler\nscaling: {min: 1, max: 8}\n")
    with open(os.path.join(project, "triggers", "http.yaml"), "w") as f:
        f.write("http:\n  - route: GET /hello\n    function: hello\n")
    write_handler(project, 0)
    return project


class Load:
    """`connections` threads calling GET /hello on keep-alive connections; every answer is kept."""

    def __init__(self, port, connections):
        self.port = port
        self.answers = []  # (sent at, latency ms, status or None, body)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(connections)]
        for t in self.threads:
            t.start()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                conn.request("GET", "/hello")
                resp = conn.getresponse()
                body = resp.read().decode("utf-8", "replace")
                status = resp.status
            except (OSError, http.client.HTTPException) as e:
                status, body = None, str(e)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            t1 = time.perf_counter()
            with self.lock:
                self.answers.append((t0, (t1 - t0) * 1000.0, status, body))

    def since(self, t):
        with self.lock:
            return [a for a in self.answers if a[0] >= t]

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=35)


def first_response_of(answers, revision, saved_at):
    """Seconds from `saved_at` to the end of the first answer carrying `revision`, or None."""
    want = "rev %d" % revision
    ends = [a[0] + a[1] / 1000.0 for a in answers if a[0] >= saved_at - 1 and a[3] == want]
    return (min(ends) - saved_at) if ends else None


def measure(root, deadline, start_host, edits, interval, connections):
    project = make_project(root)
    host = start_host(project, ("--watch",))
    port = benchlib.gateway_port(host)
    results = {"edits": edits, "interval_s": interval, "connections": connections}

    # Quiet: one client polling, warm floor 1.
    quiet = []
    for revision in range(1, 6):
        time.sleep(0.5)
        write_handler(project, revision)
        saved = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() - saved < 10:
            conn.request("GET", "/hello")
            resp = conn.getresponse()
            if resp.read().decode() == "rev %d" % revision:
                quiet.append((time.perf_counter() - saved) * 1000.0)
                break
            time.sleep(0.005)
        conn.close()
    results["quiet_save_to_new_ms"] = benchlib.summary(quiet)
    base = 5

    load = Load(port, connections)
    time.sleep(2)  # warm up the pool at this load
    steady_start = time.perf_counter()
    time.sleep(3)
    steady = load.since(steady_start)
    steady_end = time.perf_counter()
    saved_at = {}
    for i in range(1, edits + 1):
        if time.perf_counter() > deadline - 10:
            raise benchlib.BenchError("out of time after %d edits" % (i - 1))
        write_handler(project, base + i)
        saved_at[base + i] = time.perf_counter()
        time.sleep(interval)
    time.sleep(1)  # the last edit's swap
    during = load.since(steady_end)
    load.finish()

    def latencies(answers):
        return [a[1] for a in answers if a[2] == 200]

    saved_bodies = {"rev %d" % r for r in range(0, base + edits + 1)}
    failed = [a for a in during if a[2] != 200 or a[3] not in saved_bodies]
    results["steady"] = dict(benchlib.summary(latencies(steady)), rps=len(steady) / 3.0,
                             failed=sum(1 for a in steady if a[2] != 200))
    results["reload"] = dict(benchlib.summary(latencies(during)), requests=len(during), failed=len(failed),
                             failures=sorted({"%s %s" % (a[2], a[3][:80]) for a in failed})[:5])
    to_new = [first_response_of(during, r, t) for r, t in saved_at.items()]
    results["loaded_save_to_new_ms"] = benchlib.summary([x * 1000.0 for x in to_new if x is not None])
    results["edits_never_seen"] = sum(1 for x in to_new if x is None)
    return results


def print_table(r):
    s, d, q, l = r["steady"], r["reload"], r["quiet_save_to_new_ms"], r["loaded_save_to_new_ms"]
    print("Hot reload under load: %d edits of the handler, one every %.1f s, %d connections"
          % (r["edits"], r["interval_s"], r["connections"]))
    print("  %-34s %10s %10s %10s %10s" % ("", "requests", "failed", "p50 ms", "p99 ms"))
    print("  %-34s %10d %10d %10.1f %10.1f" % ("steady (3 s, no edits)", s["n"], s["failed"], s["p50"], s["p99"]))
    print("  %-34s %10d %10d %10.1f %10.1f" % ("during the edits", d["requests"], d["failed"], d["p50"], d["p99"]))
    print("  p99 during reloads / steady: %.2fx" % (d["p99"] / s["p99"] if s["p99"] else float("nan")))
    print("  save -> first response of the new code:")
    print("    quiet (1 client, warm floor 1): p50 %.0f ms, max %.0f ms over %d saves   target <= 300 ms: %s"
          % (q["p50"], q["max"], q["n"], benchlib.verdict(q["max"] <= 300)))
    print("    under load:                     p50 %.0f ms, max %.0f ms over %d saves (%d never seen)"
          % (l["p50"], l["max"], l["n"], r["edits_never_seen"]))
    print("  failed requests: %d   target 0: %s" % (d["failed"], benchlib.verdict(d["failed"] == 0)))
    for f in d["failures"]:
        print("    e.g. %s" % f)


def main():
    ap = benchlib.arg_parser(__doc__)
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between edits")
    ap.add_argument("--connections", type=int, default=32)
    args = benchlib.parse_args(ap, budget=180)
    return benchlib.run_bench(
        "reload_bench", args, "stratus-reload-", 15,
        lambda root, deadline, start: measure(root, deadline, start, args.edits, args.interval, args.connections),
        print_table)


if __name__ == "__main__":
    sys.exit(main())

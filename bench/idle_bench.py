#!/usr/bin/env python3
"""Idle benchmark for Stratus: what a host and its warm workers cost while nothing happens.

Starts `stratus serve` on a temporary project (state in the same temp dir): Python `web` behind `GET /hello/{name}`
with two warm workers (`scaling: {min: 2}`), queue `jobs` consumed by `consumer` (its poller waits for messages),
topic `events` fanning out to `jobs` and to function `notify`, and a Node function if `node` is installed.

1. **Just started**: idle for --seconds (default 20) after the host says Ready.
2. **After work**: 200 route calls, 100 Invoke API calls, 50 publishes and 50 queue sends, then 3 s for the
   consumers to drain and the pools to settle, then idle again for --seconds.

For each phase, from /proc: the host's CPU (ms per second of wall time, i.e. tenths of a percent of a core), its
wake-ups per second (context switches summed over its threads: a polling loop shows here long before it shows as
CPU), its threads and RSS; the same CPU and wake-ups for its worker processes together. The *peer* is an idle
`python3 -m http.server` measured in the same run (its `serve_forever` polls twice a second); the *floor* is
`sleep`, which never wakes. Prints figures and never asserts on timing; exits 1 only if the host died or did not
stop cleanly on SIGTERM. Standard library only; Linux (/proc); 127.0.0.1 only.

    python bench/idle_bench.py --stratus .build/release/stratus [--seconds 20] [--json]
"""

import os
import shutil
import socket
import subprocess
import sys
import time

from benchlib import (Client, arg_parser, call, descendant_pids, gateway_port, parse_args, process_sample,
                      run_bench, task_files)

PYTHON = "runtime: python\nhandler: app.handler\n"
PROJECT = {
    "functions/web/function.yaml": PYTHON + "scaling: {min: 2}\n",
    "functions/web/app.py": "def handler(event, context):\n    return {'hello': event['pathParameters']['name']}\n",
    "functions/consumer/function.yaml": PYTHON,
    "functions/consumer/app.py": "def handler(event, context):\n    return {'batchItemFailures': []}\n",
    "functions/notify/function.yaml": PYTHON,
    "functions/notify/app.py": "def handler(event, context):\n    return None\n",
    "triggers/main.yaml": """http:
  - route: GET /hello/{name}
    function: web
topics:
  events:
    subscriptions:
      - queue: jobs
      - function: notify
queues:
  jobs:
    consumer: {function: consumer, batchSize: 10}
""",
}
NODE = {
    "functions/greet/function.yaml": "runtime: node\nhandler: index.handler\nscaling: {min: 1}\n",
    "functions/greet/index.js": "exports.handler = async (event) => ({ok: true});\n",
}


def thread_switches(pid):
    """{(pid, tid): context switches (voluntary + involuntary)} of the threads of `pid`; {} if it is gone."""
    keys = ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")
    return {(pid, task): sum(int(line.split()[1]) for line in text.splitlines() if line.startswith(keys))
            for task, text in task_files(pid, "status").items()}


def sample(pids):
    """(CPU seconds, {thread: context switches}) over `pids`, skipping any that are gone."""
    cpu, switches = 0.0, {}
    for pid in pids:
        proc = process_sample(pid)
        if proc is not None:
            cpu += proc["cpu_s"]
            switches.update(thread_switches(pid))
    return cpu, switches


def wakeups_between(before, after):
    """Context switches between two samples: per thread, so that threads that start or end meanwhile do not
    skew the sum (a thread that ended takes its last switches with it: a slight undercount)."""
    return sum(count - before.get(thread, 0) for thread, count in after.items())


def idle_phase(pid, seconds, with_children=True):
    """Measures `pid` (and its children) over `seconds` of doing nothing."""
    children = descendant_pids(pid) if with_children else []
    before = process_sample(pid)
    host0, children0 = sample([pid]), sample(children)
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    after = process_sample(pid)
    host1, children1 = sample([pid]), sample(children)
    if before is None or after is None:
        raise SystemExit("the measured process died")
    return {
        "seconds": round(wall, 1),
        "cpu_ms_per_s": round((host1[0] - host0[0]) * 1000 / wall, 2),
        "wakeups_per_s": round(wakeups_between(host0[1], host1[1]) / wall, 2),
        "threads": after["threads"],
        "rss_mb": round(after["rss_kb"] / 1024, 1),
        "workers": len(children),
        "workers_cpu_ms_per_s": round((children1[0] - children0[0]) * 1000 / wall, 2),
        "workers_wakeups_per_s": round(wakeups_between(children0[1], children1[1]) / wall, 2),
    }


def work(host):
    """Some of everything, so that every path (pools, log writer, pollers, deliveries) has run once."""
    port = gateway_port(host)
    for i in range(200):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET /hello/n%d HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % i)
            while s.recv(65536):
                pass
    client = Client(host.control_port)
    try:
        for _ in range(100):
            client.invoke("web", payload=b'{"pathParameters": {"name": "x"}}')
        for i in range(50):
            client.publish("events", "event %d" % i)
            client.send("jobs", "job %d" % i)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            counts = client.counts()["jobs"]
            if counts.get("visible", 0) == 0 and counts.get("inFlight", 0) == 0:
                break
            time.sleep(0.2)
    finally:
        client.close()


def peer(argv, seconds):
    """An idle process of another kind, measured like the host."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        return idle_phase(proc.pid, seconds, with_children=False)
    finally:
        proc.kill()
        proc.wait()


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--seconds", type=float, default=20, help="length of each idle phase")
    args = parse_args(ap, budget=240)
    has_node = shutil.which("node") is not None

    def measure(root, deadline, start_host):
        project = os.path.join(root, "project")
        for path, text in {**PROJECT, **(NODE if has_node else {})}.items():
            full = os.path.join(project, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        host = start_host(project)
        time.sleep(2)  # the warm floor starts
        results = {"node": has_node, "started": idle_phase(host.proc.pid, args.seconds)}
        work(host)
        time.sleep(3)
        results["after_work"] = idle_phase(host.proc.pid, args.seconds)
        results["queues"] = call(host.control_port, "GET", "/v1/queues")["queues"]
        results["peer_http_server"] = peer([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"], args.seconds)
        results["floor_sleep"] = peer(["sleep", "3600"], args.seconds)
        return results

    def table(r):
        print("Idle host (%s s per phase)%s" % (r["started"]["seconds"], "" if r["node"] else "; node not installed"))
        print("  %-24s %10s %10s %8s %8s %8s %12s %12s" % (
            "phase", "CPU ms/s", "wakeups/s", "threads", "RSS MB", "workers", "wrk CPU ms/s", "wrk wakeup/s"))
        for name, key in (("stratus, just started", "started"), ("stratus, after work", "after_work"),
                          ("peer: python http.server", "peer_http_server"), ("floor: sleep", "floor_sleep")):
            p = r[key]
            print("  %-24s %10.2f %10.2f %8d %8.1f %8d %12.2f %12.2f" % (
                name, p["cpu_ms_per_s"], p["wakeups_per_s"], p["threads"], p["rss_mb"], p["workers"],
                p["workers_cpu_ms_per_s"], p["workers_wakeups_per_s"]))
        peer_wakeups = r["peer_http_server"]["wakeups_per_s"]
        if peer_wakeups:
            print("\n  host wake-ups after work / idle python http.server: %.2f"
                  % (r["after_work"]["wakeups_per_s"] / peer_wakeups))
        print("  CPU ms/s: 10 ms/s is 1% of one core; /proc counts CPU in 10 ms ticks")
        left = [q["name"] for q in r["queues"] if q["counts"].get("visible") or q["counts"].get("inFlight")]
        if left:
            print("  (queues not drained before the idle phase: %s)" % ", ".join(left))

    return run_bench("idle_bench", args, "stratus-idle-", 20, measure, table)


if __name__ == "__main__":
    sys.exit(main())

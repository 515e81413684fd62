#!/usr/bin/env python3
"""Soak benchmark for Stratus: mixed load at half capacity for 2 minutes; memory, descriptors, latency drift, loss.

Starts `stratus serve` on a temporary project (state in the same temp dir): Python function `web` behind the
route `GET /hello/{name}`, `api` called through the Lambda Invoke API, queue `jobs` consumed by `consumer`
(batch 10), topic `events` fanning out to `jobs` and to function `notify`, and `worker` for async invokes.

1. Capacity: --concurrency closed-loop callers run the mix for --capacity-seconds; requests/s answered is
   the capacity. What it queued downstream is then left to drain.
2. Soak: the same mix open loop (requests sent on a fixed schedule, whatever the answers do) at --load
   (default 0.5) of that capacity for --duration seconds (default 120), while the host process is sampled
   every --sample-every seconds from /proc: RSS, open descriptors, threads, CPU time, worker processes.
3. Drain and count: the functions that receive messages append each message's marker to a file; after the
   load stops every acknowledged publish, send and async invoke must show up there ("lost: N").

Prints figures and never asserts on timing. Exits 1 only if the host died (or did not stop cleanly on
SIGTERM) or acknowledged messages were lost. Standard library only; Linux (/proc); 127.0.0.1 only.

    python bench/soak_bench.py --stratus .build/release/stratus [--duration 120] [--json]
"""

import collections
import http.client
import itertools
import json
import os
import queue
import sys
import threading
import time

from benchlib import (BenchError, Client, arg_parser, gateway_port, machine_cpu_seconds, parse_args, pct,
                      process_sample, run_bench,
                      run_callers, slope_per_minute, summary)

KINDS = ("http", "invoke", "publish", "send", "async")
# One cycle of the mix, interleaved: 30% HTTP route, 30% Invoke API, 10% publish, 20% send, 10% async invoke.
MIX = ("http", "invoke", "send", "http", "publish", "invoke", "async", "http", "send", "invoke")
OK_STATUS = {"http": 200, "invoke": 200, "publish": 201, "send": 201, "async": 202}
# Which sink (function that appends markers) must see the markers of which acknowledged kind.
SINKS = {"consumer": ("send", "publish"), "notify": ("publish",), "worker": ("async",)}
MARKER_PREFIX = {"publish": "p", "send": "s", "async": "a"}

PLAIN_YAML = "runtime: python\nhandler: app.handler\n"
WEB_HANDLER = '''def handler(event, context):
    return {"ok": True, "name": event["pathParameters"]["name"]}
'''
API_HANDLER = '''def handler(event, context):
    return {"ok": True}
'''
SINK_PRELUDE = '''import json, os
_fd = os.open(%r, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


def _mark(markers):
    # One write per invocation: O_APPEND writes of whole lines do not interleave between workers.
    if markers:
        os.write(_fd, ("\\n".join(markers) + "\\n").encode())

'''
CONSUMER_HANDLER = '''
def handler(event, context):
    out = []
    for record in event["Records"]:
        body = record["body"]
        if body.startswith("{"):  # a topic's SNS envelope
            try:
                body = json.loads(body)["Message"]
            except (ValueError, KeyError, TypeError):
                pass
        out.append(body)
    _mark(out)
'''
NOTIFY_HANDLER = '''
def handler(event, context):
    _mark([record["Sns"]["Message"] for record in event["Records"]])
'''
WORKER_HANDLER = '''
def handler(event, context):
    _mark([event["id"]])
'''
TRIGGERS = """http:
  - route: GET /hello/{name}
    function: web
topics:
  events:
    subscriptions:
      - queue: jobs
      - function: notify
queues:
  jobs:
    visibilityTimeout: 30s
    consumer: {function: consumer, batchSize: 10, maxConcurrency: 4}
"""


def make_project(root, sinks_dir):
    handlers = {
        "web": WEB_HANDLER,
        "api": API_HANDLER,
        "consumer": SINK_PRELUDE % os.path.join(sinks_dir, "consumer.log") + CONSUMER_HANDLER,
        "notify": SINK_PRELUDE % os.path.join(sinks_dir, "notify.log") + NOTIFY_HANDLER,
        "worker": SINK_PRELUDE % os.path.join(sinks_dir, "worker.log") + WORKER_HANDLER,
    }
    for name, code in handlers.items():
        d = os.path.join(root, "functions", name)
        os.makedirs(d)
        with open(os.path.join(d, "function.yaml"), "w") as f:
            f.write(PLAIN_YAML)
        with open(os.path.join(d, "app.py"), "w") as f:
            f.write(code)
    os.makedirs(os.path.join(root, "triggers"))
    with open(os.path.join(root, "triggers", "soak.yaml"), "w") as f:
        f.write(TRIGGERS)
    os.makedirs(sinks_dir, exist_ok=True)


# ---------------------------------------------------------------------------
# load


class Caller:
    """Keep-alive connections to the gateway and the control plane; one request of a kind at a time.
    Never raises: an answer is "ok" or an error label ("HTTP 429", "200 FunctionError", "conn TimeoutError")."""

    JSON = {"Content-Type": "application/json"}

    def __init__(self, gw_port, ctl_port, timeout):
        self.gw_port, self.ctl_port, self.timeout = gw_port, ctl_port, timeout
        self.conns = {}

    def _request(self, port, method, path, body=None):
        conn = self.conns.get(port)
        if conn is None:
            conn = self.conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout)
        try:
            conn.request(method, path, body, self.JSON if body is not None else {})
            resp = conn.getresponse()
            resp.read()
            if resp.will_close:
                conn.close()
                del self.conns[port]
            return resp, None
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            self.conns.pop(port, None)
            return None, "conn " + type(e).__name__

    def do(self, kind, seq):
        """-> (label, marker): label "ok" or an error; marker for kinds a sink must see, else None."""
        marker = MARKER_PREFIX[kind] + str(seq) if kind in MARKER_PREFIX else None
        if kind == "http":
            resp, err = self._request(self.gw_port, "GET", "/hello/n%d" % seq)
        elif kind == "invoke":
            resp, err = self._request(self.ctl_port, "POST", "/2015-03-31/functions/api/invocations",
                                      b'{"soak": %d}' % seq)
        elif kind == "publish":
            resp, err = self._request(self.ctl_port, "POST", "/v1/topics/events/publish",
                                      json.dumps({"message": marker}).encode())
        elif kind == "send":
            resp, err = self._request(self.ctl_port, "POST", "/v1/queues/jobs/messages",
                                      json.dumps({"body": marker}).encode())
        else:
            resp, err = self._request(self.ctl_port, "POST", "/v1/functions/worker/invoke?async=true",
                                      json.dumps({"id": marker}).encode())
        if err:
            return err, marker
        if resp.status != OK_STATUS[kind]:
            return "HTTP %d" % resp.status, marker
        if kind == "invoke" and resp.getheader("X-Amz-Function-Error"):
            return "200 FunctionError", marker
        return "ok", marker

    def close(self):
        for conn in self.conns.values():
            conn.close()
        self.conns = {}


class Tally:
    """What was acknowledged (markers by kind) and every error label by (phase, kind), shared by all threads."""

    def __init__(self):
        self.acked = {k: [] for k in MARKER_PREFIX}
        self.errors = collections.Counter()
        self.seq = itertools.count()

    def note(self, phase, kind, label, marker):
        if label == "ok":
            if marker is not None:
                self.acked[kind].append(marker)
        else:
            self.errors[(phase, kind, label)] += 1

    def expected(self, sink):
        return sum(len(self.acked[k]) for k in SINKS[sink])

    def expected_set(self, sink):
        out = set()
        for k in SINKS[sink]:
            out.update(self.acked[k])
        return out


class Sink:
    """Reads a marker file incrementally: the set of markers seen and how many lines (duplicates included)."""

    def __init__(self, path):
        self.path, self.offset, self.partial = path, 0, b""
        self.seen, self.lines = set(), 0

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return self
        self.offset += len(data)
        *complete, self.partial = (self.partial + data).split(b"\n")
        for m in complete:
            if m:
                self.lines += 1
                self.seen.add(m.decode("utf-8", "replace"))
        return self


def backlog(tally, sinks):
    """{sink: acknowledged - seen} (an estimate while running; exact once drained)."""
    return {name: max(0, tally.expected(name) - len(sinks[name].poll().seen)) for name in SINKS}


def state_bytes(path):
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, f))
            except OSError:
                pass
    return total


def phase_capacity(host, gw, ctl, tally, mix, concurrency, seconds, deadline, timeout):
    """Closed loop: `concurrency` callers each run the mix back to back; requests/s answered."""
    callers = [Caller(gw, ctl, timeout) for _ in range(concurrency)]

    def warm(_client, idx):
        for kind in sorted(set(mix)):  # one of each, so every pool has a worker before the window
            label, marker = callers[idx].do(kind, next(tally.seq))
            tally.note("warm-up", kind, label, marker)

    def step(_client, idx, i, start):
        kind = mix[(idx + i) % len(mix)]
        label, marker = callers[idx].do(kind, next(tally.seq))
        tally.note("capacity", kind, label, marker)
        return (time.perf_counter() - start) * 1000.0

    try:
        out = run_callers(host, ctl, concurrency, seconds, deadline, warm, step, "capacity caller",
                          lambda n: {"requests": n, "rps": n / seconds})
    finally:
        for c in callers:
            c.close()
    return out


def wait_drained(tally, sinks, timeout, host):
    """Seconds until every acknowledged marker is seen (None if not within `timeout`, or the host died)."""
    t0 = time.perf_counter()
    while True:
        if all(v <= 0 for v in backlog(tally, sinks).values()):
            if all(not (tally.expected_set(s) - sinks[s].seen) for s in SINKS):
                return time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout or host.proc.poll() is not None:
            return None
        time.sleep(0.25)


class Sampler(threading.Thread):
    """Samples the host every `every` seconds (t relative to `t0`) until stopped; notices the host dying."""

    def __init__(self, host, t0, every, tally, sinks, state_dir, stop):
        super().__init__(daemon=True)
        self.host, self.t0, self.every, self.tally, self.sinks = host, t0, every, tally, sinks
        self.state_dir, self.stop = state_dir, stop
        self.samples = []
        self.died_at = None

    def take(self, label=None):
        s = process_sample(self.host.proc.pid)
        if s is None or self.host.proc.poll() is not None:
            if self.died_at is None:
                self.died_at = time.perf_counter() - self.t0
            return None
        s["t"] = time.perf_counter() - self.t0
        s["workers_cpu_s"] = self.host.cpu_seconds()[1]
        s["box_busy_s"], s["box_total_s"] = machine_cpu_seconds()
        s["bench_cpu_s"] = time.process_time()
        s["backlog"] = backlog(self.tally, self.sinks)
        s["state_mb"] = state_bytes(self.state_dir) / 1e6
        if label:
            s["label"] = label
        self.samples.append(s)
        return s

    def run(self):
        k = 1
        while not self.stop.is_set():
            wake = self.t0 + k * self.every
            if self.stop.wait(max(0.0, wake - time.perf_counter())):
                break
            k += 1
            if self.take() is None:
                self.stop.set()  # the host is gone: end the load


def phase_soak(host, gw, ctl, tally, sinks, state_dir, mix, rate, duration, senders, every, timeout, grace):
    """Open loop at `rate` req/s for `duration` s. Returns (records, sampler, t0, end): records are
    (kind, scheduled, sent, done, label) with times relative to t0."""
    jobs = queue.SimpleQueue()
    records = []
    stop = threading.Event()
    t0 = time.perf_counter() + 0.2
    end = t0 + duration
    sampler = Sampler(host, t0, every, tally, sinks, state_dir, stop)

    def sender():
        caller = Caller(gw, ctl, timeout)
        try:
            while True:
                job = jobs.get()
                if job is None:
                    return
                kind, sched = job
                sent = time.perf_counter()
                if sent > end + grace or host.proc.poll() is not None:
                    label, marker = "not sent (client backlog or host gone)", None
                else:
                    label, marker = caller.do(kind, next(tally.seq))
                done = time.perf_counter()
                tally.note("soak", kind, label, marker)
                records.append((kind, sched - t0, sent - t0, done - t0, label))
        finally:
            caller.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, t0 - time.perf_counter()))
    sampler.take("soak start")
    sampler.start()
    interval = 1.0 / rate
    k = 0
    while not stop.is_set():
        now = time.perf_counter()
        while True:
            sched = t0 + k * interval
            if sched > now or sched >= end:
                break
            jobs.put((mix[k % len(mix)], sched))
            k += 1
        if t0 + k * interval >= end:
            break
        time.sleep(0.002)
    scheduled = k
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join(timeout=max(1.0, end + grace + timeout + 5 - time.perf_counter()))
    stop.set()
    sampler.join(timeout=10)
    sampler.take("load end")
    return records, sampler, t0, end, scheduled


# ---------------------------------------------------------------------------
# figures


def window_latency(records, lo, hi):
    """{kind: summary of scheduled -> response ms} over ok answers to requests scheduled in [lo, hi); "all" too."""
    by = collections.defaultdict(list)
    lag = []
    for kind, sched, sent, done, label in records:
        if lo <= sched < hi and label == "ok":
            ms = (done - sched) * 1000.0
            by[kind].append(ms)
            by["all"].append(ms)
            lag.append((sent - sched) * 1000.0)
    out = {k: summary(by[k], percentiles=(50, 99)) for k in KINDS + ("all",)}
    out["client_lag"] = summary(lag, percentiles=(50, 99))
    return out


FIGURES = ("rss_kb", "rss_anon_kb", "rss_file_kb", "fds", "sockets", "threads", "children", "children_rss_kb",
           "state_mb")


SLOW_MS = 100.0


def slow_answers(ok, threshold):
    """ok answers slower than `threshold` ms (scheduled -> response), counted by second of the soak."""
    by = collections.Counter(int(rec[1]) for rec in ok if (rec[3] - rec[1]) * 1000.0 > threshold)
    return {"threshold_ms": threshold, "count": sum(by.values()), "by_second": sorted(by.items())}


def interval_figures(samples, records):
    """Adds to each periodic sample the answers/s and the p99 (ms) of requests scheduled since the previous one."""
    periodic = [s for s in samples if s.get("label") in (None, "soak start")]
    for prev, cur in zip(periodic, periodic[1:]):
        if cur.get("label"):
            continue
        lat = [(rec[3] - rec[1]) * 1000.0 for rec in records if prev["t"] <= rec[1] < cur["t"] and rec[4] == "ok"]
        span = cur["t"] - prev["t"]
        cur["interval_rps"] = len(lat) / span if span > 0 else float("nan")
        cur["interval_p99_ms"] = pct(lat, 99)


def pool_counters(ctl):
    """{function: {coldStarts, scaleUps, scaleDowns, replaced, throttles}} from /v1/status ({} on failure)."""
    try:
        c = Client(ctl, timeout=30)
        try:
            return {f["name"]: {k: f[k] for k in ("coldStarts", "scaleUps", "scaleDowns", "replaced", "throttles")}
                    for f in c.call("GET", "/v1/status")["functions"]}
        finally:
            c.close()
    except (BenchError, OSError, http.client.HTTPException, ValueError, KeyError):
        return {}


def pool_diff(before, after):
    """What changed per function between two pool_counters (only the counters that moved)."""
    out = {}
    for name, a in after.items():
        b = before.get(name, {})
        moved = {k: v - b.get(k, 0) for k, v in a.items() if v - b.get(k, 0)}
        if moved:
            out[name] = moved
    return out


def host_figures(samples):
    """Values of the main figures at soak start, load end, after drain, and their max over the soak."""
    def get(s, key):
        if s is None:
            return None
        if key == "sockets":
            return s["fd_kinds"]["socket"]
        if key in ("rss_kb", "rss_anon_kb", "rss_file_kb", "hwm_kb", "children_rss_kb"):
            return None if s.get(key) is None else s[key] / 1024.0
        return s[key]

    labelled = {s.get("label"): s for s in samples if s.get("label")}
    soak = [s for s in samples if s.get("label") in (None, "soak start", "load end")]
    out = {}
    for key in FIGURES:
        vals = [v for v in (get(s, key) for s in soak) if v is not None]
        out[key] = {
            "host_ready": get(labelled.get("host ready"), key),
            "soak_start": get(labelled.get("soak start"), key),
            "load_end": get(labelled.get("load end"), key),
            "after_drain": get(labelled.get("after drain"), key),
            "max": max(vals) if vals else None,
        }
    return out


def control_figures(ctl):
    """Queue counts, function status and non-ok invocations by function, host events by kind (best effort)."""
    out = {}
    c = Client(ctl, timeout=30)
    try:
        out["queues"] = c.counts()
        out["functions"] = {f["name"]: {k: f[k] for k in ("workers", "busy", "idle", "coldStarts", "throttles",
                                                           "scaleUps", "scaleDowns", "replaced", "breaker")}
                            for f in c.call("GET", "/v1/status")["functions"]}
        not_ok = {}
        for fn in out["functions"]:
            for status in ("error", "timeout", "crashed", "throttled", "rejected"):
                n = len(c.call("GET", "/v1/logs?function=%s&status=%s&limit=1000" % (fn, status))["invocations"])
                if n:
                    not_ok["%s %s" % (fn, status)] = n if n < 1000 else "1000+"
        out["not_ok_invocations"] = not_ok
        events = collections.Counter()
        after = 0
        for _ in range(200):
            page = c.call("GET", "/v1/events?limit=1000&after=%d" % after)["events"]
            for e in page:
                events["%s %s" % (e["kind"], e["function"])] += 1
                after = max(after, e.get("sequence") or 0)
            if len(page) < 1000:
                break
        out["events"] = dict(sorted(events.items()))
    except (BenchError, OSError, http.client.HTTPException, ValueError, KeyError) as e:
        out["error"] = repr(e)
    finally:
        c.close()
    return out


def delivery(tally, sinks):
    out = {}
    for name, kinds in SINKS.items():
        sink = sinks[name].poll()
        expected = tally.expected_set(name)
        out[name] = {
            "from": "+".join(kinds),
            "acknowledged": len(expected),
            "processed": len(expected & sink.seen),
            "duplicates": sink.lines - len(sink.seen),
            "lost": len(expected - sink.seen),
            "not_acknowledged_but_processed": len(sink.seen - expected),
            "lost_examples": sorted(expected - sink.seen)[:10],
        }
    return out


# ---------------------------------------------------------------------------
# output


def cpu_split(a, b):
    """% of one core between two samples: host, its workers, this bench, everything else on the machine."""
    wall = b["t"] - a["t"]
    host = b["cpu_s"] - a["cpu_s"]
    workers = (b["workers_cpu_s"] or 0) - (a["workers_cpu_s"] or 0)
    bench = b["bench_cpu_s"] - a["bench_cpu_s"]
    others = float("nan")
    if a.get("box_busy_s") is not None and b.get("box_busy_s") is not None:
        others = (b["box_busy_s"] - a["box_busy_s"]) - host - workers - bench
    return [100.0 * x / wall for x in (host, workers, bench, others)]


def fmt(v, spec="%.1f"):
    return "-" if v is None else (spec % v)


def print_table(r):
    out = []
    add = out.append
    add("Stratus soak bench  (%s; %d CPUs; load average %s at the start, %s at the end of the soak)"
        % (r["stratus"], r["cpus"], "/".join("%.1f" % x for x in r["loadavg_start"]),
           "/".join("%.1f" % x for x in r["loadavg_end"])))
    add("")
    c = r["capacity"]
    if len(r["kinds"]) == len(KINDS):
        mix = "the mix (30% route, 30% Invoke API, 10% publish, 20% send, 10% async)"
    else:
        mix = "only " + "+".join(r["kinds"]) + " (--kinds)"
    add("1. capacity: %d closed-loop callers, %.1f s of %s" % (c["concurrency"], c["seconds"], mix))
    add("   %.0f requests/s answered (%d), latency p50 %.2f ms  p99 %.2f ms; downstream drained %s after"
        % (c["rps"], c["requests"], c["latency"]["p50"], c["latency"]["p99"],
           "in %.1f s" % r["capacity_drain_s"] if r["capacity_drain_s"] is not None
           else "NOT within the drain timeout"))
    s = r["soak"]
    add("")
    add("2. soak: open loop at %.0f%% of capacity = %.0f requests/s for %.0f s, %d sender threads"
        % (r["load"] * 100, s["target_rps"], s["duration"], s["senders"]))
    add("   scheduled %d, answered %d, ok %d: %.1f requests/s answered (%.1f%% of target), %.1f ok/s"
        % (s["scheduled"], s["answered"], s["ok"], s["answered_rps"], 100.0 * s["answered_rps"] / s["target_rps"],
           s["ok_rps"]))
    if r.get("host_died_at") is not None:
        add("   HOST DIED %.1f s into the soak" % r["host_died_at"])
    w = r["window_s"]
    add("")
    add("   latency, ms (scheduled send -> response read, ok answers)")
    add("   %-10s | %-26s | %-26s | %s" % ("", "first %.0f s" % w, "last %.0f s" % w, "whole soak"))
    add("   %-10s | %6s %9s %9s | %6s %9s %9s | %9s %9s" % ("kind", "n", "p50", "p99", "n", "p50", "p99", "p99", "max"))
    first, last, whole = s["latency_first"], s["latency_last"], s["latency_all"]
    for k in KINDS + ("all",):
        add("   %-10s | %6d %9.2f %9.2f | %6d %9.2f %9.2f | %9.2f %9.2f"
            % (k, first[k]["n"], first[k]["p50"], first[k]["p99"], last[k]["n"], last[k]["p50"], last[k]["p99"],
               whole[k]["p99"], whole[k]["max"] if "max" in whole[k] else float("nan")))
    add("   client lag (scheduled -> sent, included above) p99: first %.2f ms, last %.2f ms, whole %.2f ms"
        % (first["client_lag"]["p99"], last["client_lag"]["p99"], whole["client_lag"]["p99"]))
    sl = s["slow"]
    add("   answers over %.0f ms: %d of %d (%.2f%%)%s" % (
        sl["threshold_ms"], sl["count"], s["ok"], 100.0 * sl["count"] / max(1, s["ok"]),
        ("; by second of the soak (scheduled): " + ", ".join("%d s: %d" % (sec, n) for sec, n in sl["by_second"]))
        if sl["count"] else ""))
    add("")
    if r["errors"]:
        add("   errors by status (phase, kind, status: count):")
        for e in r["errors"]:
            add("     %-9s %-8s %-40s %d" % (e["phase"], e["kind"], e["status"], e["count"]))
    else:
        add("   errors by status: none")
    add("")
    h = r["host"]
    add("3. host process (stratus serve)   %10s %10s %10s %10s %10s   %s"
        % ("ready", "soak start", "load end", "max", "drained", "slope, 2nd half of soak"))
    rows = [("RSS, MB", "rss_kb", "%.1f", "MB/min"), ("  anonymous (heap)", "rss_anon_kb", "%.1f", "MB/min"),
            ("  file-backed", "rss_file_kb", "%.1f", "MB/min"), ("open descriptors", "fds", "%.0f", "/min"),
            ("  of which sockets", "sockets", "%.0f", "/min"), ("threads", "threads", "%.0f", "/min"),
            ("worker processes", "children", "%.0f", "/min"), ("workers' RSS, MB", "children_rss_kb", "%.1f", "MB/min"),
            ("state dir, MB", "state_mb", "%.1f", "MB/min")]
    for label, key, spec, unit in rows:
        v = h[key]
        add("   %-30s %10s %10s %10s %10s %10s   %+.2f %s"
            % (label, fmt(v["host_ready"], spec), fmt(v["soak_start"], spec), fmt(v["load_end"], spec),
               fmt(v["max"], spec), fmt(v["after_drain"], spec), r["slopes"].get(key, float("nan")), unit))
    add("   CPU over the soak, in cores: host %.2f, workers %.2f, this bench %.2f, everything else on the machine %.2f;"
        " RSS high-water mark %.1f MB" % (r["cpu"]["host_cores"], r["cpu"]["worker_cores"], r["cpu"]["bench_cores"],
                                          r["cpu"]["other_cores"], r["cpu"]["hwm_mb"]))
    add("")
    row = "   %-11s %5s %7s %5s %5s %4s %7s %7s %8s  %-13s %6s %7s  %5s %5s %5s %6s"
    add("   samples (every %.0f s; req/s and p99 of the requests scheduled since the previous sample;"
        " CPU in %% of one core, machine: %d cores)" % (r["sample_every"], r["cpus"]))
    add(row % ("", "t s", "RSS MB", "fds", "socks", "thr", "workers", "wRSS MB", "state MB", "backlog c/n/w",
               "req/s", "p99 ms", "host", "wrkrs", "bench", "others"))
    prev = None
    for smp in r["samples"]:
        cpu = [""] * 4
        if prev is not None and smp["t"] - prev["t"] >= 1.0:
            cpu = ["%.0f" % v for v in cpu_split(prev, smp)]
            if set(prev.get("child_pids", ())) - set(smp.get("child_pids", ())):
                cpu[1] = cpu[3] = "n/a"  # a worker exited: its CPU time left the sum
        b = smp["backlog"]
        iv = ["", ""]
        if "interval_rps" in smp:
            iv = ["%.0f" % smp["interval_rps"], "%.1f" % smp["interval_p99_ms"]]
        add(row % (smp.get("label") or "", "%.0f" % smp["t"] if smp["t"] == smp["t"] else "-",
                   "%.1f" % (smp["rss_kb"] / 1024.0), smp["fds"], smp["fd_kinds"]["socket"], smp["threads"],
                   smp["children"], "%.1f" % (smp["children_rss_kb"] / 1024.0), "%.1f" % smp["state_mb"],
                   "%d/%d/%d" % (b["consumer"], b["notify"], b["worker"]), iv[0], iv[1], *cpu))
        prev = smp
    add("")
    d = r["delivery"]
    add("4. delivery, counted at the functions (markers appended to files); %s"
        % ("drained %.1f s after the load stopped" % r["drain_s"] if r["drain_s"] is not None
           else "NOT drained: the host died" if r.get("host_died_at") is not None
           else "NOT drained within %.0f s" % r["drain_timeout"]))
    for name, v in d.items():
        add("   %-9s <- %-13s acknowledged %7d  processed %7d  duplicates %5d  lost %d%s"
            % (name, v["from"], v["acknowledged"], v["processed"], v["duplicates"], v["lost"],
               ("  (e.g. %s)" % ", ".join(v["lost_examples"])) if v["lost"] else ""))
        if v["not_acknowledged_but_processed"]:
            add("             %d processed that were never acknowledged (the request failed on the client side)"
                % v["not_acknowledged_but_processed"])
    cf = r["control"]
    if "queues" in cf:
        add("   queues at the end: %s" % ", ".join("%s %s" % (q, json.dumps(v, sort_keys=True))
                                               for q, v in cf["queues"].items()))
    if r.get("pool_during_soak"):
        add("   pools during the soak (load start -> end): %s" % "; ".join(
            "%s %s" % (n, ", ".join("%s %+d" % kv for kv in v.items())) for n, v in r["pool_during_soak"].items()))
    if "functions" in cf:
        add("   functions at the end: %s" % "; ".join(
            "%s workers %d, cold %d, throttles %d, up %d, down %d, replaced %d, breaker %s"
            % (n, f["workers"], f["coldStarts"], f["throttles"], f["scaleUps"], f["scaleDowns"], f["replaced"],
               f["breaker"])
            for n, f in cf["functions"].items()))
    if "not_ok_invocations" in cf:
        add("   invocations not ok: %s"
            % (", ".join("%s: %s" % kv for kv in cf["not_ok_invocations"].items()) or "none"))
    if "events" in cf:
        add("   host events: %s" % (", ".join("%s: %d" % kv for kv in cf["events"].items()) or "none"))
    if "error" in cf:
        add("   (control plane figures incomplete: %s)" % cf["error"])
    add("")
    add("lost: %d" % r["lost"])
    print("\n".join(out))  # run_bench adds the line on the host's exit


# ---------------------------------------------------------------------------


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--duration", type=float, default=120.0, help="soak length, seconds (default 120)")
    ap.add_argument("--load", type=float, default=0.5, help="fraction of the measured capacity (default 0.5)")
    ap.add_argument("--capacity-seconds", type=float, default=5.0, help="closed-loop capacity window (default 5)")
    ap.add_argument("--concurrency", type=int, default=16, help="closed-loop callers for the capacity (default 16)")
    ap.add_argument("--senders", type=int, default=32, help="open-loop sender threads (default 32)")
    ap.add_argument("--sample-every", type=float, default=5.0, help="seconds between host samples (default 5)")
    ap.add_argument("--window", type=float, default=20.0, help="latency windows at start and end, seconds (default 20)")
    ap.add_argument("--drain", type=float, default=60.0, help="how long to wait for the backlog to drain (default 60)")
    ap.add_argument("--timeout", type=float, default=30.0, help="client timeout per request, seconds (default 30)")
    ap.add_argument("--kinds", default=",".join(KINDS),
                    help="request kinds to run, comma-separated, in the mix's proportions (default: %(default)s)")
    args = parse_args(ap, budget=None)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds):
        ap.error("--kinds: a comma-separated subset of %s" % ",".join(KINDS))
    mix = tuple(k for k in MIX if k in kinds)
    if args.budget is None:
        args.budget = args.duration + args.capacity_seconds + 2 * args.drain + 120
    window = min(args.window, args.duration / 2)
    box = {}

    def measure(root, deadline, start_host):
        project = os.path.join(root, "project")
        sinks_dir = os.path.join(root, "sinks")
        state_dir = os.path.join(root, "state")
        make_project(project, sinks_dir)
        host = start_host(project)
        ctl, gw = host.control_port, gateway_port(host)
        if gw is None:
            raise BenchError("no gateway line in the host's output:\n" + "\n".join(host.lines[-20:]))
        tally = Tally()
        sinks = {name: Sink(os.path.join(sinks_dir, name + ".log")) for name in SINKS}
        ready = process_sample(host.proc.pid)
        ready.update(t=float("nan"), label="host ready", backlog={n: 0 for n in SINKS},
                     state_mb=state_bytes(state_dir) / 1e6, workers_cpu_s=host.cpu_seconds()[1],
                     bench_cpu_s=time.process_time())
        ready["box_busy_s"], ready["box_total_s"] = machine_cpu_seconds()

        capacity = phase_capacity(host, gw, ctl, tally, mix, args.concurrency, args.capacity_seconds, deadline,
                                  args.timeout)
        if host.proc.poll() is not None:
            raise BenchError("the host died during the capacity phase")
        if capacity["rps"] <= 0:
            raise BenchError("no request answered in the capacity phase")
        capacity_drain = wait_drained(tally, sinks, args.drain, host)
        rate = capacity["rps"] * args.load
        if time.perf_counter() + args.duration + args.drain + 30 > deadline:
            raise BenchError("out of time before the soak (raise --budget)")

        pools_before = pool_counters(ctl)
        loadavg_start = os.getloadavg()
        records, sampler, t0, end, scheduled = phase_soak(
            host, gw, ctl, tally, sinks, state_dir, mix, rate, args.duration, args.senders, args.sample_every,
            args.timeout, grace=10.0)
        load_end = time.perf_counter()
        loadavg_end = os.getloadavg()
        drain_s = wait_drained(tally, sinks, args.drain, host)
        sampler.take("after drain")
        died_at = sampler.died_at
        if died_at is None and host.proc.poll() is not None:
            died_at = time.perf_counter() - t0
        pools_after = pool_counters(ctl) if host.proc.poll() is None else {}
        control = control_figures(ctl) if host.proc.poll() is None else {"error": "host not running"}
        dl = delivery(tally, sinks)

        samples = [ready] + sampler.samples
        soak_samples = [s for s in sampler.samples if s.get("label") in (None, "soak start", "load end")]
        # Slopes: periodic samples taken under load (not the labelled ones at its edges), second half.
        half = args.duration / 2
        second_half = [s for s in soak_samples if not s.get("label") and half <= s["t"] < args.duration - 0.5]
        interval_figures(sampler.samples, records)

        def series(key):
            if key == "sockets":
                return [(s["t"], s["fd_kinds"]["socket"]) for s in second_half]
            if key in ("rss_kb", "children_rss_kb"):
                return [(s["t"], s[key] / 1024.0) for s in second_half]
            if key in ("rss_anon_kb", "rss_file_kb"):
                return [(s["t"], s[key] / 1024.0) for s in second_half if s.get(key) is not None]
            return [(s["t"], s[key]) for s in second_half]

        answered = [rec for rec in records if not rec[4].startswith("not sent")]
        ok = [rec for rec in records if rec[4] == "ok"]
        first_s = soak_samples[0] if soak_samples else None
        last_s = soak_samples[-1] if soak_samples else None
        span = (last_s["t"] - first_s["t"]) if first_s and last_s else 0
        results = {
            "stratus": args.stratus,
            "cpus": os.cpu_count() or 0,
            "loadavg_start": loadavg_start,
            "loadavg_end": loadavg_end,
            "load": args.load,
            "kinds": kinds,
            "window_s": window,
            "sample_every": args.sample_every,
            "capacity": capacity,
            "capacity_drain_s": capacity_drain,
            "soak": {
                "target_rps": rate,
                "duration": args.duration,
                "senders": args.senders,
                "scheduled": scheduled,
                "answered": len(answered),
                "ok": len(ok),
                "answered_rps": sum(1 for rec in answered if rec[3] <= args.duration) / args.duration,
                "ok_rps": sum(1 for rec in ok if rec[3] <= args.duration) / args.duration,
                "load_overrun_s": load_end - end,
                "slow": slow_answers(ok, SLOW_MS),
                "latency_first": window_latency(records, 0.0, window),
                "latency_last": window_latency(records, args.duration - window, args.duration),
                "latency_all": {k: v for k, v in window_latency(records, 0.0, args.duration).items()},
            },
            "host_died_at": died_at,
            "errors": [{"phase": p, "kind": k, "status": s, "count": n}
                       for (p, k, s), n in sorted(tally.errors.items())],
            "host": host_figures(samples),
            "slopes": {k: slope_per_minute(series(k)) for k in FIGURES},
            "pool_during_soak": pool_diff(pools_before, pools_after),
            "cpu": {
                "host_cores": (last_s["cpu_s"] - first_s["cpu_s"]) / span if span else float("nan"),
                "worker_cores": ((last_s["workers_cpu_s"] - first_s["workers_cpu_s"]) / span
                                 if span and last_s["workers_cpu_s"] is not None else float("nan")),
                "bench_cores": ((last_s["bench_cpu_s"] - first_s["bench_cpu_s"]) / span) if span else float("nan"),
                "other_cores": (cpu_split(first_s, last_s)[3] / 100.0) if span else float("nan"),
                "hwm_mb": max(s["hwm_kb"] for s in samples) / 1024.0,
            },
            "samples": samples,
            "drain_s": drain_s,
            "drain_timeout": args.drain,
            "delivery": dl,
            "lost": sum(v["lost"] for v in dl.values()),
            "control": control,
        }
        # whole-soak max latency per kind, for the table
        for k in KINDS + ("all",):
            vals = [(rec[3] - rec[1]) * 1000.0 for rec in ok if (k == "all" or rec[0] == k)]
            results["soak"]["latency_all"][k]["max"] = max(vals) if vals else float("nan")
        box.update(results)
        return results

    # The deadline leaves 20 s of the budget to stop the host.
    status = run_bench("soak_bench", args, "stratus-soak-", 20, measure, print_table)
    if status == 0 and (box.get("lost", 0) or box.get("host_died_at") is not None):
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Messaging benchmark for Stratus: topic publish throughput/latency, publish-to-queue latency,
queue -> function end-to-end throughput.

Starts `stratus serve` on a temporary project (topic `fan` with 5 queue subscriptions, queue `work`
consumed by a trivial Python function, batch 10), drives the control plane on 127.0.0.1 with
http.client keep-alive connections, prints a table (or JSON with --json) and stops the host with
SIGTERM, even on error. Standard library only; bounded by --budget.

    python bench/messaging_bench.py --stratus .build/release/stratus [--json]

Phase 2 sends all N messages before consuming starts: the consumer function blocks on a gate file
until the bench creates it, so only the first few batches (maxConcurrency x batchSize) are taken
before the measured window; the window runs from opening the gate until the queue is empty
(visible + inFlight + delayed == 0, polled every 20 ms).
"""

import os
import sys
import threading
import time

from benchlib import (BenchError, Client, arg_parser, cpu_per_item, parse_args, run_bench, run_callers,
                      start_callers, summary, verdict)

TARGET_PUBLISH_TO_QUEUE_P50_MS = 5.0
TARGET_CONSUME_MSGS_PER_S = 5000.0

FAN_QUEUES = ["q1", "q2", "q3", "q4", "q5"]
BATCH_SIZE = 10
MAX_CONCURRENCY = 4

SINK_HANDLER = '''import os, time
GATE = %r
_open = False


def handler(event, context):
    global _open
    if not _open:
        deadline = time.time() + 110
        while not os.path.exists(GATE) and time.time() < deadline:
            time.sleep(0.005)
        _open = True
    return None
'''
SINK_YAML = "runtime: python\nhandler: app.handler\ntimeout: 120s\nscaling: {max: %d}\n" % MAX_CONCURRENCY


def total(c):
    return c.get("visible", 0) + c.get("inFlight", 0) + c.get("delayed", 0)


# ---------------------------------------------------------------------------
# project


def make_project(root, gate):
    d = os.path.join(root, "functions", "sink")
    os.makedirs(d)
    with open(os.path.join(d, "function.yaml"), "w") as f:
        f.write(SINK_YAML)
    with open(os.path.join(d, "app.py"), "w") as f:
        f.write(SINK_HANDLER % gate)
    t = os.path.join(root, "triggers")
    os.makedirs(t)
    lines = ["topics:", "  fan:", "    subscriptions:"]
    lines += ["      - queue: %s" % q for q in FAN_QUEUES]
    lines += ["queues:"]
    lines += ["  %s: {}" % q for q in FAN_QUEUES]
    lines += [
        "  work:",
        "    visibilityTimeout: 300s",
        "    consumer: {function: sink, batchSize: %d, maxConcurrency: %d}" % (BATCH_SIZE, MAX_CONCURRENCY),
    ]
    with open(os.path.join(t, "x.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# phases


def phase_publish_throughput(host, port, concurrency, seconds, deadline):
    def warm(client, idx):
        client.publish("fan", "warm %d" % idx)

    def step(client, idx, i, start):
        client.publish("fan", "bench message %d-%d" % (idx, i), {"kind": "bench"})
        return (time.perf_counter() - start) * 1000.0

    return run_callers(host, port, concurrency, seconds, deadline, warm, step, "publisher",
                       lambda n: {"publishes": n, "publishes_per_s": n / seconds,
                                  "queue_inserts_per_s": n * len(FAN_QUEUES) / seconds})


def purge_all(port, queues):
    c = Client(port)
    try:
        for q in queues:
            c.purge(q)
    finally:
        c.close()


def phase_publish_to_queue_parked(port, samples, deadline):
    """A receiver long-polls q1 (wait 5s); the publisher publishes a unique body once the receiver is
    parked; latency = publish sent -> receive response with that body read by the receiver."""
    pub = Client(port)
    rec = Client(port)
    got = {}
    errors = []
    lock = threading.Lock()
    ready = threading.Event()
    received = threading.Event()
    stop = threading.Event()
    pending = {"marker": None}

    def receiver():
        try:
            while not stop.is_set():
                ready.set()
                msgs = rec.receive("q1", 10, "5s")
                now = time.perf_counter()
                handles = []
                for m in msgs:
                    handles.append(m["receiptHandle"])
                    with lock:
                        marker = pending["marker"]
                    if marker and marker in m["body"]:
                        got[marker] = now
                        received.set()
                if handles:
                    rec.delete("q1", handles)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
            received.set()

    lat = []
    slow = 0
    th = threading.Thread(target=receiver, daemon=True)
    th.start()
    try:
        # warm-up
        for i in range(samples + 10):
            if time.perf_counter() > deadline:
                break
            ready.wait(10)
            time.sleep(0.01)  # let the receiver's request reach the host and park
            ready.clear()
            received.clear()
            marker = "pq-%d-%d" % (os.getpid(), i)
            with lock:
                pending["marker"] = marker
            t0 = time.perf_counter()
            pub.publish("fan", marker)
            if not received.wait(10):
                raise BenchError("publish-to-queue: %s never arrived in q1" % marker)
            if errors:
                raise BenchError("receiver failed: %r" % errors[0])
            ms = (got[marker] - t0) * 1000.0
            if i >= 10:
                lat.append(ms)
                if ms > 100:
                    slow += 1
    finally:
        stop.set()
        # unblock the receiver's long poll
        try:
            pub.publish("fan", "stop")
        except Exception:  # noqa: BLE001
            pass
        th.join(7)
        pub.close()
        rec.close()
    return {"latency": summary(lat), "over_100ms": slow}


def phase_publish_then_receive(port, samples, deadline):
    """One client: publish a unique body, then receive q1 (wait 5s) until it has it (as the brief
    describes). Also the split: publish RTT and receive RTT."""
    c = Client(port)
    lat, pub_ms, rec_ms = [], [], []
    try:
        for i in range(samples + 10):
            if time.perf_counter() > deadline:
                break
            marker = "pr-%d-%d" % (os.getpid(), i)
            t0 = time.perf_counter()
            c.publish("fan", marker)
            t1 = time.perf_counter()
            found = False
            handles = []
            while not found:
                msgs = c.receive("q1", 10, "5s")
                if not msgs:
                    raise BenchError("publish-then-receive: %s never arrived" % marker)
                for m in msgs:
                    handles.append(m["receiptHandle"])
                    if marker in m["body"]:
                        found = True
            t2 = time.perf_counter()
            c.delete("q1", handles)
            if i >= 10:
                lat.append((t2 - t0) * 1000.0)
                pub_ms.append((t1 - t0) * 1000.0)
                rec_ms.append((t2 - t1) * 1000.0)
    finally:
        c.close()
    return {"latency": summary(lat), "publish_rtt": summary(pub_ms), "receive_rtt": summary(rec_ms)}


def phase_send(host, port, n, concurrency, deadline):
    per = [n // concurrency + (1 if i < n % concurrency else 0) for i in range(concurrency)]
    lats = [[] for _ in range(concurrency)]

    def sender(client, idx, ready):
        ready()
        out = lats[idx]
        for i in range(per[idx]):
            if time.perf_counter() > deadline:
                raise BenchError("out of time while sending")
            t0 = time.perf_counter()
            client.send("work", "m-%d-%d" % (idx, i))
            out.append((time.perf_counter() - t0) * 1000.0)

    finish = start_callers(port, concurrency, sender, "sender")
    cpu0, me0 = host.cpu_seconds(), time.process_time()
    t0 = time.perf_counter()
    finish(deadline)
    wall = time.perf_counter() - t0
    cpu1, me1 = host.cpu_seconds(), time.process_time()
    lat = [x for l in lats for x in l]
    return {
        "messages": len(lat),
        "concurrency": concurrency,
        "seconds": wall,
        "messages_per_s": len(lat) / wall,
        "latency": summary(lat),
        "cpu": cpu_per_item(cpu0, me0, cpu1, me1, len(lat), wall),
    }


def phase_consume(host, port, gate, n, deadline):
    c = Client(port)
    try:
        before = c.counts()["work"]
        start_total = total(before)
        # Wait (briefly) until the consumers hold their blocked batches, so the state is steady.
        t_end_wait = time.perf_counter() + 5
        while before.get("inFlight", 0) < min(start_total, BATCH_SIZE * MAX_CONCURRENCY) and time.perf_counter() < t_end_wait:
            time.sleep(0.02)
            before = c.counts()["work"]
        cpu0, me0 = host.cpu_seconds(), time.process_time()
        t0 = time.perf_counter()
        with open(gate, "w") as f:
            f.write("open\n")
        first_drop = None
        trace = []
        last = total(before)
        done = False
        while time.perf_counter() < deadline:
            time.sleep(0.02)
            cur = total(c.counts()["work"])
            now = time.perf_counter()
            trace.append((now - t0, cur))
            if first_drop is None and cur < last:
                first_drop = now
            if cur == 0:
                done = True
                break
        t_end = time.perf_counter()
        cpu1, me1 = host.cpu_seconds(), time.process_time()
        consumed = start_total - trace[-1][1] if trace else 0
        window = t_end - t0
        res = {
            "messages_at_start": start_total,
            "in_flight_at_start": before.get("inFlight", 0),
            "drained": done,
            "consumed": consumed,
            "seconds_gate_to_empty": window,
            "msgs_per_s": consumed / window if window else float("nan"),
            "seconds_first_drop_to_empty": (t_end - first_drop) if first_drop else float("nan"),
            "cpu": cpu_per_item(cpu0, me0, cpu1, me1, consumed, window),
            "trace": [(round(t, 3), v) for (t, v) in trace[:: max(1, len(trace) // 20)]],
        }
        if first_drop and (t_end - first_drop) > 0:
            res["msgs_per_s_from_first_drop"] = consumed / (t_end - first_drop)
        return res
    finally:
        c.close()


# ---------------------------------------------------------------------------
# output


def cpu_text(cpu, unit):
    if not cpu:
        return None
    return ("   CPU per %s: host %.0f us, workers %.0f us, bench client %.0f us (wall/%s %.0f us; host %.2f cores, workers %.2f cores)"
            % (unit, cpu["host_us"], cpu["worker_us"], cpu["client_us"], unit, cpu["wall_us"],
               cpu["host_cores"], cpu["worker_cores"]))


def print_table(r):
    out = []
    add = out.append
    add("Stratus messaging bench  (%s; %d CPUs)" % (r["stratus"], r["cpus"]))
    add("")
    p = r["publish"]
    add("1. publish to topic 'fan' (5 queue subscriptions), %d concurrent keep-alive clients, %.1f s"
        % (p["concurrency"], p["seconds"]))
    add("   %.0f publishes/s  (%d publishes = %.0f queue messages/s)   latency ms p50 %.3f  p99 %.3f  max %.3f"
        % (p["publishes_per_s"], p["publishes"], p["queue_inserts_per_s"], p["latency"]["p50"],
           p["latency"]["p99"], p["latency"]["max"]))
    line = cpu_text(p["cpu"], "publish")
    if line:
        add(line)
    add("   publish-to-queue latency, ms                %8s %8s %8s %8s   %s" % ("p50", "p90", "p99", "max", "target (issue)"))
    pk = r["pub_to_queue_parked"]
    ok = pk["latency"]["p50"] <= TARGET_PUBLISH_TO_QUEUE_P50_MS
    add("   receiver parked in long poll on q1 (n=%3d) %8.3f %8.3f %8.3f %8.3f   <= %.0f p50  %s"
        % (pk["latency"]["n"], pk["latency"]["p50"], pk["latency"]["p90"], pk["latency"]["p99"],
           pk["latency"]["max"], TARGET_PUBLISH_TO_QUEUE_P50_MS, verdict(ok)))
    sq = r["pub_then_receive"]
    ok2 = sq["latency"]["p50"] <= TARGET_PUBLISH_TO_QUEUE_P50_MS
    add("   one client: publish, then receive (n=%3d)  %8.3f %8.3f %8.3f %8.3f   <= %.0f p50  %s"
        % (sq["latency"]["n"], sq["latency"]["p50"], sq["latency"]["p90"], sq["latency"]["p99"],
           sq["latency"]["max"], TARGET_PUBLISH_TO_QUEUE_P50_MS, verdict(ok2)))
    add("     of which publish RTT                     %8.3f %8.3f %8.3f %8.3f"
        % (sq["publish_rtt"]["p50"], sq["publish_rtt"]["p90"], sq["publish_rtt"]["p99"], sq["publish_rtt"]["max"]))
    add("     of which receive RTT                     %8.3f %8.3f %8.3f %8.3f"
        % (sq["receive_rtt"]["p50"], sq["receive_rtt"]["p90"], sq["receive_rtt"]["p99"], sq["receive_rtt"]["max"]))
    if pk["over_100ms"]:
        add("   (parked receiver: %d samples over 100 ms - missed wake-ups?)" % pk["over_100ms"])
    add("")
    s, c = r["send"], r["consume"]
    add("2. queue 'work' -> python function 'sink' (batch %d, maxConcurrency %d), N=%d"
        % (BATCH_SIZE, MAX_CONCURRENCY, s["messages"]))
    add("   send: %d concurrent senders, one message per request: %.0f msg/s (%.2f s); latency ms p50 %.3f  p99 %.3f"
        % (s["concurrency"], s["messages_per_s"], s["seconds"], s["latency"]["p50"], s["latency"]["p99"]))
    line = cpu_text(s["cpu"], "send")
    if line:
        add(line)
    ok3 = c["drained"] and c["msgs_per_s"] >= TARGET_CONSUME_MSGS_PER_S
    if "overlap" in c:
        ok3 = c["drained"] and c["overlap"]["msgs_per_s"] >= TARGET_CONSUME_MSGS_PER_S
    add("   consume: %d messages (%d already in flight, held by the gated function) drained=%s"
        % (c["messages_at_start"], c["in_flight_at_start"], c["drained"]))
    if "overlap" not in c:
        add("   gate opened -> queue empty: %.3f s = %.0f msg/s   target >= %.0f msg/s  %s"
            % (c["seconds_gate_to_empty"], c["msgs_per_s"], TARGET_CONSUME_MSGS_PER_S, verdict(ok3)))
    if "msgs_per_s_from_first_drop" in c:
        add("   first observed drop -> empty: %.3f s = %.0f msg/s (counts polled every 20 ms)"
            % (c["seconds_first_drop_to_empty"], c["msgs_per_s_from_first_drop"]))
    line = cpu_text(c["cpu"], "message")
    if line:
        add(line)
    if "overlap" in c:
        add("   --overlap: consumed while sending; first send -> queue empty %.3f s = %.0f msg/s end to end"
            "   target >= %.0f msg/s  %s (bounded by the send rate)"
            % (c["overlap"]["seconds_first_send_to_empty"], c["overlap"]["msgs_per_s"], TARGET_CONSUME_MSGS_PER_S,
               verdict(ok3)))
    add("   remaining over time (s, msgs): %s" % ", ".join("%.2f:%d" % (t, v) for t, v in c["trace"]))
    print("\n".join(out))  # run_bench adds the line on the host's exit


# ---------------------------------------------------------------------------


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--concurrency", type=int, default=8, help="publishers in phase 1 (default 8)")
    ap.add_argument("--seconds", type=float, default=5.0, help="publish throughput window")
    ap.add_argument("--samples", type=int, default=200, help="publish-to-queue latency samples per mode")
    ap.add_argument("--messages", type=int, default=20000, help="N for phase 2")
    ap.add_argument("--senders", type=int, default=8, help="concurrent senders in phase 2")
    ap.add_argument("--overlap", action="store_true",
                    help="phase 2: let the function consume while sending (gate open from the start) and report "
                         "first send -> queue empty instead")
    args = parse_args(ap, budget=240.0)

    def measure(root, deadline, start_host):
        gate = os.path.join(root, "gate")
        project = os.path.join(root, "project")
        make_project(project, gate)
        host = start_host(project)
        port = host.control_port

        publish = phase_publish_throughput(host, port, args.concurrency, args.seconds, deadline)
        purge_all(port, FAN_QUEUES)
        parked = phase_publish_to_queue_parked(port, args.samples, deadline)
        purge_all(port, FAN_QUEUES)
        seq = phase_publish_then_receive(port, args.samples, deadline)
        purge_all(port, FAN_QUEUES)
        if args.overlap:
            with open(gate, "w") as f:
                f.write("open\n")
        t_send = time.perf_counter()
        send = phase_send(host, port, args.messages, args.senders, deadline)
        consume = phase_consume(host, port, gate, args.messages, deadline)
        if args.overlap:
            e2e = time.perf_counter() - t_send
            consume["overlap"] = {"seconds_first_send_to_empty": e2e, "msgs_per_s": args.messages / e2e}

        results = {
            "stratus": args.stratus,
            "cpus": os.cpu_count() or 0,
            "targets": {
                "publish_to_queue_p50_ms": TARGET_PUBLISH_TO_QUEUE_P50_MS,
                "consume_msgs_per_s": TARGET_CONSUME_MSGS_PER_S,
            },
            "publish": publish,
            "pub_to_queue_parked": parked,
            "pub_then_receive": seq,
            "send": send,
            "consume": consume,
        }
        results["pass"] = {
            "publish_to_queue_parked": parked["latency"]["p50"] <= TARGET_PUBLISH_TO_QUEUE_P50_MS,
            "publish_then_receive": seq["latency"]["p50"] <= TARGET_PUBLISH_TO_QUEUE_P50_MS,
            "consume": consume["drained"] and (consume["overlap"]["msgs_per_s"] if args.overlap
                                               else consume["msgs_per_s"]) >= TARGET_CONSUME_MSGS_PER_S,
        }
        return results

    # The deadline leaves 20 s of the budget to stop the host.
    return run_bench("messaging_bench", args, "stratus-msgbench-", 20, measure, print_table)


if __name__ == "__main__":
    sys.exit(main())

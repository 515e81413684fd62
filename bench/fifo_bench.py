#!/usr/bin/env python3
"""FIFO queue benchmark for Stratus: queue -> function throughput of a FIFO queue with 1 message group and
with 16 groups, next to a standard queue in the same run.

Starts `stratus serve` on a temporary project: queues `std` (standard), `one.fifo` and `many.fifo` (FIFO),
each consumed by the trivial Python function `sink` (batch 10, maxConcurrency 16 by default). For each
queue in turn: N messages are sent through /v1 by 8 keep-alive senders (FIFO: a unique deduplication id
each; `one.fifo` all in group g0, `many.fifo` round-robin over g0..g15) while the queue's consumers are held
(the function blocks on the queue's gate file, so only the batches already taken wait); then the gate opens
and the window runs until the queue is empty (visible + inFlight + delayed == 0, polled every 20 ms).
A FIFO group is processed one batch at a time, so `one.fifo` is serial; `many.fifo` can run up to 16
batches at once. Prints msg/s per queue and the ratios; figures only. Standard library only; the host is
stopped with SIGTERM whatever happens.

    python bench/fifo_bench.py --stratus .build/release/stratus [--messages 5000] [--json]
"""

import os
import sys
import time

from benchlib import BenchError, Client, arg_parser, cpu_per_item, parse_args, run_bench, start_callers

BATCH_SIZE = 10
GROUPS_MANY = 16

SINK_HANDLER = '''import os, time
GATES = %r
_open = set()


def handler(event, context):
    queue = event["Records"][0]["eventSourceARN"].rsplit(":", 1)[-1]
    if queue not in _open:
        gate = os.path.join(GATES, queue)
        deadline = time.time() + 110
        while not os.path.exists(gate) and time.time() < deadline:
            time.sleep(0.005)
        _open.add(queue)
    return None
'''

# (queue, groups: None for a standard queue)
PHASES = [("std", None), ("one.fifo", 1), ("many.fifo", GROUPS_MANY)]


def make_project(root, gates, concurrency):
    d = os.path.join(root, "functions", "sink")
    os.makedirs(d)
    with open(os.path.join(d, "function.yaml"), "w") as f:
        f.write("runtime: python\nhandler: app.handler\ntimeout: 120s\nscaling: {max: %d}\n" % concurrency)
    with open(os.path.join(d, "app.py"), "w") as f:
        f.write(SINK_HANDLER % gates)
    t = os.path.join(root, "triggers")
    os.makedirs(t)
    lines = ["queues:"]
    for queue, groups in PHASES:
        lines.append("  %s:" % queue)
        if groups:
            lines.append("    fifo: true")
        lines.append("    visibilityTimeout: 300s")
        lines.append("    consumer: {function: sink, batchSize: %d, maxConcurrency: %d}" % (BATCH_SIZE, concurrency))
    with open(os.path.join(t, "q.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


def total(c):
    return c.get("visible", 0) + c.get("inFlight", 0) + c.get("delayed", 0)


def phase(host, port, gates, queue, groups, n, senders, concurrency, deadline):
    per = [n // senders + (1 if i < n % senders else 0) for i in range(senders)]

    def sender(client, idx, ready):
        ready()
        for i in range(per[idx]):
            if time.perf_counter() > deadline:
                raise BenchError("out of time while sending to %s" % queue)
            body = {"body": "m-%d-%d" % (idx, i)}
            if groups:
                k = idx * (n // senders + 1) + i
                body["group"] = "g%d" % (k % groups)
                body["deduplicationId"] = "%s-%d-%d" % (queue, idx, i)
            client.call("POST", "/v1/queues/%s/messages" % queue, body, expect=(201,))

    finish = start_callers(port, senders, sender, "sender")
    t0 = time.perf_counter()
    finish(deadline)
    send_s = time.perf_counter() - t0

    c = Client(port)
    try:
        before = c.counts()[queue]
        at_start = total(before)
        if at_start != n:
            raise BenchError("%s holds %d messages after %d sends" % (queue, at_start, n))
        # Let the held consumers take what they can (for a FIFO queue: one batch per group at most).
        held = min(n, BATCH_SIZE * concurrency if not groups else BATCH_SIZE * min(groups, concurrency))
        settle = time.perf_counter() + 3
        while before.get("inFlight", 0) < held and time.perf_counter() < settle:
            time.sleep(0.02)
            before = c.counts()[queue]
        cpu0, me0 = host.cpu_seconds(), time.process_time()
        t1 = time.perf_counter()
        with open(os.path.join(gates, queue), "w") as f:
            f.write("open\n")
        left = at_start
        while time.perf_counter() < deadline:
            time.sleep(0.02)
            left = total(c.counts()[queue])
            if left == 0:
                break
        window = time.perf_counter() - t1
        cpu1, me1 = host.cpu_seconds(), time.process_time()
    finally:
        c.close()
    consumed = at_start - left
    return {
        "queue": queue,
        "groups": groups,
        "messages": n,
        "send_s": send_s,
        "send_msgs_per_s": n / send_s if send_s else float("nan"),
        "in_flight_at_gate": before.get("inFlight", 0),
        "drained": left == 0,
        "consumed": consumed,
        "consume_s": window,
        "consume_msgs_per_s": consumed / window if window else float("nan"),
        "cpu": cpu_per_item(cpu0, me0, cpu1, me1, consumed, window),
    }


def print_table(r):
    out = []
    add = out.append
    add("Stratus FIFO bench  (%s; %d CPUs)" % (r["stratus"], r["cpus"]))
    add("N=%d messages per queue, %d senders, python consumer 'sink' (returns at once), batch %d, maxConcurrency %d"
        % (r["messages"], r["senders"], BATCH_SIZE, r["concurrency"]))
    add("")
    add("%-10s %7s %12s %10s %12s %10s  %s" % ("queue", "groups", "send msg/s", "consume s", "consume msg/s",
                                              "held", "host CPU/msg"))
    for p in r["phases"]:
        cpu = p["cpu"]["host_us"] if p.get("cpu") else float("nan")
        add("%-10s %7s %12.0f %10.3f %12.0f %10d  %.0f us%s"
            % (p["queue"], p["groups"] or "-", p["send_msgs_per_s"], p["consume_s"], p["consume_msgs_per_s"],
               p["in_flight_at_gate"], cpu, "" if p["drained"] else "  NOT DRAINED (%d left)" % (p["messages"] - p["consumed"])))
    add("")
    ratios = r["ratios"]
    add("FIFO 16 groups / 1 group:   %.2fx" % ratios["many_vs_one"])
    add("FIFO 16 groups / standard:  %.2fx" % ratios["many_vs_standard"])
    add("FIFO 1 group / standard:    %.2fx" % ratios["one_vs_standard"])
    add("(held: messages the consumers had taken before the gate opened, in flight at the start of the window)")
    print("\n".join(out))


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--messages", type=int, default=5000, help="messages per queue (default 5000)")
    ap.add_argument("--senders", type=int, default=8, help="concurrent senders (default 8)")
    ap.add_argument("--concurrency", type=int, default=GROUPS_MANY, help="consumer maxConcurrency (default 16)")
    args = parse_args(ap, budget=240.0)

    def measure(root, deadline, start_host):
        gates = os.path.join(root, "gates")
        os.makedirs(gates)
        project = os.path.join(root, "project")
        make_project(project, gates, args.concurrency)
        host = start_host(project)
        phases = [phase(host, host.control_port, gates, queue, groups, args.messages, args.senders,
                        args.concurrency, deadline) for queue, groups in PHASES]
        by = {p["queue"]: p["consume_msgs_per_s"] for p in phases}
        return {
            "stratus": args.stratus,
            "cpus": os.cpu_count() or 0,
            "messages": args.messages,
            "senders": args.senders,
            "concurrency": args.concurrency,
            "phases": phases,
            "ratios": {
                "many_vs_one": by["many.fifo"] / by["one.fifo"],
                "many_vs_standard": by["many.fifo"] / by["std"],
                "one_vs_standard": by["one.fifo"] / by["std"],
            },
        }

    return run_bench("fifo_bench", args, "stratus-fifobench-", 20, measure, print_table)


if __name__ == "__main__":
    sys.exit(main())

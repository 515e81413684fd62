#!/usr/bin/env python3
"""Several Stratus hosts on one PostgreSQL: messages/s, database round trips per message and host CPU per message,
for 1, 2 and 3 hosts on one database, with one host on SQLite beside them, measured in the same run.

A throwaway PostgreSQL cluster is started for the run (initdb in a temporary directory, a server on a free
127.0.0.1 port with pg_stat_statements; as root the cluster belongs to the `postgres` user). For each setup a
fresh database (or SQLite state directory) and fresh hosts (`stratus serve --store postgres://…`) serve the same
project: a queue `work` consumed by a trivial Python function in batches of 10 (maxConcurrency 2 per host).
--threads (4) boto3 clients, spread over the hosts, send --messages N (20,000) with SendMessageBatch (10 per call);
the figure is N / (time from the first send to the queue being empty: every message consumed and deleted).

Round trips are the statements the database ran (pg_stat_statements' calls, reset before each setup; BEGIN and
COMMIT count): with batches of 10 the target is <= 0.3 per message; the floor is 0.2 (a send, and one statement that
deletes a consumer's finished batch and receives its next).
Host CPU is each host process's user+system time over the run, per message (the Python workers not included).
On this 2-core machine the hosts, their workers, the clients and PostgreSQL share the CPU: more hosts do not add
cores, they show what sharing one database costs.

    bench/cluster_bench.py [--stratus PATH] [--messages N] [--threads T]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import benchlib

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A throwaway cluster; `psql(sql, db)` runs one statement and returns its output."""

    def __init__(self):
        versions = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: int(v) if v.isdigit() else 0)
        self.bin = "/usr/lib/postgresql/%s/bin" % versions[-1]
        self.dir = tempfile.mkdtemp(prefix="stratus-bench-pg-")
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.run("initdb", "-D", self.dir + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements "
                   "-c pg_stat_statements.track_utility=on -c max_connections=200" % (self.port, self.dir))
        self.run("pg_ctl", "-D", self.dir + "/data", "-o", options, "-l", self.dir + "/log", "-w", "start")

    def run(self, program, *args):
        subprocess.run(self.as_postgres + [self.bin + "/" + program, *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def psql(self, sql, db="postgres"):
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db, "-tAc", sql],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def url(self, db):
        return "postgres://postgres@127.0.0.1:%d/%s?sslmode=disable" % (self.port, db)

    def stop(self):
        subprocess.run(self.as_postgres + [self.bin + "/pg_ctl", "-D", self.dir + "/data", "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def write_project(root):
    os.makedirs(root + "/functions/sink")
    os.makedirs(root + "/triggers")
    with open(root + "/functions/sink/function.yaml", "w") as f:
        f.write("runtime: python\nhandler: app.handler\ntimeout: 10s\nscaling: {max: 4}\n")
    with open(root + "/functions/sink/app.py", "w") as f:
        f.write("def handler(event, context):\n    return None\n")
    with open(root + "/triggers/queues.yaml", "w") as f:
        f.write("queues:\n  work:\n    visibilityTimeout: 30s\n"
                "    consumer: {function: sink, batchSize: 10, maxConcurrency: 2}\n")


def start_hosts(binary, project, count, store, work):
    hosts = []
    for i in range(count):
        extra = ["--state", "%s/state-%d" % (work, i)]
        if store:
            extra += ["--store", store]
        host = benchlib.Host(binary, project, extra_args=extra)
        host.wait_ready(60)
        hosts.append(host)
    return hosts


def queue_empty(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/v1/queues" % port, timeout=10) as r:
        queues = json.load(r)["queues"]
    counts = next(q["counts"] for q in queues if q["name"] == "work")
    return counts["visible"] + counts["inFlight"] + counts["delayed"] == 0


def measure(binary, pg, hosts_count, messages, threads, sqlite=False):
    import boto3
    work = tempfile.mkdtemp(prefix="stratus-bench-cluster-")
    project = work + "/project"
    write_project(project)
    db = None
    if not sqlite:
        db = "b%d_%d" % (hosts_count, int(time.time() * 1000) % 1_000_000)
        pg.psql("CREATE DATABASE %s" % db)
    hosts = start_hosts(binary, project, hosts_count, None if sqlite else pg.url(db), work)
    try:
        ports = [h.control_port for h in hosts]
        if not sqlite:
            pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db)
            pg.psql("SELECT pg_stat_statements_reset()", db)
        cpu0 = [h.cpu_seconds()[0] for h in hosts]
        per_thread = messages // threads
        body = "x" * 100
        errors = []

        def sender(index):
            port = ports[index % len(ports)]
            sqs = boto3.client("sqs", endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                               aws_access_key_id="test", aws_secret_access_key="test")
            url = "http://127.0.0.1:%d/000000000000/work" % port
            for start in range(0, per_thread, 10):
                entries = [{"Id": str(i), "MessageBody": body} for i in range(min(10, per_thread - start))]
                answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
                if answer.get("Failed"):
                    errors.append(answer["Failed"])

        started = time.monotonic()
        workers = [threading.Thread(target=sender, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        sent = time.monotonic()
        deadline = sent + 300
        while not queue_empty(ports[0]):
            if time.monotonic() > deadline:
                raise benchlib.BenchError("the queue did not drain in 300 s")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        total = per_thread * threads
        cpu1 = [h.cpu_seconds()[0] for h in hosts]
        trips = None
        top = []
        if not sqlite:
            top = pg.psql("SELECT calls || ' ' || regexp_replace(left(query, 90), '\\s+', ' ', 'g') FROM pg_stat_statements "
                          "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '%s') ORDER BY calls DESC LIMIT 6"
                          % db, db).splitlines()
            trips = int(pg.psql("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = "
                                "(SELECT oid FROM pg_database WHERE datname = '%s')" % db, db))
        return {
            "setup": "SQLite, 1 host" if sqlite else "PostgreSQL, %d host%s" % (hosts_count, "s" * (hosts_count > 1)),
            "messages": total, "rate": total / elapsed, "send_rate": total / (sent - started),
            "trips": None if trips is None else trips / total,
            "cpu": [(b - a) * 1e6 / total for a, b in zip(cpu0, cpu1)], "errors": len(errors), "top": top,
        }
    finally:
        for h in hosts:
            h.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stratus", default=benchlib.DEFAULT_STRATUS)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    if not os.access(args.stratus, os.X_OK):
        sys.exit("stratus binary not found: %s" % args.stratus)
    pg = Postgres()
    rows = []
    try:
        rows.append(measure(args.stratus, pg, 1, args.messages, args.threads, sqlite=True))
        for n in (1, 2, 3):
            rows.append(measure(args.stratus, pg, n, args.messages, args.threads))
    finally:
        pg.stop()
    print("\nQueue -> trivial Python function, SendMessageBatch x10 from %d boto3 threads, %d messages, batch 10"
          % (args.threads, args.messages))
    print("%-22s %12s %12s %16s  %s" % ("setup", "msg/s", "sent msg/s", "round trips/msg", "host CPU per message"))
    for r in rows:
        trips = "-" if r["trips"] is None else "%.3f" % r["trips"]
        cpu = ", ".join("%.0f us" % c for c in r["cpu"])
        print("%-22s %12.0f %12.0f %16s  %s%s" % (r["setup"], r["rate"], r["send_rate"], trips, cpu,
                                                 "  (%d failed entries)" % r["errors"] if r["errors"] else ""))
    for r in rows:
        if r["top"]:
            print("\n%s: statements by calls" % r["setup"])
            for line in r["top"]:
                print("  " + line)
    print("target: <= 0.3 round trips per message with batch 10: %s" % benchlib.verdict(
        all(r["trips"] is None or r["trips"] <= 0.3 for r in rows)))


if __name__ == "__main__":
    main()

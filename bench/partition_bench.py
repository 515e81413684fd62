#!/usr/bin/env python3
"""Partition benchmark for Stratus: one of two hosts on a shared PostgreSQL database is cut off from the
database mid-load by a network partition, then reconnected.

    sudo .venv/bin/python bench/partition_bench.py --stratus .build/release/stratus [--messages 5000] [--json]

Linux only, run as root (network namespaces, veth pairs, PostgreSQL under `runuser -u postgres`); standard
library only. Everything it creates is removed on exit, on errors and on Ctrl-C too (`--keep` keeps the temp
dir with the hosts' logs and the sink file). ~1 min with the defaults, bounded by --budget.

Set-up
  * A throwaway PostgreSQL cluster (initdb in a temp dir owned by `postgres`, binaries from
    /usr/lib/postgresql/N/bin or PATH), listening on 127.0.0.1 and on 10.77.0.1, trust auth for 10.77.0.0/24.
  * A network namespace with two veth pairs to the root namespace: the *database link* (10.77.0.1 root side,
    10.77.0.2 namespace side) and the *client link* (10.77.1.1 / 10.77.1.2).
  * Host A in the root namespace (database at 127.0.0.1, control on 127.0.0.1); host B in the namespace
    (database at 10.77.0.1 over the database link, control on 10.77.1.2:8081 over the client link, so clients
    keep reaching B while it cannot reach its database). Both share one project dir: topic `in` → queue `work`
    (visibilityTimeout 5s) → Python function `sink` (batch 10, maxConcurrency 2 per host), which appends
    `MessageId host time` per record to one file with O_APPEND writes (`host` is A or B, from the worker's
    network namespace). B is started first and made the leader (`--leader a` to keep A as leader).

Load and partition
  * `--publishers` (8) threads publish `--messages` messages at `--rate` (100/s; 0 = as fast as they can),
    round robin over A and B; a publish that fails (503, other status, connection error, no answer within
    `--timeout` s) is retried on the other host until one acknowledges it (201).
  * Once a third (`--cut-at`) of the messages are acknowledged, the database link is cut for `--cut` (20) s by
    setting its root-side end down. Both ends keep permanent neighbour entries and the root side a blackhole
    route, so B's packets to PostgreSQL and PostgreSQL's to B vanish silently (no reset, no ICMP): a
    partition as a dead switch makes it, not a refused connection. The bench checks from B's namespace that a
    TCP connect to PostgreSQL times out during the cut and succeeds after it. No iptables/nft needed.
  * Meanwhile `GET /v1/status` is polled on A and on B every 0.5 s: leader, B's heartbeat as A sees it, and
    whether B answers at all.

The load ends when every message is acknowledged, or when none has been for `--stall` (60) s after the restore
(the table then says STALLED and shows PostgreSQL's sessions at that moment). The bench then waits (`--drain`,
120 s) until every acknowledged MessageId is in the sink file. If B has not yet acknowledged a publish, sent a
heartbeat and run a batch since the link came back, it then trickles publishes through B (up to 60 s) until it
has, so that *B recovered* is measured whatever the load did. Then both hosts get SIGTERM (they must exit 0).

The table
  * *phases*: before the cut / during it / after it (until the load's last publish or delivery): length,
    publishes acknowledged per second, first deliveries per second, publish attempts per host by outcome (ok,
    503, timeout, other) and B's publish latency p50/max, both counted in the phase the answer (or the client's
    timeout) came in, sink batches run by A and by B.
  * *delivery*: acknowledged, delivered, duplicates (extra runs of an acknowledged message: at least once),
    *delivered, never acknowledged* (stored, but the client gave up on the answer and published again on the
    other host; allowed), *missing* (acknowledged, never delivered: must be 0, the exit status is 1 otherwise).
  * *takeover*: the backlog at the cut (acknowledged, not yet delivered) and when all of it was delivered;
    messages B ran from 1 s before the cut on that A ran again (B could not delete them: their visibility
    timeout expired); B's first failed answer and first 503; B's publishes under way at the cut and at the
    restore, by outcome; B's /v1/status answers during the cut; B's heartbeat as A saw it (last before the cut,
    first after); when B answered, acknowledged a publish and ran a batch again; the leader as A's
    /v1/status lists it (a host's own heartbeat writes its row's flag) and by both hosts' logs (whole seconds),
    with the time both led at once; PostgreSQL's sessions 1 s before the restore (per host and state, lock
    waits and who blocks them, transactions open 2 s or more).
B runs under `ip netns exec`, which mounts a sysfs of the namespace's own without the cgroup tree: B's workers
are isolated by process group rather than by cgroup (its banner says so); this does not change the figures.
Times marked `+` are seconds from the cut, `r+` seconds from the restore. Figures depend on the machine's load.
"""

import datetime
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import BenchError, arg_parser, descendant_pids, parse_args, pct

TOKEN_BYTES = 16
B_CONTROL_PORT = 8081  # the namespace is new: nothing else listens there

SINK_HANDLER = '''import json, os, time
SINK = %r
ROOT_NET = %r
# Workers run in their host's network namespace: A's is the bench's, B's the partition namespace.
HOST = "A" if os.readlink("/proc/self/ns/net") == ROOT_NET else "B"


def handler(event, context):
    now = time.time()
    lines = "".join("%%s %%s %%.3f\\n" %% (json.loads(r["body"])["MessageId"], HOST, now) for r in event["Records"])
    fd = os.open(SINK, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, lines.encode())
    finally:
        os.close(fd)
'''
SINK_YAML = "runtime: python\nhandler: app.handler\ntimeout: 5s\nscaling: {max: 4}\n"
FLOW_YAML = """topics:
  in:
    subscriptions:
      - queue: work
queues:
  work:
    visibilityTimeout: 5s
    consumer: {function: sink, batchSize: 10, maxConcurrency: 2}
"""

SESSION_COLUMNS = ("pid", "client", "state", "wait", "xact_s", "blocked_by", "query")
SESSIONS_SQL = r"""
SELECT pid, coalesce(host(client_addr), 'local'), coalesce(state, ''),
       coalesce(wait_event_type || ':' || wait_event, ''),
       coalesce(extract(epoch FROM now() - xact_start)::int, -1),
       array_to_string(pg_blocking_pids(pid), ','), left(regexp_replace(query, '\s+', ' ', 'g'), 200)
FROM pg_stat_activity
WHERE datname = 'stratus' AND pid <> pg_backend_pid() AND backend_type = 'client backend'
ORDER BY xact_start NULLS LAST
"""

# ---------------------------------------------------------------------------
# small helpers


def run(argv, check=True, timeout=60):
    """Runs argv (stdin from /dev/null), returns its stdout; BenchError with its output if it fails."""
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise BenchError("%s failed (%d): %s" % (" ".join(argv), p.returncode, (p.stderr or p.stdout).strip()))
    return p.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class Cleanup:
    """Steps run in reverse order of registration, each once, whatever the others do."""

    def __init__(self):
        self.steps = []

    def add(self, label, fn):
        self.steps.append((label, fn))

    def run(self):
        while self.steps:
            label, fn = self.steps.pop()
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                sys.stderr.write("cleanup: %s: %s\n" % (label, e))


# ---------------------------------------------------------------------------
# PostgreSQL


def pg_binaries():
    """The directory of initdb and pg_ctl: Debian keeps them under /usr/lib/postgresql/N/bin."""
    base = "/usr/lib/postgresql"
    versions = sorted((v for v in (os.listdir(base) if os.path.isdir(base) else []) if v.isdigit()), key=int)
    for v in reversed(versions):
        if os.access(os.path.join(base, v, "bin", "initdb"), os.X_OK):
            return os.path.join(base, v, "bin")
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise BenchError("PostgreSQL's initdb was not found (install Debian's postgresql package)")


class Postgres:
    """initdb + pg_ctl start as `postgres` in a temp dir of its own; a database `stratus`."""

    def __init__(self, listen, hba_subnet, cleanup):
        self.bin = pg_binaries()
        self.runuser = shutil.which("runuser")
        if not self.runuser:
            raise BenchError("runuser not found")
        user = pwd.getpwnam("postgres")
        self.dir = tempfile.mkdtemp(prefix="stratus-part-pg-")
        cleanup.add("remove the PostgreSQL dir", lambda: shutil.rmtree(self.dir, ignore_errors=True))
        os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.port = free_port()
        self.pg("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        # --auth=trust covers the local socket and 127.0.0.1/::1 only: B comes from the namespace's address.
        with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
            f.write("host all all %s trust\n" % hba_subnet)
        options = " ".join([
            "-p %d" % self.port, "-k %s" % self.dir, "-c listen_addresses=%s" % ",".join(listen),
            "-c fsync=off", "-c full_page_writes=off", "-c max_connections=200",
        ])
        cleanup.add("stop PostgreSQL", self.stop)
        self.pg("pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "-t", "60", "start")
        self.pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "stratus")

    def pg(self, program, *args):
        # pg_ctl's server inherits stdout: a file, not a pipe that would stay open.
        out = os.path.join(self.dir, program + ".out")
        with open(out, "w") as f:
            code = subprocess.call([self.runuser, "-u", "postgres", "--", os.path.join(self.bin, program), *args],
                                   stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, timeout=120)
        if code != 0:
            raise BenchError("%s failed (%d): %s" % (program, code, tail(out) + tail(self.log)))

    def sessions(self):
        """The database's client sessions from pg_stat_activity: dicts of SESSION_COLUMNS; [] if psql fails."""
        argv = [self.runuser, "-u", "postgres", "--", os.path.join(self.bin, "psql"), "-X", "-q", "-At", "-F", "\t",
                "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "stratus", "-c", SESSIONS_SQL]
        try:
            out = run(argv, timeout=15)
        except (BenchError, subprocess.TimeoutExpired):
            return []
        rows = [dict(zip(SESSION_COLUMNS, line.split("\t"))) for line in out.splitlines() if line.strip()]
        for row in rows:
            row["xact_s"] = int(row["xact_s"])
        return rows

    def url(self, host):
        return "postgres://postgres@%s:%d/stratus?sslmode=disable" % (host, self.port)

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.pg("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")


# ---------------------------------------------------------------------------
# the namespace and its links


class Partition:
    """Namespace NS with a database link (root D0 = .0.1, NS D1 = .0.2) and a client link (C0 = .1.1,
    C1 = .1.2); cut() sets D0 down, restore() sets it up again."""

    def __init__(self, prefix, cleanup):
        tag = str(os.getpid())
        self.ns = "stratus-part-" + tag
        self.d0, self.d1, self.c0, self.c1 = ("sp%s%s" % (tag, s) for s in ("d0", "d1", "c0", "c1"))
        self.db_root, self.db_ns = prefix + ".0.1", prefix + ".0.2"
        self.cl_root, self.cl_ns = prefix + ".1.1", prefix + ".1.2"
        self.db_net = prefix + ".0.0/24"
        self.is_cut = False
        taken = [a for a in run(["ip", "-4", "-o", "addr"]).split() if a.startswith(prefix + ".")]
        if taken:
            raise BenchError("%s.* is in use on this machine (%s): pick another --subnet" % (prefix, taken[0]))
        ns = ["ip", "-n", self.ns]
        cleanup.add("delete the namespace", lambda: run(["ip", "netns", "del", self.ns], check=False))
        run(["ip", "netns", "add", self.ns])
        for root_end, ns_end, root_ip, ns_ip in ((self.d0, self.d1, self.db_root, self.db_ns),
                                                 (self.c0, self.c1, self.cl_root, self.cl_ns)):
            cleanup.add("delete " + root_end, lambda e=root_end: run(["ip", "link", "del", e], check=False))
            run(["ip", "link", "add", root_end, "type", "veth", "peer", "name", ns_end, "netns", self.ns])
            run(["ip", "addr", "add", root_ip + "/24", "dev", root_end])
            run(["ip", "link", "set", root_end, "up"])
            run(ns + ["addr", "add", ns_ip + "/24", "dev", ns_end])
            run(ns + ["link", "set", ns_end, "up"])
        run(ns + ["link", "set", "lo", "up"])
        # A silent cut: with permanent neighbour entries no ARP failure tells B's kernel the peer is gone
        # (B's packets are dropped by the link without carrier), and while D0 is down the root side's packets
        # for B end in a blackhole instead of leaving by the default route.
        run(ns + ["neigh", "replace", self.db_root, "lladdr", self.mac(self.d0), "dev", self.d1, "nud", "permanent"])
        run(["ip", "neigh", "replace", self.db_ns, "lladdr", self.mac(self.d1, self.ns), "dev", self.d0,
             "nud", "permanent"])
        run(["ip", "route", "add", "blackhole", self.db_net, "metric", "4242"])
        cleanup.add("delete the blackhole route",
                    lambda: run(["ip", "route", "del", "blackhole", self.db_net, "metric", "4242"], check=False))

    @staticmethod
    def mac(dev, ns=None):
        out = run(["ip"] + (["-n", ns] if ns else []) + ["-o", "link", "show", dev])
        m = re.search(r"link/ether ([0-9a-f:]{17})", out)
        if not m:
            raise BenchError("no MAC address for %s: %s" % (dev, out))
        return m.group(1)

    def cut(self):
        self.is_cut = True
        run(["ip", "link", "set", self.d0, "down"])

    def restore(self):
        run(["ip", "link", "set", self.d0, "up"])
        self.is_cut = False

    def connect_from_ns(self, port, timeout=1.5):
        """Whether a TCP connect from the namespace to PostgreSQL succeeds ('ok'), or how it fails."""
        code = ("import socket\ntry:\n socket.create_connection((%r, %d), timeout=%r).close(); print('ok')\n"
                "except Exception as e:\n print(type(e).__name__)" % (self.db_root, port, timeout))
        return run(["ip", "netns", "exec", self.ns, sys.executable, "-c", code], check=False).strip()


# ---------------------------------------------------------------------------
# hosts


class StratusHost:
    """`stratus serve` (under `ip netns exec` when `ns`), output to a log file; ready once it says Ready."""

    def __init__(self, name, binary, project, store, control, state, token, log, ns=None):
        self.name = name
        self.log = log
        argv = [binary, "serve", project, "--store", store, "--http", "127.0.0.1:0", "--control", control,
                "--state", state, "--token", token, "--drain-timeout", "5s"]
        if shutil.which("stdbuf"):
            argv = ["stdbuf", "-oL", "-eL"] + argv  # a host killed with SIGKILL keeps its last lines in the log
        if ns:
            argv = ["ip", "netns", "exec", ns] + argv  # each execs the next: the pid is the host's
        with open(log, "w") as f:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
        self.addr = self.port = None
        self.id = None
        self.exit_code = None
        self.stop_s = None

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = tail(self.log, 200)
            m = re.search(r"^\s*control\s+http://([0-9.]+):(\d+)", text, re.M)
            if m:
                self.addr, self.port = m.group(1), int(m.group(2))
            if self.port and re.search(r"^Ready\.$", text, re.M):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise BenchError("host %s did not become ready:\n%s" % (self.name, tail(self.log)))

    def stop(self, timeout=30):
        """SIGTERM, SIGKILL after `timeout` s; then SIGKILL whatever of its workers is left. Exit code."""
        if self.exit_code is not None:
            return self.exit_code
        children = descendant_pids(self.proc.pid)
        started = time.time()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.stop_s = time.time() - started
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.exit_code = self.proc.returncode
        return self.exit_code


class Conn:
    """A keep-alive connection to one host's control plane; reopened after any error."""

    def __init__(self, host, token, timeout):
        self.host, self.timeout = host, timeout
        self.headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        self.conn = None

    def call(self, method, path, body=None):
        """(status, decoded JSON or None); raises OSError/HTTPException (TimeoutError: no answer in time)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host.addr, self.host.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, None if body is None else json.dumps(body).encode(), self.headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except Exception:
            self.close()
            raise
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ---------------------------------------------------------------------------
# the run


class Run:
    """Shared state of one run: times, acknowledgements, publish attempts, status samples."""

    def __init__(self, args, hosts, token):
        self.args = args
        self.hosts = hosts  # [A, B]
        self.token = token
        self.lock = threading.Lock()
        self.stop = threading.Event()  # the status monitors
        self.halt = threading.Event()  # the publishers
        self.next = 0
        self.acks = []  # (time, host name, messageId)
        self.attempts = []  # (start, end, host name, outcome, messageId or None)
        self.status = {"A": [], "B": []}  # (time, status or exception name, cluster or None)
        self.t_load = self.t_cut = self.t_restore = self.t_load_end = self.t_probe = self.t_stop = None

    def publisher(self, idx):
        conns = {h.name: Conn(h, self.token, self.args.timeout) for h in self.hosts}
        turn = idx
        try:
            while not self.halt.is_set():
                with self.lock:
                    n = self.next
                    self.next += 1
                if n >= self.args.messages:
                    return
                if self.args.rate > 0:
                    wait = self.t_load + n / self.args.rate - time.time()
                    if wait > 0:
                        time.sleep(wait)
                while not self.halt.is_set():
                    host = self.hosts[turn % 2]
                    turn += 1
                    if self.publish_once(conns[host.name], host, "message %d" % n):
                        break
                    time.sleep(0.02)  # then the other host
        finally:
            for c in conns.values():
                c.close()

    def publish_once(self, conn, host, text):
        """One attempt; records it (and the acknowledgement). True when acknowledged."""
        start = time.time()
        mid = None
        try:
            status, body = conn.call("POST", "/v1/topics/in/publish", {"message": text})
            if status == 201 and body and body.get("messageId"):
                outcome, mid = "ok", body["messageId"]
            else:
                outcome = str(status)
        except TimeoutError:
            outcome = "timeout"
        except (OSError, http.client.HTTPException) as e:
            outcome = type(e).__name__
        end = time.time()
        with self.lock:
            self.attempts.append((start, end, host.name, outcome, mid))
            if mid:
                self.acks.append((end, host.name, mid))
        return mid is not None

    def monitor(self, host):
        conn = Conn(host, self.token, 3.0)
        while not self.stop.is_set():
            t = time.time()
            try:
                status, body = conn.call("GET", "/v1/status")
                sample = (t, status, (body or {}).get("cluster") if status == 200 else None)
            except TimeoutError:
                sample = (t, "timeout", None)
            except (OSError, http.client.HTTPException) as e:
                sample = (t, type(e).__name__, None)
            with self.lock:
                self.status[host.name].append(sample)
            self.stop.wait(max(0.0, 0.5 - (time.time() - t)))
        conn.close()

    def acked(self):
        with self.lock:
            return len(self.acks)


def b_heartbeats(r, b_id):
    """B's heartbeatAtMs (as seconds) in each of A's status samples; call with r.lock held."""
    for _, _, cluster in r.status["A"]:
        for h in (cluster or {}).get("hosts", []):
            if h.get("id") == b_id:
                yield h.get("heartbeatAtMs", 0) / 1000.0


def read_sink(path):
    """[(messageId, host, time)] from the sink file (a torn last line is left for the next read)."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if line.endswith("\n") and len(parts) == 3:
                    out.append((parts[0], parts[1], float(parts[2])))
    except OSError:
        pass
    return out


def make_project(root, sink):
    fn = os.path.join(root, "functions", "sink")
    os.makedirs(fn)
    with open(os.path.join(fn, "function.yaml"), "w") as f:
        f.write(SINK_YAML)
    with open(os.path.join(fn, "app.py"), "w") as f:
        f.write(SINK_HANDLER % (sink, os.readlink("/proc/self/ns/net")))
    os.makedirs(os.path.join(root, "triggers"))
    with open(os.path.join(root, "triggers", "flow.yaml"), "w") as f:
        f.write(FLOW_YAML)


def leader_of(cluster):
    for h in (cluster or {}).get("hosts", []):
        if h.get("leader"):
            return h.get("id")
    return None


def wait_for(predicate, timeout, every=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None


def status_once(host, token, timeout=3.0):
    conn = Conn(host, token, timeout)
    try:
        status, body = conn.call("GET", "/v1/status")
        return (body or {}).get("cluster") if status == 200 else None
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def measure(args, cleanup):
    root = tempfile.mkdtemp(prefix="stratus-part-")
    if args.keep:
        cleanup.add("keep the temp dir", lambda: sys.stderr.write("kept %s\n" % root))
    else:
        cleanup.add("remove the temp dir", lambda: shutil.rmtree(root, ignore_errors=True))
    part = Partition(args.subnet, cleanup)
    pg = Postgres(["127.0.0.1", part.db_root], part.db_net, cleanup)
    project = os.path.join(root, "project")
    sink = os.path.join(root, "sink.log")
    make_project(project, sink)
    token = os.urandom(TOKEN_BYTES).hex()
    binary = os.path.abspath(args.stratus)

    def host(name):
        ns = name == "B"
        h = StratusHost(
            name, binary, project, pg.url(part.db_root if ns else "127.0.0.1"),
            "%s:%d" % (part.cl_ns, B_CONTROL_PORT) if ns else "127.0.0.1:0", os.path.join(root, "state-" + name),
            token, os.path.join(root, "host-%s.log" % name), part.ns if ns else None)
        cleanup.add("stop host " + name, h.stop)
        h.wait_ready()
        cluster = wait_for(lambda: status_once(h, token), 30)
        if not cluster:
            raise BenchError("host %s: no /v1/status:\n%s" % (name, tail(h.log)))
        h.id = cluster["thisHost"]
        return h

    # The first host started takes the leader's lock.
    first = host("B" if args.leader == "b" else "A")
    if not wait_for(lambda: leader_of(status_once(first, token)) == first.id, 30):
        raise BenchError("host %s did not become leader" % first.name)
    second = host("A" if first.name == "B" else "B")
    a, b = (first, second) if first.name == "A" else (second, first)
    if not wait_for(lambda: len((status_once(a, token) or {}).get("hosts", [])) >= 2, 30):
        raise BenchError("A does not see two hosts")
    names = {a.id: "A", b.id: "B"}
    # Interrupted during the cut: reconnect B before the hosts are stopped, so that B can stop cleanly.
    cleanup.add("reconnect B", lambda: part.restore() if part.is_cut else None)
    lease_ms = status_once(a, token).get("leaseMs")

    r = Run(args, [a, b], token)
    checks = {}
    sessions = {}  # pg_stat_activity snapshots
    stalled = None
    r.t_load = time.time()
    threads = [threading.Thread(target=r.monitor, args=(h,), daemon=True) for h in (a, b)]
    pubs = [threading.Thread(target=r.publisher, args=(i,), daemon=True) for i in range(args.publishers)]
    for t in threads + pubs:
        t.start()
    try:
        budget_end = STARTED + args.budget - 90  # room to stop hosts
        if not wait_for(lambda: r.acked() >= args.cut_at * args.messages, budget_end - time.time(), 0.02):
            raise BenchError("only %d of %d acknowledged before the cut" % (r.acked(), args.messages))
        acked_at_cut = r.acked()
        part.cut()
        r.t_cut = time.time()
        checks["during"] = part.connect_from_ns(pg.port)
        time.sleep(max(0.0, r.t_cut + args.cut - 1.0 - time.time()))
        sessions["1 s before the restore"] = pg.sessions()
        time.sleep(max(0.0, r.t_cut + args.cut - time.time()))
        part.restore()
        r.t_restore = time.time()
        checks["after"] = wait_for(lambda: part.connect_from_ns(pg.port) == "ok" and "ok", 10) or "failed"
        # The load ends when every message is acknowledged, or when none has been for --stall s after the restore.
        while any(t.is_alive() for t in pubs):
            pubs[0 if pubs[0].is_alive() else -1].join(timeout=0.5)
            with r.lock:
                last = max([r.t_restore] + [t for t, _, _ in r.acks[-1:]])
            if time.time() - last > args.stall or time.time() > budget_end - args.drain:
                stalled = time.time() - r.t_restore
                sessions["at the stall"] = pg.sessions()
                r.halt.set()
                break
        r.t_load_end = time.time()

        # Every acknowledged message delivered?
        expected = {m for _, _, m in r.acks}
        drained = wait_for(lambda: expected <= {m for m, _, _ in read_sink(sink)},
                           min(10 if stalled is not None else args.drain, budget_end - time.time()), 0.25)
        t_drained = time.time() if drained else None
        if not drained and stalled is None:
            sessions["after the drain timed out"] = pg.sessions()

        # B back? It must acknowledge a publish, heartbeat and run a batch again: if the load ended before it
        # did all three, trickle probes through B (up to 60 s) until it has.
        def b_recovered():
            with r.lock:
                acked = any(h == "B" and t >= r.t_restore for t, h, _ in r.acks)
                beat = any(hb >= r.t_restore for hb in b_heartbeats(r, b.id))
            ran = any(h == "B" and t >= r.t_restore for _, h, t in read_sink(sink))
            return acked and beat and ran

        probes = 0
        r.t_probe = time.time()
        conn = Conn(b, token, args.timeout)
        deadline = min(time.time() + 60, budget_end)
        while stalled is None and not b_recovered() and time.time() < deadline:
            r.publish_once(conn, b, "probe %d" % probes)
            probes += 1
            time.sleep(0.2)
        conn.close()
        if probes:
            expected = {m for _, _, m in r.acks}
            wait_for(lambda: expected <= {m for m, _, _ in read_sink(sink)}, min(30, budget_end - time.time()), 0.25)
        time.sleep(1.0)  # one more status sample of each
    finally:
        r.halt.set()
        r.stop.set()
    for t in threads:
        t.join(timeout=5)
    stops = {}
    r.t_stop = time.time()
    for h in (a, b):
        code = h.stop()
        stops[h.name] = {"exit": code, "seconds": h.stop_s}
        if code != 0:
            sys.stderr.write("host %s exited with %s; last output:\n%s\n" % (h.name, code, tail(h.log, 40)))
    results = summarize(r, read_sink(sink), names, acked_at_cut, t_drained, probes, checks, lease_ms)
    results["stops"] = stops
    results["stalled_after_restore_s"] = stalled
    results["stall_s"] = args.stall
    results["sessions"] = sessions
    results["client_names"] = {"127.0.0.1": "A", part.db_ns: "B", "local": "local"}
    results["pg_log_errors"] = sum(1 for line in tail(pg.log, 100000).splitlines()
                                   if "FATAL" in line or "ERROR" in line)
    return results


# ---------------------------------------------------------------------------
# figures


LEADER_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}) .*\bhost \S+ (was elected leader|lost the leadership)")


def leadership(r, names):
    """Each host's terms as leader by its own log ([elected, lost) in seconds from the cut, whole seconds: the
    log's resolution), up to when the bench began stopping the hosts; and how long both held it at once."""
    terms = {}
    for h in r.hosts:
        events = []
        try:
            with open(h.log, errors="replace") as f:
                for line in f:
                    m = LEADER_LINE.match(line)
                    if m:
                        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S%z").timestamp()
                        events.append((t, m.group(2).startswith("was")))
        except OSError:
            pass
        spans, since = [], None
        for t, elected in events:
            if t >= int(r.t_stop):  # logged in the second the hosts were told to stop, or later
                break
            if elected and since is None:
                since = t
            elif not elected and since is not None:
                spans.append((since, t))
                since = None
        if since is not None:
            spans.append((since, r.t_stop))
        terms[h.name] = spans
    both = sum(max(0.0, min(a1, b1) - max(a0, b0)) for a0, a1 in terms["A"] for b0, b1 in terms["B"])
    return {"terms": {n: [(t0 - r.t_cut, t1 - r.t_cut if t1 < r.t_stop else None) for t0, t1 in spans]
                      for n, spans in terms.items()},
            "both_seconds": both}


def summarize(r, deliveries, names, acked_at_cut, t_drained, probes, checks, lease_ms):
    cut, restore = r.t_cut, r.t_restore
    acked = {}
    for t, h, m in r.acks:
        acked.setdefault(m, (t, h))
    runs = {}
    for m, h, t in deliveries:
        runs.setdefault(m, []).append((t, h))
    for v in runs.values():
        v.sort()
    first = {m: v[0][0] for m, v in runs.items()}
    missing = [m for m in acked if m not in runs]
    # The phases end with the load's last publish or delivery; the probes after it are not counted in them.
    end = max([r.t_load_end] + [t for v in runs.values() for t, _ in v if t < r.t_probe])

    def phase_of(t):
        return None if t >= r.t_probe else "before" if t < cut else "during" if t < restore else "after"

    bounds = {"before": (r.t_load, cut), "during": (cut, restore), "after": (restore, end)}
    phases = {}
    for name, (t0, t1) in bounds.items():
        p = {"seconds": t1 - t0, "acked": 0, "first_deliveries": 0, "batches": {"A": set(), "B": set()},
             "attempts": {"A": {}, "B": {}}, "b_latency": []}
        phases[name] = p
    for t, _, m in r.acks:
        if phase_of(t):
            phases[phase_of(t)]["acked"] += 1
    for m, t in first.items():
        if m in acked and phase_of(t):
            phases[phase_of(t)]["first_deliveries"] += 1
    for m, v in runs.items():
        for t, h in v:
            if phase_of(t):
                phases[phase_of(t)]["batches"][h].add(t)  # one time stamp per batch
    spanning = {"cut": {}, "restore": {}}  # B's attempts under way at the cut / at the restore, by outcome
    answered_after_restore = []
    for start, stop, h, outcome, _ in r.attempts:
        if not phase_of(stop):
            continue
        p = phases[phase_of(stop)]  # where the answer (or the client's timeout) came
        kind = outcome if outcome in ("ok", "503", "timeout") else "other"
        p["attempts"][h][kind] = p["attempts"][h].get(kind, 0) + 1
        if h == "B":
            p["b_latency"].append(stop - start)
            for name, t in (("cut", cut), ("restore", restore)):
                if start < t <= stop:
                    spanning[name][kind] = spanning[name].get(kind, 0) + 1
            if start < restore <= stop and kind == "ok":
                answered_after_restore.append(stop - restore)
    for p in phases.values():
        s = p["seconds"]
        p["acked_per_s"] = p["acked"] / s if s > 0 else float("nan")
        p["delivered_per_s"] = p["first_deliveries"] / s if s > 0 else float("nan")
        p["batches"] = {h: len(ts) for h, ts in p["batches"].items()}
        lat = p.pop("b_latency")
        p["b_latency_p50_s"], p["b_latency_max_s"] = pct(lat, 50), (max(lat) if lat else float("nan"))

    # takeover
    backlog = [m for m, (t, _) in acked.items() if t < cut and first.get(m, float("inf")) >= cut]
    backlog_done = max((first[m] for m in backlog if m in first), default=None)
    retaken = []  # ran by B at/after the cut (B could not delete them), then by A
    for m, v in runs.items():
        b_runs = [t for t, h in v if h == "B" and t >= cut - 1.0]
        if b_runs:
            later = [t for t, h in v if h == "A" and t > b_runs[0]]
            if later:
                retaken.append((b_runs[0], later[0]))
    b_fail = [stop for _, stop, h, outcome, _ in r.attempts if h == "B" and stop >= cut and outcome != "ok"]
    b_503 = [stop for _, stop, h, outcome, _ in r.attempts if h == "B" and stop >= cut and outcome == "503"]
    b_ok_after = [t for t, h, _ in r.acks if h == "B" and t >= restore]
    b_ok_during = [t for t, h, _ in r.acks if h == "B" and cut <= t < restore]
    b_runs_after = [t for v in runs.values() for t, h in v if h == "B" and t >= restore]
    b_runs_during = [t for v in runs.values() for t, h in v if h == "B" and cut <= t < restore]

    # leader and heartbeats, from A's status
    timeline = []
    b_id = next(i for i, n in names.items() if n == "B")
    hb_before = hb_after = None
    max_hb_age = 0.0
    for t, status, cluster in r.status["A"]:
        if cluster is None:
            continue
        # Each host's row says whether it leads (its own heartbeat writes it): "A+B" is two rows saying so.
        leader = "+".join(sorted(names.get(h.get("id"), h.get("id")) for h in cluster.get("hosts", [])
                                 if h.get("leader"))) or "none"
        if not timeline or timeline[-1][1] != leader:
            timeline.append((t, leader))
        for h in cluster.get("hosts", []):
            if h.get("id") == b_id:
                hb = h.get("heartbeatAtMs", 0) / 1000.0
                max_hb_age = max(max_hb_age, t - hb)
                if hb < cut:
                    hb_before = max(hb_before or 0.0, hb)
                elif hb >= restore and hb_after is None:
                    hb_after = hb
    b_status = r.status["B"]
    b_status_fail = next((t for t, s, _ in b_status if t >= cut and s != 200), None)
    b_status_back = next((t for t, s, _ in b_status if t >= restore and s == 200), None)
    b_status_kinds = {}
    for t, s, _ in b_status:
        if cut <= t < restore:
            b_status_kinds[str(s)] = b_status_kinds.get(str(s), 0) + 1

    delivered_acked = [m for m in acked if m in runs]
    unacked = [m for m in runs if m not in acked]
    return {
        "messages": r.args.messages, "rate": r.args.rate, "publishers": r.args.publishers,
        "acknowledged": len(acked), "probes": probes, "acked_at_cut": acked_at_cut,
        "acked_by": {h: sum(1 for _, x in acked.values() if x == h) for h in ("A", "B")},
        "delivered": len(delivered_acked), "runs": len(deliveries),
        "duplicates": sum(len(runs[m]) - 1 for m in delivered_acked),
        "unacknowledged_delivered": len(unacked), "missing": len(missing), "missing_ids": missing[:10],
        "cut_seconds": restore - cut, "cut_check": checks, "lease_ms": lease_ms,
        "drained_after_load_s": (t_drained - r.t_load_end) if t_drained else None,
        "phases": phases,
        "backlog_at_cut": len(backlog),
        "backlog_delivered_at": None if backlog_done is None else backlog_done - cut,
        "backlog_all_delivered": all(m in first for m in backlog),
        "retaken": len(retaken),
        "retaken_first": min((a - cut for _, a in retaken), default=None),
        "retaken_last": max((a - cut for _, a in retaken), default=None),
        "b_in_flight_at_cut": spanning["cut"], "b_in_flight_at_restore": spanning["restore"],
        "b_answered_after_restore": [min(answered_after_restore, default=None),
                                     max(answered_after_restore, default=None)],
        "leadership": leadership(r, names),
        "b_first_failure": None if not b_fail else min(b_fail) - cut,
        "b_first_503": None if not b_503 else min(b_503) - cut,
        "b_acked_during_cut": len(b_ok_during),
        "b_ran_during_cut": len(set(b_runs_during)),
        "b_last_run_during_cut": max(b_runs_during, default=cut) - cut if b_runs_during else None,
        "b_first_ack_after": None if not b_ok_after else min(b_ok_after) - restore,
        "b_first_run_after": None if not b_runs_after else min(b_runs_after) - restore,
        "b_status_first_failure": None if b_status_fail is None else b_status_fail - cut,
        "b_status_back": None if b_status_back is None else b_status_back - restore,
        "b_status_during": b_status_kinds,
        "leader_timeline": [(t - cut, leader) for t, leader in timeline],
        "b_heartbeat_last_before": None if hb_before is None else hb_before - cut,
        "b_heartbeat_first_after": None if hb_after is None else hb_after - restore,
        "b_heartbeat_max_age_s": max_hb_age,
    }


def fmt(v, unit="s"):
    if v is None:
        return "n/a"
    if isinstance(v, float) and v != v:
        return "-"
    return "%.1f %s" % (v, unit) if unit else "%.1f" % v


def rel(v, base=""):
    """Seconds from the cut (`+3.0 s`) or, with base "r", from the restore (`r+3.0 s`)."""
    return "n/a" if v is None else "%s%+.1f s" % (base, v)


def session_lines(res, add, kv):
    """What PostgreSQL's pg_stat_activity showed: sessions per host by state, lock waits and who blocks them,
    and the transactions open for 2 s or more."""
    names = res["client_names"]
    for label, rows in res["sessions"].items():
        if not rows:
            add(kv % ("  database sessions " + label, "n/a (psql failed)"))
            continue
        who = {row["pid"]: names.get(row["client"], row["client"]) for row in rows}
        states = {}
        for row in rows:
            by = states.setdefault(who[row["pid"]], {})
            by[row["state"]] = by.get(row["state"], 0) + 1
        add(kv % ("  database sessions " + label, "; ".join(
            "%s %s" % (name, ", ".join("%s %d" % kv_ for kv_ in sorted(by.items())))
            for name, by in sorted(states.items()))))
        waiting = [row for row in rows if row["blocked_by"]]
        blockers = {}
        for row in waiting:
            for pid in row["blocked_by"].split(","):
                blockers[who.get(pid, "?")] = blockers.get(who.get(pid, "?"), 0) + 1
        add(kv % ("  ... waiting on a lock (blocked by)", "%d%s" % (len(waiting), " (%s)" % ", ".join(
            "%s's session %d times" % item for item in sorted(blockers.items())) if blockers else "")))
        blocking = {pid for row in waiting for pid in row["blocked_by"].split(",")}
        for row in rows:
            if row["xact_s"] >= 2 or row["pid"] in blocking:
                add("      pid %s (%s) %s%s, transaction open %s s%s: %s" % (
                    row["pid"], who[row["pid"]], row["state"], " waiting " + row["wait"] if row["wait"] else "",
                    row["xact_s"] if row["xact_s"] >= 0 else "-",
                    ", blocked by " + row["blocked_by"] if row["blocked_by"] else "", row["query"][:120]))


def outcomes(counts):
    return ", ".join("%s %d" % (k, v) for k, v in sorted(counts.items())) or "none"


def print_table(res):
    out = []
    add = out.append
    add("Stratus partition bench  (%s; %d CPUs; load average %s)"
        % (res["stratus"], os.cpu_count() or 0, res["loadavg"]))
    add("%d messages, %d publishers, %s, round robin over A and B (retry on the other host); "
        "B cut from PostgreSQL for %.1f s after %d acknowledged; lease %s ms"
        % (res["messages"], res["publishers"], "%g/s" % res["rate"] if res["rate"] else "unpaced",
           res["cut_seconds"], res["acked_at_cut"], res["lease_ms"]))
    add("cut check (TCP connect from B's namespace to PostgreSQL): during %s, after %s"
        % (res["cut_check"].get("during"), res["cut_check"].get("after")))
    if res["stalled_after_restore_s"] is not None:
        add("STALLED: no publish acknowledged for %.0f s, %.1f s after the restore: the load was stopped there "
            "(%d of %d acknowledged)" % (res["stall_s"], res["stalled_after_restore_s"], res["acknowledged"],
                                         res["messages"]))
    add("")
    hdr = "%-34s %12s %12s %12s"
    add(hdr % ("phase", "before cut", "during cut", "after cut"))
    ph = [res["phases"][p] for p in ("before", "during", "after")]

    def row(label, values):
        add(hdr % ((label,) + tuple(values)))

    row("length, s", ["%.1f" % p["seconds"] for p in ph])
    row("publishes acknowledged / s", ["%.0f" % p["acked_per_s"] for p in ph])
    row("messages first delivered / s", ["%.0f" % p["delivered_per_s"] for p in ph])
    for h in ("A", "B"):
        for kind in ("ok", "503", "timeout", "other"):
            row("publish attempts on %s: %s" % (h, kind), [str(p["attempts"][h].get(kind, 0)) for p in ph])
    row("B publish latency p50 / max, s",
        ["%s / %s" % (fmt(p["b_latency_p50_s"], ""), fmt(p["b_latency_max_s"], "")) for p in ph])
    row("sink batches run by A / B", ["%d / %d" % (p["batches"]["A"], p["batches"]["B"]) for p in ph])
    add("")
    kv = "%-58s %s"
    add("delivery")
    add(kv % ("  acknowledged (by A / by B)", "%d (%d / %d)%s" % (
        res["acknowledged"], res["acked_by"]["A"], res["acked_by"]["B"],
        ", incl. probes to B after the load (%d tried)" % res["probes"] if res["probes"] else "")))
    add(kv % ("  delivered (function runs of them)", "%d (%d runs in all)" % (res["delivered"], res["runs"])))
    add(kv % ("  duplicates (at least once)", res["duplicates"]))
    add(kv % ("  delivered, never acknowledged (answer lost)", res["unacknowledged_delivered"]))
    add(kv % ("  MISSING (acknowledged, never delivered)", "%d%s" % (
        res["missing"], "  e.g. %s" % ", ".join(res["missing_ids"]) if res["missing"] else "")))
    add(kv % ("  all delivered, after the last publish", fmt(res["drained_after_load_s"])))
    add("takeover (+ = from the cut, r+ = from the restore)")
    add(kv % ("  backlog at the cut (acked, not yet delivered)", res["backlog_at_cut"]))
    add(kv % ("  ... all of it delivered at", rel(res["backlog_delivered_at"])
              + ("" if res["backlog_all_delivered"] else " (NOT all)")))
    add(kv % ("  run by B from 1 s before the cut on, then again by A", res["retaken"]))
    if res["retaken"]:
        add(kv % ("  ... A ran the first / last of them at", "%s / %s" % (
            rel(res["retaken_first"]), rel(res["retaken_last"]))))
    add(kv % ("  B: batches run during the cut (last at)", "%d (%s)" % (
        res["b_ran_during_cut"], rel(res["b_last_run_during_cut"]))))
    add(kv % ("  B: first failed publish answer / first 503 after the cut", "%s / %s" % (
        rel(res["b_first_failure"]), rel(res["b_first_503"]))))
    add(kv % ("  B: publishes under way at the cut, by outcome", outcomes(res["b_in_flight_at_cut"])))
    add(kv % ("  B: publishes acknowledged during the cut", res["b_acked_during_cut"]))
    first, last = res["b_answered_after_restore"]
    add(kv % ("  B: publishes under way at the restore, by outcome", outcomes(res["b_in_flight_at_restore"])
              + ("; the ok ones answered %s .. %s" % (rel(first, "r"), rel(last, "r")) if first is not None
                 else "")))
    add(kv % ("  B: /v1/status during the cut", ", ".join(
        "%s x%d" % (k, v) for k, v in sorted(res["b_status_during"].items())) or "no samples"))
    add(kv % ("  B: first /v1/status not 200 / 200 again", "%s / %s" % (
        rel(res["b_status_first_failure"]), rel(res["b_status_back"], "r"))))
    add(kv % ("  B: heartbeat seen by A: last before cut / first after", "%s / %s (max age %.1f s)" % (
        rel(res["b_heartbeat_last_before"]), rel(res["b_heartbeat_first_after"], "r"),
        res["b_heartbeat_max_age_s"])))
    add(kv % ("  B: first publish acknowledged after the restore", rel(res["b_first_ack_after"], "r")))
    add(kv % ("  B: first batch run after the restore", rel(res["b_first_run_after"], "r")
              + ("" if res["b_first_run_after"] is not None else " (no work left for it?)")))
    tl = res["leader_timeline"]
    changed = len({leader for _, leader in tl}) > 1
    add(kv % ("  leader (as A's /v1/status lists the hosts)", "changed: %s; %s" % (
        "yes" if changed else "no", ", ".join("%s at %+.1f s" % (leader, t) for t, leader in tl))))
    terms = res["leadership"]["terms"]
    add(kv % ("  leader terms by the hosts' own logs (whole seconds)", "; ".join(
        "%s %s" % (name, ", ".join("%s..%s" % (rel(t0), rel(t1) if t1 is not None else "end") for t0, t1 in spans)
                   or "never") for name, spans in sorted(terms.items()))))
    add(kv % ("  both hosts leader at once (split brain)", fmt(res["leadership"]["both_seconds"])))
    session_lines(res, add, kv)
    add("")
    stops = res["stops"]
    add("hosts stopped with SIGTERM: A exit %s (%.1f s), B exit %s (%.1f s); PostgreSQL log: %d ERROR/FATAL lines"
        % (stops["A"]["exit"], stops["A"]["seconds"] or 0, stops["B"]["exit"], stops["B"]["seconds"] or 0,
           res["pg_log_errors"]))
    add("bench took %.1f s" % res["elapsed_s"])
    print("\n".join(out))


STARTED = time.time()


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--messages", type=int, default=5000, help="messages to publish (default 5000)")
    ap.add_argument("--publishers", type=int, default=8, help="publisher threads (default 8)")
    ap.add_argument("--rate", type=float, default=100.0,
                    help="publishes per second over all publishers, 0 = unpaced (default 100)")
    ap.add_argument("--cut-at", type=float, default=1 / 3,
                    help="cut once this fraction of the messages is acknowledged (default 1/3)")
    ap.add_argument("--cut", type=float, default=20.0, help="how long B is cut off, seconds (default 20)")
    ap.add_argument("--timeout", type=float, default=15.0,
                    help="client timeout per publish, seconds (default 15: above the host's 10 s wait for a "
                         "database connection, so its 503 shows)")
    ap.add_argument("--drain", type=float, default=120.0,
                    help="how long to wait for every acknowledged message to be delivered (default 120)")
    ap.add_argument("--stall", type=float, default=60.0,
                    help="end the load if nothing was acknowledged for this long after the restore (default 60)")
    ap.add_argument("--leader", choices=("a", "b"), default="b", help="which host leads at the cut (default b)")
    ap.add_argument("--subnet", default="10.77", help="first two octets of the two /24s used (default 10.77)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (hosts' logs, sink file)")
    args = parse_args(ap, budget=600.0)
    if sys.platform != "linux" or os.geteuid() != 0:
        ap.error("needs Linux and root (network namespaces, PostgreSQL under runuser)")
    if not re.fullmatch(r"\d{1,3}\.\d{1,3}", args.subnet):
        ap.error("--subnet: two octets, e.g. 10.77")
    helptext = subprocess.run([args.stratus, "serve", "--help"], capture_output=True, text=True).stdout
    if "--store" not in helptext:
        ap.error("%s has no `serve --store` (an older build?)" % args.stratus)

    cleanup = Cleanup()
    over_budget = threading.Event()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    def watchdog():
        over_budget.set()
        os.kill(os.getpid(), signal.SIGTERM)

    timer = threading.Timer(args.budget, watchdog)
    timer.daemon = True
    timer.start()
    code = 0
    try:
        res = measure(args, cleanup)
    except BenchError as e:
        sys.stderr.write("partition_bench: %s\n" % e)
        code = 1
    except KeyboardInterrupt:
        sys.stderr.write("partition_bench: %s\n" % ("over the %.0f s budget" % args.budget if over_budget.is_set()
                                                    else "interrupted"))
        code = 3 if over_budget.is_set() else 130
    finally:
        timer.cancel()
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # cleanup runs to its end
        cleanup.run()
    if code:
        return code
    res["stratus"] = args.stratus
    res["loadavg"] = " ".join(open("/proc/loadavg").read().split()[:3])
    res["elapsed_s"] = time.time() - STARTED
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print_table(res)
    ok = res["missing"] == 0 and all(s["exit"] == 0 for s in res["stops"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""SQS and SNS through boto3: Stratus's control port next to LocalStack and moto, measured in the same run.

Each target is started on a free 127.0.0.1 port, measured alone and stopped before the next one starts:
Stratus (`stratus serve` on an empty throwaway project, `--control 127.0.0.1:0`), LocalStack without Docker
(`python -m localstack.runtime.main`, SERVICES=sqs,sns) and moto (`moto_server`), the peers from the venvs
that `bash bench/aws_peers.sh` installs under .bench-peers/. The same boto3 clients (this interpreter's boto3,
credentials test/test, us-east-1, one client per thread) run the same calls against each:

1. SQS send: SendMessageBatch of 10 messages (~100-byte bodies, one String attribute), --threads (4) threads,
   --messages N (20,000) in all: messages/s from the common start to the last batch answered.
2. SQS drain: --threads threads loop ReceiveMessage(MaxNumberOfMessages=10, WaitTimeSeconds=1) +
   DeleteMessageBatch until the N messages are gone: messages/s from the start to the delete that removed the
   last of them (each MessageId counted once; redeliveries are counted apart).
3. SNS: a topic with 5 standard queues subscribed by queue ARN (RawMessageDelivery false).
   Publish throughput: --threads threads, --publishes M (2,000) in all: publishes/s from the common start to the
   last Publish answered; then how long until all 5 x M envelopes are in the queues (ApproximateNumberOfMessages,
   polled after the last publish), as publishes/s "delivered". Latency: a second topic with 5 queues, one
   publisher and one receiver long-polling (WaitTimeSeconds=5) one of the queues: time from just before Publish
   to ReceiveMessage returning that message, --samples (200) samples after 10 not counted.

Each phase stops after --phase-cap seconds (30; --quick 10) and reports the rate over what it did, noted as
"stopped at the cap": moto's SQS scans its whole queue on every call, so it slows down as the queue grows and
would need many minutes for N=20,000. A last column, "client max", runs the same client threads for 3 s per
throughput figure against a stub server (its own process) that answers at once with canned responses: the most
this boto3 client can measure on this machine. A figure close to it is bounded by the client (noted below the
table); --processes spreads the threads over forked client processes to raise that bound where there are cores.

Figures only, with the targets printed beside them: SQS send >= 2.5x LocalStack, drain >= 3x LocalStack, SNS publish
>= 10x LocalStack, Stratus publish -> receivable p50 <= 5 ms. A target that does not answer SQS/SNS yet (a Stratus
without the facades) is reported as "not available (<error>)" and the others are still measured. Exit 1 only if a
peer could not be measured, a message was lost, or the Stratus host did not stop cleanly on SIGTERM.
Traffic goes to 127.0.0.1 only; every loop is bounded by --budget.
"""

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from benchlib import DEFAULT_STRATUS, BenchError, Host, descendant_pids, summary, verdict

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PEERS_DIR = os.path.join(REPO, ".bench-peers")
REGION = "us-east-1"
FAN_OUT = 5
BATCH = 10
WARM_SAMPLES = 10
LONG_POLL_S = 5

TARGET_SEND_X = 2.5      # Stratus SQS send msg/s >= 2.5x LocalStack
TARGET_DRAIN_X = 3.0     # Stratus SQS drain msg/s >= 3x LocalStack
TARGET_PUBLISH_X = 10.0  # Stratus SNS publishes/s >= 10x LocalStack
TARGET_P50_MS = 5.0      # Stratus publish -> receivable p50 <= 5 ms

TARGETS = ("stratus", "localstack", "moto", "stub")
TITLES = {"stratus": "Stratus", "localstack": "LocalStack", "moto": "moto", "stub": "client max"}
STUB_SECONDS = 3.0  # per throughput figure against the stub


class NotAvailable(Exception):
    """The target runs but does not answer SQS/SNS (yet)."""


def short_error(e, limit=160):
    text = "%s: %s" % (type(e).__name__, e)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid):
    """utime + stime of `pid` and all its descendants (None where /proc is unavailable)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        for p in [pid] + descendant_pids(pid):
            try:
                with open("/proc/%d/stat" % p) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except OSError:
                pass
    except OSError:
        return None
    return total


def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"nproc": cpus, "cpu_model": model, "loadavg": list(load), "kernel": platform.release()}


# ---------------------------------------------------------------------------
# targets: start, wait until they answer, stop


RUNNING = []  # targets started and not yet stopped, for the watchdog


class Target:
    """A server under test: its control/endpoint URL, the process to read CPU from, a way to stop it."""

    name = "?"
    pid = None

    def __init__(self):
        self.url = None
        self.version = None
        self.startup_s = None

    def cpu(self):
        return proc_cpu_seconds(self.pid) if self.pid else None

    def stop(self):
        return None


class StratusTarget(Target):
    name = "stratus"

    def __init__(self, binary, root):
        super().__init__()
        project = os.path.join(root, "stratus-project")
        os.makedirs(project)  # empty: no functions/, no triggers/
        t0 = time.perf_counter()
        self.host = Host(binary, project, os.path.join(root, "stratus-state"))
        self.pid = self.host.proc.pid
        RUNNING.append(self)
        try:
            self.host.wait_ready(60)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.perf_counter() - t0
        self.url = "http://127.0.0.1:%d" % self.host.control_port
        rel = os.path.relpath(os.path.abspath(binary), REPO)
        shown = rel if not rel.startswith("..") else os.path.basename(binary)
        self.version = "%s (built %s), empty project" % (
            shown, time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(binary))))

    def stop(self):
        if self in RUNNING:
            RUNNING.remove(self)
        return self.host.stop()


class PeerProcess(Target):
    """A peer started from its venv, output to a log file, stopped with SIGTERM then SIGKILL."""

    def __init__(self, argv, env, log_path, cwd):
        super().__init__()
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid
        RUNNING.append(self)

    def log_tail(self, lines=25):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_http(self, path, ok, timeout):
        """Polls GET url+path until ok(status, body) or the process exits or `timeout` seconds pass."""
        t0 = time.perf_counter()
        last = None
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise BenchError("%s exited with %s during startup; log:\n%s"
                                 % (self.name, self.proc.returncode, self.log_tail()))
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as r:
                    body = r.read()
                    if ok(r.status, body):
                        self.startup_s = time.perf_counter() - t0
                        return body
            except urllib.error.HTTPError as e:
                last = e
                if ok(e.code, b""):
                    self.startup_s = time.perf_counter() - t0
                    return b""
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise BenchError("%s did not answer %s within %.0f s (last: %r); log:\n%s"
                         % (self.name, path, timeout, last, self.log_tail()))

    def stop(self):
        if self in RUNNING:
            RUNNING.remove(self)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)  # the session this bench started for it
                except OSError:
                    self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()
        return self.proc.returncode


def venv_version(python, dist):
    try:
        out = subprocess.run([python, "-c", "import importlib.metadata as m, sys; "
                              "print(m.version(%r), '%%d.%%d.%%d' %% sys.version_info[:3])" % dist],
                             capture_output=True, text=True, timeout=30)
        version, py = out.stdout.split()
        return "%s %s (Python %s)" % (dist, version, py)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


class LocalStackTarget(PeerProcess):
    name = "localstack"

    def __init__(self, venv, root):
        python = os.path.join(venv, "bin", "python")
        if not os.access(python, os.X_OK):
            raise BenchError("not installed: %s (run `bash bench/aws_peers.sh`)" % venv)
        port = free_port()
        fs = os.path.join(root, "localstack-fs")
        os.makedirs(fs)
        env = dict(os.environ)
        for k in [k for k in env if k.startswith(("AWS_", "LOCALSTACK_", "PYTHON"))]:
            del env[k]
        env.update({
            "OVERRIDE_IN_DOCKER": "0",
            "SERVICES": "sqs,sns",
            "GATEWAY_LISTEN": "127.0.0.1:%d" % port,
            "LOCALSTACK_HOST": "127.0.0.1:%d" % port,
            "SQS_ENDPOINT_STRATEGY": "path",
            "DNS_ADDRESS": "0",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
            "FILESYSTEM_ROOT": fs,
            "XDG_CACHE_HOME": os.path.join(fs, "cache"),  # plux's entry-point cache, else a new file in ~/.cache per run
        })
        super().__init__([python, "-m", "localstack.runtime.main"], env, os.path.join(root, "localstack.log"), fs)
        self.url = "http://127.0.0.1:%d" % port

        def healthy(status, body):
            if status != 200:
                return False
            try:
                services = json.loads(body).get("services", {})
            except ValueError:
                return False
            return all(services.get(s) in ("available", "running") for s in ("sqs", "sns"))

        try:
            body = self.wait_http("/_localstack/health", healthy, 120)
            self.version = "localstack-core %s" % json.loads(body).get("version", "?")
        except BaseException:
            self.stop()
            raise
        self.version = venv_version(python, "localstack-core") or self.version


class MotoTarget(PeerProcess):
    name = "moto"

    def __init__(self, venv, root):
        server = os.path.join(venv, "bin", "moto_server")
        if not os.access(server, os.X_OK):
            raise BenchError("not installed: %s (run `bash bench/aws_peers.sh`)" % venv)
        port = free_port()
        env = dict(os.environ)
        for k in [k for k in env if k.startswith(("AWS_", "MOTO_", "PYTHON"))]:
            del env[k]
        super().__init__([server, "-H", "127.0.0.1", "-p", str(port)], env, os.path.join(root, "moto.log"), root)
        self.url = "http://127.0.0.1:%d" % port
        try:
            self.wait_http("/moto-api/", lambda status, body: status < 500, 60)
        except BaseException:
            self.stop()
            raise
        self.version = venv_version(os.path.join(venv, "bin", "python"), "moto")


# A stub that answers every call at once with a canned response (standard library, its own process): the same
# client against it shows what the bench client itself can drive on this machine.
STUB_SERVER = r'''
import http.server, itertools, json, sys, threading
ids = itertools.count()
lock = threading.Lock()
BODY = "stub message " + "x" * 87
ATTR = {"kind": {"StringValue": "bench", "DataType": "String"}}
XML = ('<{op}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><{op}Result>{inner}</{op}Result>'
       '<ResponseMetadata><RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId></ResponseMetadata></{op}Response>')

def sqs(op, req):
    if op == "SendMessageBatch":
        return {"Successful": [{"Id": e["Id"], "MessageId": "00000000-0000-4000-8000-%012d" % next(ids),
                                "MD5OfMessageBody": "0" * 32, "MD5OfMessageAttributes": "0" * 32}
                               for e in req["Entries"]]}
    if op == "ReceiveMessage":
        with lock:
            first = next(ids)
            for _ in range(req.get("MaxNumberOfMessages", 1) - 1):
                next(ids)
        msgs = [{"MessageId": "00000000-0000-4000-8000-%012d" % (first + i),
                 "ReceiptHandle": "rh-%d-" % (first + i) + "r" * 150, "MD5OfBody": "0" * 32, "Body": BODY}
                for i in range(req.get("MaxNumberOfMessages", 1))]
        if req.get("MessageAttributeNames"):
            for m in msgs:
                m.update({"MD5OfMessageAttributes": "0" * 32, "MessageAttributes": ATTR})
        return {"Messages": msgs}
    if op == "DeleteMessageBatch":
        return {"Successful": [{"Id": e["Id"]} for e in req["Entries"]]}
    return {}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def do_GET(self):
        self.reply(b"{}", "application/json")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        target = self.headers.get("X-Amz-Target", "")
        if target:
            out = json.dumps(sqs(target.rsplit(".", 1)[-1], json.loads(body or b"{}"))).encode()
            self.reply(out, "application/x-amz-json-1.0")
        else:
            form = dict(p.split("=", 1) for p in body.decode().split("&") if "=" in p)
            op = form.get("Action", "Unknown")
            inner = "<MessageId>00000000-0000-4000-8000-%012d</MessageId>" % next(ids) if op == "Publish" else ""
            self.reply(XML.format(op=op, inner=inner).encode(), "text/xml")

    def reply(self, out, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
'''


class StubTarget(PeerProcess):
    name = "stub"

    def __init__(self, root):
        super().__init__([sys.executable, "-c", STUB_SERVER], dict(os.environ), os.path.join(root, "stub.log"), root)
        t0 = time.perf_counter()
        try:
            while True:
                with open(self.log_path) as f:
                    first = f.readline().strip()
                if first.isdigit():
                    break
                if self.proc.poll() is not None or time.perf_counter() - t0 > 10:
                    raise BenchError("the stub server did not start:\n" + self.log_tail())
                time.sleep(0.02)
        except BaseException:
            self.stop()
            raise
        self.url = "http://127.0.0.1:%s" % first
        self.startup_s = time.perf_counter() - t0
        self.version = "Python %s http.server, canned answers" % platform.python_version()


# ---------------------------------------------------------------------------
# boto3


def make_client_factory(url):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    # Standard retries (3 attempts); every retry is counted from ResponseMetadata.RetryAttempts and printed.
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30,
                    max_pool_connections=16)
    lock = threading.Lock()  # creating clients from several threads at once is not safe in botocore

    def client(service):
        with lock:
            return session.client(service, endpoint_url=url, config=config)

    return client


def body_for(i):
    head = "bench message %08d " % i
    return head + "x" * (100 - len(head))


ATTRS = {"kind": {"DataType": "String", "StringValue": "bench"}}


MP = multiprocessing.get_context("fork")


class Shared:
    """What the client threads of a phase share, across --processes too (forked children): the common start,
    the time to stop at, a count, the time it reached its goal, and a done flag."""

    def __init__(self):
        self.start = MP.Value("d", 0.0, lock=False)
        self.stop_at = MP.Value("d", float("inf"), lock=False)
        self.count = MP.Value("q", 0)
        self.end = MP.Value("d", 0.0, lock=False)
        self.done = MP.Event()
        self.go = MP.Event()

    def add(self, k, goal):
        """Adds k to the count; the first caller that brings it to `goal` records the time and sets done."""
        with self.count.get_lock():
            self.count.value += k
            if self.count.value >= goal and not self.done.is_set():
                self.end.value = time.perf_counter()
                self.done.set()
            return self.count.value


def drive(indices, work, shared, all_ready, deadline):
    """Runs work(idx, ready) -> dict in one thread per index of this process; ready() returns once every
    thread of every process is ready and the phase has started. all_ready() is called (in this process's
    main thread) once its threads are ready. Returns ({idx: dict}, [error text])."""
    local = threading.Barrier(len(indices) + 1)
    results, errors = {}, []

    def ready():
        local.wait(timeout=120)
        shared.go.wait(120)

    def run(idx):
        try:
            results[idx] = work(idx, ready)
        except threading.BrokenBarrierError:
            pass
        except Exception as e:  # noqa: BLE001
            errors.append(short_error(e, 400))
            local.abort()
            shared.done.set()  # the others stop too

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in indices]
    for t in threads:
        t.start()
    try:
        local.wait(timeout=120)
    except threading.BrokenBarrierError:
        return results, errors or ["threads did not start"]
    all_ready()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.perf_counter() + 10))
    if any(t.is_alive() for t in threads):
        errors.append("out of time")
    return results, errors


def run_workers(work, threads, processes, shared, on_start, deadline, who):
    """work(idx, ready) -> dict in `threads` threads, spread over `processes` processes (forked; 1: this one).
    on_start(t0) runs in this process at the common start. Returns (start, [dict per thread], client CPU s of
    the children)."""

    def begin():
        t0 = time.perf_counter()
        shared.start.value = t0
        on_start(t0)
        shared.go.set()

    if processes <= 1:
        results, errors = drive(list(range(threads)), work, shared, begin, deadline)
        child_cpu = 0.0
    else:
        groups = [[i for i in range(threads) if i % processes == p] for p in range(processes)]
        groups = [g for g in groups if g]
        ready = MP.Barrier(len(groups) + 1)
        out = MP.Queue()

        def child(indices):
            def all_ready():
                ready.wait(120)
                shared.go.wait(120)
                c0[0] = time.process_time()

            c0 = [time.process_time()]
            try:
                res, errs = drive(indices, work, shared, all_ready, deadline)
            except Exception as e:  # noqa: BLE001
                res, errs = {}, [short_error(e, 400)]
            out.put((res, errs, time.process_time() - c0[0]))

        procs = [MP.Process(target=child, args=(g,), daemon=True) for g in groups]
        for p in procs:
            p.start()
        results, errors, child_cpu = {}, [], 0.0
        try:
            ready.wait(180)
            begin()
        except threading.BrokenBarrierError:
            errors.append("client processes did not start")
            shared.go.set()
        for _ in procs:
            try:
                res, errs, cpu = out.get(timeout=max(5.0, deadline - time.perf_counter() + 30))
            except Exception:  # noqa: BLE001
                errors.append("a client process did not report")
                break
            results.update(res)
            errors.extend(errs)
            child_cpu += cpu
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
    if errors:
        raise BenchError("%s: %s" % (who, errors[0]))
    if len(results) != threads:
        raise BenchError("%s: %d of %d threads reported" % (who, len(results), threads))
    return shared.start.value, [results[i] for i in range(threads)], child_cpu


class Meter:
    """CPU of the target (process and descendants) and of the bench client from start() (the phase's common
    start, after the clients were made and warmed) to stop(), in cores and per item."""

    def __init__(self, target):
        self.target = target

    def start(self, t0=None):
        self.t0 = t0 or time.perf_counter()
        self.s0 = self.target.cpu()
        self.c0 = time.process_time()

    def stop(self, n=None, child_cpu=0.0, wall=None):
        """wall: the phase's own duration (default: since start), e.g. without the threads' last idle long polls."""
        s1, c1 = self.target.cpu(), time.process_time()
        wall = wall or (time.perf_counter() - self.t0)
        client = c1 - self.c0 + child_cpu
        out = {"client_cores": client / wall if wall else None}
        out["server_cores"] = (s1 - self.s0) / wall if (wall and s1 is not None and self.s0 is not None) else None
        if n:
            out["client_us_per_item"] = client / n * 1e6
            if out["server_cores"] is not None:
                out["server_us_per_item"] = (s1 - self.s0) / n * 1e6
        return out


def retries(response):
    return response.get("ResponseMetadata", {}).get("RetryAttempts", 0)


def timed_phase(target, work, args, cap, deadline, who, shared=None):
    """Runs work over args.threads/args.processes with the cap from the common start; returns
    (start, per-thread dicts, cpu figures without the per-item part)."""
    shared = shared or Shared()
    meter = Meter(target)

    def on_start(t0):
        shared.stop_at.value = min(t0 + cap, deadline)
        meter.start(t0)

    start, results, child_cpu = run_workers(work, args.threads, args.processes, shared, on_start, deadline, who)
    return start, results, meter, child_cpu


# ---------------------------------------------------------------------------
# phases


def setup(client, tag):
    """Queues and topics; raises NotAvailable when the target does not answer SQS/SNS."""
    sqs, sns = client("sqs"), client("sns")
    try:
        work_url = sqs.create_queue(QueueName="bench-work-%s" % tag)["QueueUrl"]
    except Exception as e:  # noqa: BLE001
        raise NotAvailable("SQS: " + short_error(e))
    out = {"work": work_url}
    try:
        for topic in ("fan", "lat"):
            arn = sns.create_topic(Name="bench-%s-%s" % (topic, tag))["TopicArn"]
            urls = []
            for i in range(FAN_OUT):
                url = sqs.create_queue(QueueName="bench-%s-%s-%d" % (topic, tag, i))["QueueUrl"]
                qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn,
                              Attributes={"RawMessageDelivery": "false"}, ReturnSubscriptionArn=True)
                urls.append(url)
            out[topic] = {"topic": arn, "queues": urls}
    except Exception as e:  # noqa: BLE001
        out["sns_error"] = "SNS: " + short_error(e)
    return out


def phase_send(target, client, queue_url, n, args, cap, deadline):
    threads = args.threads
    batches = [(b * BATCH, min(BATCH, n - b * BATCH)) for b in range((n + BATCH - 1) // BATCH)]
    shares = [batches[i::threads] for i in range(threads)]
    shared = Shared()

    def work(idx, ready):
        sqs = client("sqs")
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])  # connection open, warm
        out = {"lat": [], "sent": 0, "retries": 0}
        ready()
        for first, size in shares[idx]:
            if time.perf_counter() > shared.stop_at.value or shared.done.is_set():
                break
            entries = [{"Id": str(j), "MessageBody": body_for(first + j), "MessageAttributes": ATTRS}
                       for j in range(size)]
            t0 = time.perf_counter()
            r = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            out["lat"].append((time.perf_counter() - t0) * 1000.0)
            out["retries"] += retries(r)
            if r.get("Failed") or len(r.get("Successful", [])) != size:
                raise BenchError("SendMessageBatch: %d of %d failed: %r"
                                 % (len(r.get("Failed", [])), size, r.get("Failed", [])[:2]))
            out["sent"] += size
        out["end"] = time.perf_counter()
        return out

    start, res, meter, child_cpu = timed_phase(target, work, args, cap, deadline, "send", shared)
    wall = max(r["end"] for r in res) - start
    total = sum(r["sent"] for r in res)
    cpu = meter.stop(total, child_cpu, wall)
    calls = [x for r in res for x in r["lat"]]
    return {"messages": total, "of": n, "capped": total < n, "seconds": wall, "per_s": total / wall,
            "call_ms": summary(calls), "retries": sum(r["retries"] for r in res), "cpu": cpu}


def phase_drain(target, client, queue_url, n, args, cap, deadline, check_lost=True):
    shared = Shared()
    seen = set()  # per process (each forked child has its own copy); the shared count adds up their news
    lock = threading.Lock()

    def work(idx, ready):
        sqs = client("sqs")
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        out = {"rec_ms": [], "ids": [], "receives": 0, "empty": 0, "retries": 0}
        ready()
        while not shared.done.is_set() and time.perf_counter() <= shared.stop_at.value:
            t0 = time.perf_counter()
            r = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            out["retries"] += retries(r)
            msgs = r.get("Messages", [])
            if not msgs:
                out["empty"] += 1
                continue
            out["rec_ms"].append((time.perf_counter() - t0) * 1000.0)
            d = sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(j), "ReceiptHandle": m["ReceiptHandle"]} for j, m in enumerate(msgs)])
            out["retries"] += retries(d)
            if d.get("Failed"):
                raise BenchError("DeleteMessageBatch: %d failed: %r" % (len(d["Failed"]), d["Failed"][:2]))
            out["receives"] += 1
            ids = [m["MessageId"] for m in msgs]
            out["ids"].extend(ids)
            with lock:
                new = [i for i in ids if i not in seen]
                seen.update(new)
            shared.add(len(new), n)
        return out

    start, res, meter, child_cpu = timed_phase(target, work, args, cap, deadline, "drain", shared)
    all_ids = [i for r in res for i in r["ids"]]
    unique = len(set(all_ids))
    end = shared.end.value if shared.done.is_set() and shared.end.value else min(time.perf_counter(),
                                                                                 shared.stop_at.value)
    wall = end - start
    cpu = meter.stop(unique, child_cpu, wall)
    calls = [x for r in res for x in r["rec_ms"]]
    receives = sum(r["receives"] for r in res)
    capped = unique < n
    lost = 0
    if capped and check_lost:
        # Stopped by the cap: what is not received must still be in the queue, else it was lost.
        a = client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]).get("Attributes", {})
        left = int(a.get("ApproximateNumberOfMessages", 0)) + int(a.get("ApproximateNumberOfMessagesNotVisible", 0))
        lost = max(0, n - unique - left)
    return {"messages": unique, "of": n, "capped": capped, "lost": lost, "duplicates": len(all_ids) - unique,
            "seconds": wall, "per_s": unique / wall, "receive_ms": summary(calls),
            "empty_receives": sum(r["empty"] for r in res),
            "per_receive": len(all_ids) / receives if receives else 0.0,
            "retries": sum(r["retries"] for r in res), "cpu": cpu}


def queue_depths(sqs, urls):
    out = []
    for u in urls:
        a = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        out.append(int(a.get("ApproximateNumberOfMessages", 0)))
    return out


def phase_publish(target, client, fan, m, args, cap, deadline):
    threads = args.threads
    shares = [list(range(i, m, threads)) for i in range(threads)]
    shared = Shared()

    def work(idx, ready):
        sns = client("sns")
        sns.get_topic_attributes(TopicArn=fan["topic"])
        out = {"lat": [], "done": 0, "retries": 0}
        ready()
        for i in shares[idx]:
            if time.perf_counter() > shared.stop_at.value or shared.done.is_set():
                break
            t0 = time.perf_counter()
            r = sns.publish(TopicArn=fan["topic"], Message=body_for(i), MessageAttributes=ATTRS)
            out["lat"].append((time.perf_counter() - t0) * 1000.0)
            out["retries"] += retries(r)
            out["done"] += 1
        out["end"] = time.perf_counter()
        return out

    start, res, meter, child_cpu = timed_phase(target, work, args, cap, deadline, "publish", shared)
    wall = max(r["end"] for r in res) - start
    m_req, m = m, sum(r["done"] for r in res)
    cpu = meter.stop(m, child_cpu, wall)
    calls = [x for r in res for x in r["lat"]]
    out = {"publishes": m, "of": m_req, "capped": m < m_req, "seconds": wall, "per_s": m / wall,
           "call_ms": summary(calls), "retries": sum(r["retries"] for r in res), "cpu": cpu}
    if not fan["queues"]:
        return out
    # Fan-out complete: every queue holds its M envelopes (polled after the last publish was answered).
    sqs = client("sqs")
    try:
        depths = queue_depths(sqs, fan["queues"])
        limit = min(deadline, time.perf_counter() + max(cap, 60))
        while min(depths) < m and time.perf_counter() < limit:
            time.sleep(0.02)
            depths = queue_depths(sqs, fan["queues"])
        t_all = time.perf_counter()
        out["depths"] = depths
        if min(depths) >= m:
            out["delivered_s"] = t_all - start
            out["delivered_per_s"] = m / (t_all - start)
        else:
            out["delivered_error"] = "after %.0f s the queues held %s of %d" % (t_all - start, depths, m)
    except Exception as e:  # noqa: BLE001
        out["delivered_error"] = short_error(e)
    return out


def phase_latency(client, lat, samples, cap, deadline):
    """One publisher, one receiver long-polling queue 0 of the 'lat' topic; latency = just before Publish ->
    ReceiveMessage returned the message."""
    sns, sqs = client("sns"), client("sqs")
    queue = lat["queues"][0]
    got = {}
    errors = []
    lock = threading.Lock()
    parked = threading.Event()
    arrived = threading.Event()
    stop = threading.Event()
    pending = {"marker": None}
    envelopes = {"ok": 0, "other": 0}

    def receiver():
        try:
            while not stop.is_set():
                parked.set()
                r = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=LONG_POLL_S)
                now = time.perf_counter()
                msgs = r.get("Messages", [])
                with lock:
                    marker = pending["marker"]
                for m in msgs:
                    if marker and marker in m["Body"]:
                        got[marker] = now
                        try:
                            env = json.loads(m["Body"])
                            ok = env.get("Type") == "Notification" and env.get("Message") == marker
                        except ValueError:
                            ok = False
                        envelopes["ok" if ok else "other"] += 1
                        arrived.set()
                if msgs:
                    sqs.delete_message_batch(QueueUrl=queue, Entries=[
                        {"Id": str(j), "ReceiptHandle": m["ReceiptHandle"]} for j, m in enumerate(msgs)])
        except Exception as e:  # noqa: BLE001
            errors.append(e)
            arrived.set()

    sns.get_topic_attributes(TopicArn=lat["topic"])  # warm connection
    th = threading.Thread(target=receiver, daemon=True)
    th.start()
    values, publish_ms = [], []
    stop_at = min(time.perf_counter() + cap, deadline)
    try:
        for i in range(samples + WARM_SAMPLES):
            if time.perf_counter() > stop_at:
                break
            if not parked.wait(LONG_POLL_S + 10):
                raise BenchError("latency: the receiver did not come back")
            time.sleep(0.01)  # let its ReceiveMessage reach the server and park
            parked.clear()
            arrived.clear()
            marker = "lat-%d-%d" % (os.getpid(), i)
            with lock:
                pending["marker"] = marker
            t0 = time.perf_counter()
            sns.publish(TopicArn=lat["topic"], Message=marker)
            t1 = time.perf_counter()
            if not arrived.wait(max(LONG_POLL_S * 3, 1)):
                raise BenchError("latency: %s did not arrive in %d s" % (marker, LONG_POLL_S * 3))
            if errors:
                raise errors[0]
            if i >= WARM_SAMPLES:
                values.append((got[marker] - t0) * 1000.0)
                publish_ms.append((t1 - t0) * 1000.0)
    finally:
        stop.set()
        try:
            sns.publish(TopicArn=lat["topic"], Message="stop")  # wakes the receiver's long poll
        except Exception:  # noqa: BLE001
            pass
        th.join(LONG_POLL_S + 5)
    if not values:
        raise BenchError("latency: out of time before the first sample")
    return {"latency_ms": summary(values), "samples": len(values), "of": samples, "capped": len(values) < samples,
            "publish_call_ms": summary(publish_ms), "envelopes": envelopes}


# ---------------------------------------------------------------------------
# one target


def measure(target, args, deadline):
    client = make_client_factory(target.url)
    res = {"version": target.version, "startup_s": target.startup_s, "url": target.url}
    tag = "%d" % (time.time() * 1000 % 1e9)
    stub = target.name == "stub"
    if stub:  # no state: fixed windows, as many calls as the client manages
        queues = {"work": target.url + "/000000000000/stub",
                  "fan": {"topic": "arn:aws:sns:%s:000000000000:stub" % REGION, "queues": []}}
    else:
        queues = setup(client, tag)
    figures = {}
    errors = {}

    def run(key, fn):
        if time.perf_counter() > deadline:
            errors[key] = "skipped: out of time"
            return
        try:
            figures[key] = fn()
        except Exception as e:  # noqa: BLE001
            errors[key] = short_error(e, 300)

    cap = STUB_SECONDS if stub else args.phase_cap
    messages = max(args.messages, 100000) if stub else args.messages
    publishes = max(args.publishes, 100000) if stub else args.publishes
    run("send", lambda: phase_send(target, client, queues["work"], messages, args, cap, deadline))
    if "send" in figures:
        sent = figures["send"]["messages"]
        run("drain", lambda: phase_drain(target, client, queues["work"], sent, args, cap, deadline,
                                         check_lost=not stub))
    else:
        errors["drain"] = "skipped: nothing was sent"
    if "sns_error" in queues:
        errors["publish"] = errors["latency"] = queues["sns_error"]
    else:
        run("publish", lambda: phase_publish(target, client, queues["fan"], publishes, args, cap,
                                             deadline))
        if not stub:
            run("latency", lambda: phase_latency(client, queues["lat"], args.samples, cap, deadline))
    res["figures"] = figures
    res["errors"] = errors
    return res


def run_target(name, args, root, deadline):
    """Starts `name`, measures it, stops it. Returns its results (with "unavailable" or "failed" on error)."""
    print("%s: starting..." % TITLES[name], file=sys.stderr, flush=True)
    t = None
    res = {}
    try:
        if name == "stratus":
            t = StratusTarget(args.stratus, root)
        elif name == "stub":
            t = StubTarget(root)
        elif name == "localstack":
            t = LocalStackTarget(args.localstack_venv, root)
        else:
            t = MotoTarget(args.moto_venv, root)
        print("%s: ready in %.1f s at %s; measuring..." % (TITLES[name], t.startup_s or 0, t.url),
              file=sys.stderr, flush=True)
        res = measure(t, args, deadline)
    except NotAvailable as e:
        res = {"unavailable": str(e), "version": t.version if t else None}
    except Exception as e:  # noqa: BLE001
        res = {"failed": short_error(e, 2000), "version": t.version if t else None}
    finally:
        if t is not None:
            code = t.stop()
            if name == "stratus":
                res["host_exit"] = code
                if code != 0:
                    res["host_output"] = t.host.lines[-20:]
    return res


# ---------------------------------------------------------------------------
# output


def fmt(v, digits=0):
    if v is None:
        return "-"
    return ("%%.%df" % digits) % v


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def get(res, key, *path):
    v = res.get("figures", {}).get(key)
    for p in path:
        if v is None:
            return None
        v = v.get(p)
    return v


def cell(res, key, *path, digits=0):
    if "unavailable" in res or "failed" in res:
        return "n/a"
    v = get(res, key, *path)
    if v is None:
        return "error" if key in res.get("errors", {}) else "-"
    return fmt(v, digits)


def print_report(r, args):
    out = []
    add = out.append
    m = r["machine"]
    add("AWS facade bench: SQS and SNS through boto3, Stratus next to LocalStack and moto (same run, one at a time)")
    add("machine: %d CPUs, %s; kernel %s; load avg %.2f %.2f %.2f at start"
        % (m["nproc"], m["cpu_model"], m["kernel"], *m["loadavg"]))
    add("client:  boto3 %s (Python %s), %d threads%s, one client per thread, standard retries"
        % (r["boto3"], platform.python_version(), args.threads,
           " over %d processes" % args.processes if args.processes > 1 else " in one process"))
    for name in r["order"]:
        res = r["targets"][name]
        line = "%-11s %s" % (TITLES[name] + ":", res.get("version") or "version unknown")
        if res.get("startup_s") is not None:
            line += "; ready in %.1f s" % res["startup_s"]
        if name == "localstack":
            line += "; without Docker, SERVICES=sqs,sns, SQS_ENDPOINT_STRATEGY=path"
        add(line)
    add("")
    names = r["order"]
    s = r["targets"].get("stratus", {})
    peers = [n for n in names if n in ("localstack", "moto")]
    head = "%-44s" % "" + "".join("%12s" % TITLES[n] for n in names)
    if "stratus" in names:
        head += "".join("%14s" % ("S/" + TITLES[p]) for p in peers)
    head += "   target"
    add(head)

    def row(label, key, path, digits, target_text):
        line = "%-44s" % label + "".join("%12s" % cell(r["targets"][n], key, *path, digits=digits) for n in names)
        if "stratus" in names:
            sv = get(s, key, *path)
            for p in peers:
                x = ratio(sv, get(r["targets"][p], key, *path))
                line += "%14s" % (("%.2fx" % x) if x is not None else "-")
        add(line + ("   " + target_text if target_text else ""))

    def target_ratio(key, x):
        ls = get(r["targets"].get("localstack", {}), key, "per_s")
        sv = get(s, key, "per_s")
        if "stratus" not in names or "localstack" not in names:
            return ">= %.1fx LocalStack" % x
        if sv is None or ls is None:
            return ">= %.1fx LocalStack  (not measured)" % x
        return ">= %.1fx LocalStack  %s" % (x, verdict(sv >= x * ls))

    add("1. SQS send, SendMessageBatch x%d, N=%d" % (BATCH, args.messages))
    row("   messages/s", "send", ["per_s"], 0, target_ratio("send", TARGET_SEND_X))
    row("   call latency p50 ms", "send", ["call_ms", "p50"], 2, "")
    row("   call latency p99 ms", "send", ["call_ms", "p99"], 2, "")
    row("   server CPU, cores", "send", ["cpu", "server_cores"], 2, "")
    row("   bench client CPU, cores", "send", ["cpu", "client_cores"], 2, "")
    row("   bench client CPU per message, us", "send", ["cpu", "client_us_per_item"], 0, "")
    add("2. SQS drain, ReceiveMessage(10, wait 1 s) + DeleteMessageBatch")
    row("   messages/s", "drain", ["per_s"], 0, target_ratio("drain", TARGET_DRAIN_X))
    row("   messages per receive", "drain", ["per_receive"], 2, "")
    row("   receive latency p50 ms", "drain", ["receive_ms", "p50"], 2, "")
    row("   server CPU, cores", "drain", ["cpu", "server_cores"], 2, "")
    row("   bench client CPU, cores", "drain", ["cpu", "client_cores"], 2, "")
    row("   bench client CPU per message, us", "drain", ["cpu", "client_us_per_item"], 0, "")
    add("3. SNS publish -> %d SQS queues (envelopes), M=%d" % (FAN_OUT, args.publishes))
    row("   publishes/s (Publish answered)", "publish", ["per_s"], 0, target_ratio("publish", TARGET_PUBLISH_X))
    row("   publishes/s (all %dxM in the queues)" % FAN_OUT, "publish", ["delivered_per_s"], 0, "")
    row("   call latency p50 ms", "publish", ["call_ms", "p50"], 2, "")
    row("   call latency p99 ms", "publish", ["call_ms", "p99"], 2, "")
    row("   server CPU, cores", "publish", ["cpu", "server_cores"], 2, "")
    row("   bench client CPU, cores", "publish", ["cpu", "client_cores"], 2, "")
    row("   bench client CPU per publish, us", "publish", ["cpu", "client_us_per_item"], 0, "")
    p50 = get(s, "latency", "latency_ms", "p50")
    t = "Stratus p50 <= %.0f ms" % TARGET_P50_MS
    if "stratus" in names:
        t += "  %s" % (verdict(p50 <= TARGET_P50_MS) if p50 is not None else "(not measured)")
    add("   publish -> receivable, 1 publisher, receiver long-polling one queue, n=%d" % args.samples)
    row("     p50 ms", "latency", ["latency_ms", "p50"], 2, t)
    row("     p90 ms", "latency", ["latency_ms", "p90"], 2, "")
    row("     p99 ms", "latency", ["latency_ms", "p99"], 2, "")
    row("     Publish call p50 ms", "latency", ["publish_call_ms", "p50"], 2, "")
    add("")
    notes = []
    for n in names:
        res = r["targets"][n]
        if "unavailable" in res:
            notes.append("%s: not available (%s)" % (TITLES[n], res["unavailable"]))
        if "failed" in res:
            notes.append("%s: FAILED: %s" % (TITLES[n], res["failed"]))
        for k, e in sorted(res.get("errors", {}).items()):
            notes.append("%s: %s: %s" % (TITLES[n], k, e))
        d = get(res, "drain")
        if d and (d["lost"] or d["duplicates"]):
            notes.append("%s: drain: %d LOST, %d received twice" % (TITLES[n], d["lost"], d["duplicates"]))
        for k, what in (("send", "messages"), ("drain", "messages"), ("publish", "publishes"), ("latency", "samples")):
            f = get(res, k)
            if f and f.get("capped") and n != "stub":
                notes.append("%s: %s stopped at the %.0f s cap: %d of %d %s (its figure is over those)"
                             % (TITLES[n], k, args.phase_cap, f.get(what, 0), f["of"], what))
        for k in ("send", "drain", "publish"):
            c = get(res, k, "cpu", "client_cores")
            ceiling = get(r["targets"].get("stub", {}), k, "per_s")
            v = get(res, k, "per_s")
            if n == "stub":
                continue
            sc = get(res, k, "cpu", "server_cores")
            if ceiling and v and v >= 0.8 * ceiling:
                notes.append("%s: %s: %.0f/s is %.0f%% of what the bench client manages against the stub (%.0f/s): "
                             "bounded by the client, not the server" % (TITLES[n], k, v, 100 * v / ceiling, ceiling))
            elif c is not None and c > 0.85 * args.processes:
                notes.append("%s: %s: the bench client used %.2f cores (%d Python process%s): the figure may be "
                             "bounded by the client" % (TITLES[n], k, c, args.processes,
                                                        "es" if args.processes > 1 else ""))
            elif c is not None and sc is not None and c + sc > 0.85 * m["nproc"]:
                notes.append("%s: %s: server %.2f + bench client %.2f cores of %d: the machine is the limit"
                             % (TITLES[n], k, sc, c, m["nproc"]))
        for k in ("send", "drain", "publish"):
            if get(res, k, "retries"):
                notes.append("%s: %s: %d retried calls (botocore standard retries)" % (TITLES[n], k, get(res, k, "retries")))
        pe = get(res, "publish", "delivered_error")
        if pe:
            notes.append("%s: fan-out not complete: %s" % (TITLES[n], pe))
        env = get(res, "latency", "envelopes")
        if env and env.get("other"):
            notes.append("%s: %d of the latency messages were not SNS Notification envelopes" % (TITLES[n], env["other"]))
        if res.get("host_exit") not in (None, 0):
            notes.append("%s: host exited with %s on SIGTERM:\n    %s"
                         % (TITLES[n], res["host_exit"], "\n    ".join(res.get("host_output", []))))
    for line in notes:
        add(line)
    add("S/peer = Stratus / peer (for latencies, lower is better). client max = the same boto3 client threads against "
        "a stub\nserver answering every call at once with a canned response, %.0f s per figure: the most this "
        "client can\nmeasure on this machine. bench took %.0f s" % (STUB_SECONDS, r["elapsed_s"]))
    print("\n".join(out))


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[2:]))
    ap.add_argument("--stratus", default=DEFAULT_STRATUS, help="stratus binary (release build)")
    ap.add_argument("--messages", type=int, default=None, help="N for the SQS figures (default 20000)")
    ap.add_argument("--publishes", type=int, default=None, help="M for the SNS throughput (default 2000)")
    ap.add_argument("--samples", type=int, default=None, help="publish -> receivable samples (default 200)")
    ap.add_argument("--threads", type=int, default=4, help="client threads for the throughput figures (default 4)")
    ap.add_argument("--processes", type=int, default=2,
                    help="spread the --threads over this many client processes (default 2: with 1, the interpreter "
                         "lock of one Python process bounds what the client can drive below what Stratus serves; "
                         "see the client max column)")
    ap.add_argument("--phase-cap", type=float, default=None,
                    help="seconds after which a phase stops and reports what it did (default 30, --quick 10): "
                         "moto slows down as its queues grow")
    ap.add_argument("--quick", action="store_true", help="N=2000, M=300, 50 samples, 10 s cap (about a minute)")
    ap.add_argument("--targets", default=",".join(TARGETS),
                    help="comma-separated subset of %s (default all, in that order)" % ",".join(TARGETS))
    ap.add_argument("--localstack-venv", default=os.path.join(PEERS_DIR, "localstack"),
                    help="venv with localstack-core (default .bench-peers/localstack)")
    ap.add_argument("--moto-venv", default=os.path.join(PEERS_DIR, "moto"),
                    help="venv with moto[server] (default .bench-peers/moto)")
    ap.add_argument("--budget", type=float, default=540.0,
                    help="hard limit for the whole run in seconds (default 540); each target gets an equal share")
    ap.add_argument("--keep-logs", action="store_true", help="keep the temp dir with the peers' logs")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    quick = args.quick
    args.messages = args.messages or (2000 if quick else 20000)
    args.publishes = args.publishes or (300 if quick else 2000)
    args.samples = args.samples or (50 if quick else 200)
    args.phase_cap = args.phase_cap or (10.0 if quick else 30.0)
    order = [t.strip() for t in args.targets.split(",") if t.strip()]
    bad = [t for t in order if t not in TARGETS]
    if bad or not order:
        ap.error("--targets: unknown %s (choose from %s)" % (bad, ",".join(TARGETS)))
    if "stratus" in order and not os.access(args.stratus, os.X_OK):
        ap.error("not an executable: %s (build with `swift build -c release --product stratus`)" % args.stratus)
    try:
        import boto3
    except ImportError:
        ap.error("boto3 is not installed for %s (use the repo's .venv: `make venv`)" % sys.executable)

    started = time.perf_counter()
    root = tempfile.mkdtemp(prefix="stratus-aws-bench-")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)

    def watchdog():
        sys.stderr.write("aws_bench: over the %.0f s budget, stopping\n" % args.budget)
        for t in list(RUNNING):
            try:
                t.stop()
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(root, ignore_errors=True)
        os._exit(3)

    timer = threading.Timer(args.budget + 30, watchdog)
    timer.daemon = True
    timer.start()
    results = {"machine": machine(), "boto3": boto3.__version__, "order": order, "targets": {},
               "params": {"messages": args.messages, "publishes": args.publishes, "samples": args.samples,
                          "threads": args.threads, "processes": args.processes}}
    try:
        for i, name in enumerate(order):
            # An equal share of what is left, less 25 s to stop the target.
            left = args.budget - (time.perf_counter() - started)
            deadline = time.perf_counter() + left / (len(order) - i) - 25
            results["targets"][name] = run_target(name, args, root, deadline)
    except KeyboardInterrupt:
        sys.stderr.write("aws_bench: interrupted\n")
        shutil.rmtree(root, ignore_errors=True)
        return 130
    finally:
        if args.keep_logs:
            sys.stderr.write("aws_bench: logs kept in %s\n" % root)
    timer.cancel()
    results["elapsed_s"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results, args)
    failed = False
    for name, res in results["targets"].items():
        if name != "stratus" and ("failed" in res or "unavailable" in res or res.get("errors")):
            failed = True
        if name == "stratus" and ("failed" in res or res.get("host_exit") not in (None, 0)):
            failed = True
        if get(res, "drain", "lost"):
            failed = True
    if not args.keep_logs:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

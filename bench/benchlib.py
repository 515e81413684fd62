"""Shared pieces of the Stratus benchmarks in this folder (standard library only, 127.0.0.1 only).

The scripts are run as `python bench/X.py`, so this module is imported from the script's own folder
(sys.path[0]) whatever the working directory.
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

INVOKE_PAYLOAD = b'{"bench": 1}'
DEFAULT_STRATUS = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "stratus"))


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


def summary(values, percentiles=(50, 90, 99), with_max=True):
    """n, the given percentiles as "p50" etc., max (unless with_max is false) and mean."""
    out = {"n": len(values)}
    for p in percentiles:
        out["p%d" % p] = pct(values, p)
    if with_max:
        out["max"] = max(values) if values else float("nan")
    out["mean"] = statistics.fmean(values) if values else float("nan")
    return out


def cpu_per_item(cpu0, me0, cpu1, me1, n, wall, suffix="", cores=True):
    """CPU microseconds per item between two Host.cpu_seconds()/process_time() samples: host process, its
    workers, this bench client; and wall / n. With cores, also the host's and the workers' CPU / wall."""
    if not n or cpu0[0] is None or cpu1[0] is None:
        return {}
    out = {
        "host_us" + suffix: (cpu1[0] - cpu0[0]) / n * 1e6,
        "worker_us" + suffix: (cpu1[1] - cpu0[1]) / n * 1e6,
        "client_us" + suffix: (me1 - me0) / n * 1e6,
        "wall_us" + suffix: wall / n * 1e6,
    }
    if cores:
        out["host_cores"] = (cpu1[0] - cpu0[0]) / wall if wall else float("nan")
        out["worker_cores"] = (cpu1[1] - cpu0[1]) / wall if wall else float("nan")
    return out


# ---------------------------------------------------------------------------
# the host


class Host:
    """`stratus serve PROJECT` on 127.0.0.1 port 0 (HTTP and control), its output pumped so it never blocks."""

    def __init__(self, binary, project, state=None, extra_args=()):
        self.lines = []
        self.control_port = None
        self.exit_code = None
        argv = [binary, "serve", project, "--http", "127.0.0.1:0", "--control", "127.0.0.1:0", *extra_args]
        if state is not None:
            argv += ["--state", state]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
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

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit code (once stopped, again)."""
        if self.exit_code is not None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.exit_code = self.proc.returncode
        return self.exit_code

    def cpu_seconds(self):
        """(host CPU s, workers CPU s) from /proc; (None, None) where unavailable (non-Linux)."""
        tick = os.sysconf("SC_CLK_TCK")

        def stat(pid):
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

        try:
            host = stat(self.proc.pid)
            workers = 0.0
            for child in descendant_pids(self.proc.pid):  # workers, the Python zygote and its forks
                try:
                    workers += stat(child)
                except OSError:
                    pass
            return host, workers
        except (OSError, ValueError):
            return None, None


def start_host(binary, project, state=None, timeout=60):
    """A Host that is ready; if it is not within `timeout` seconds, stops it and exits with its output."""
    host = Host(binary, project, state)
    try:
        host.wait_ready(timeout)
    except BenchError as e:
        host.stop()
        raise SystemExit("host did not start: %s" % e)
    return host


# ---------------------------------------------------------------------------
# client


class Client:
    """One keep-alive connection to the control plane."""

    def __init__(self, port, timeout=30):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn.connect()

    def call(self, method, path, body=None, expect=(200, 201)):
        """JSON in (body, if not None), JSON out (None for an empty response); BenchError unless the status is expected."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self.conn.request(method, path, data, headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        if resp.status not in expect:
            raise BenchError("%s %s: HTTP %d %s" % (method, path, resp.status, raw[:300]))
        return json.loads(raw) if raw else None

    # Lambda Invoke API and health

    def invoke(self, name, tail=False, payload=INVOKE_PAYLOAD):
        """Returns (latency ms, X-Amz-Log-Result decoded or None)."""
        headers = {"Content-Type": "application/json"}
        if tail:
            headers["X-Amz-Log-Type"] = "Tail"
        t0 = time.perf_counter()
        self.conn.request("POST", "/2015-03-31/functions/%s/invocations" % name, payload, headers)
        resp = self.conn.getresponse()
        body = resp.read()
        t1 = time.perf_counter()
        if resp.status != 200 or resp.getheader("X-Amz-Function-Error"):
            raise BenchError("invoke %s: HTTP %d %s" % (name, resp.status, body[:300]))
        log = resp.getheader("X-Amz-Log-Result")
        return (t1 - t0) * 1000.0, (base64.b64decode(log).decode("utf-8", "replace") if log else None)

    def health(self):
        """GET /v1/health round trip, ms."""
        t0 = time.perf_counter()
        self.conn.request("GET", "/v1/health")
        resp = self.conn.getresponse()
        resp.read()
        t1 = time.perf_counter()
        if resp.status != 200:
            raise BenchError("GET /v1/health: HTTP %d" % resp.status)
        return (t1 - t0) * 1000.0

    # topics and queues

    def publish(self, topic, message, attributes=None):
        body = {"message": message}
        if attributes:
            body["attributes"] = attributes
        return self.call("POST", "/v1/topics/%s/publish" % topic, body, expect=(201,))

    def send(self, queue, text):
        return self.call("POST", "/v1/queues/%s/messages" % queue, {"body": text}, expect=(201,))

    def receive(self, queue, max_=10, wait="0s"):
        return self.call("POST", "/v1/queues/%s/receive" % queue, {"max": max_, "wait": wait})["messages"]

    def delete(self, queue, handles):
        return self.call("POST", "/v1/queues/%s/delete" % queue, {"receiptHandles": handles})

    def purge(self, queue):
        return self.call("POST", "/v1/queues/%s/purge" % queue, {})

    def counts(self):
        """{queue name: its counts}."""
        out = {}
        for q in self.call("GET", "/v1/queues")["queues"]:
            out[q["name"]] = q["counts"]
        return out

    def close(self):
        self.conn.close()


def call(port, method, path, body=None):
    """One request on a connection of its own: JSON in, JSON out ({} for an empty response)."""
    client = Client(port)
    try:
        result = client.call(method, path, body)
    finally:
        client.close()
    return {} if result is None else result


# ---------------------------------------------------------------------------
# concurrent callers


def start_callers(port, concurrency, work, who):
    """`concurrency` threads, each on its own keep-alive Client, running work(client, idx, ready), where
    ready() waits until every thread has called it. Returns, once all are ready, finish(deadline), which
    joins the threads (waiting until a little past the deadline) and raises the first error of any."""
    errors = []
    barrier = threading.Barrier(concurrency + 1)

    def caller(idx):
        client = None
        try:
            client = Client(port)
            work(client, idx, lambda: barrier.wait(timeout=30))
        except threading.BrokenBarrierError:
            pass
        except Exception as e:  # noqa: BLE001
            errors.append(e)
            barrier.abort()
        finally:
            if client:
                client.close()

    threads = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout=60)
    except threading.BrokenBarrierError:
        raise BenchError("%ss failed to start: %r" % (who, errors[:3]))

    def finish(deadline):
        for t in threads:
            t.join(timeout=max(1.0, deadline - time.perf_counter() + 5))
        if errors:
            raise BenchError("%s failed: %r" % (who, errors[0]))

    return finish


def run_callers(host, port, concurrency, seconds, deadline, warm, step, who, counts,
                summarize=summary, cpu_per=cpu_per_item):
    """start_callers: warm(client, idx) once, then, from a common start after 0.5 s of ramp (not counted)
    for `seconds`, step(client, idx, i, start) -> latency ms in a loop. Returns {concurrency, seconds,
    **counts(n), latency: summarize(latencies), cpu: cpu_per(..., n, seconds)} over the n calls started
    in the window."""
    results = [[] for _ in range(concurrency)]
    state = {"measure_from": float("inf"), "stop_at": float("inf")}  # set for real once everyone is ready

    def work(client, idx, ready):
        warm(client, idx)
        ready()
        out = results[idx]
        i = 0
        while True:
            start = time.perf_counter()
            if start >= state["stop_at"] or start >= deadline:
                break
            ms = step(client, idx, i, start)
            i += 1
            if start >= state["measure_from"]:
                out.append((start, ms))

    finish = start_callers(port, concurrency, work, who)
    begin = time.perf_counter()
    state["measure_from"] = begin + 0.5
    state["stop_at"] = begin + 0.5 + seconds
    time.sleep(0.5)
    cpu0, me0 = host.cpu_seconds(), time.process_time()
    time.sleep(max(0.0, state["stop_at"] - time.perf_counter()))
    cpu1, me1 = host.cpu_seconds(), time.process_time()
    finish(deadline)
    lat = [ms for r in results for (start, ms) in r if start < state["stop_at"]]
    out = {"concurrency": concurrency, "seconds": seconds}
    out.update(counts(len(lat)))
    out["latency"] = summarize(lat)
    out["cpu"] = cpu_per(cpu0, me0, cpu1, me1, len(lat), seconds)
    return out


# ---------------------------------------------------------------------------
# a whole run


def verdict(ok):
    return "PASS" if ok else "MISS"


def arg_parser(doc):
    """An ArgumentParser with --stratus and --json; described by the first line of `doc`."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--stratus", default=DEFAULT_STRATUS, help="stratus binary (release build)")
    ap.add_argument("--json", action="store_true", help="print results as JSON")
    return ap


def parse_args(ap, budget):
    """Adds --budget (default `budget` seconds), parses, and checks that --stratus is executable."""
    ap.add_argument("--budget", type=float, default=budget, help="hard limit for the whole run, seconds")
    args = ap.parse_args()
    if not os.access(args.stratus, os.X_OK):
        ap.error("not an executable: %s (build with `swift build -c release --product stratus`)" % args.stratus)
    return args


def run_bench(name, args, prefix, margin, measure, print_table):
    """measure(root, deadline, start_host) -> results, within args.budget seconds: root is a temporary
    directory, deadline is the budget less `margin` (room to stop the host), start_host(project) starts
    the host (state under root) and waits until it is ready. SIGTERM interrupts; past the budget a
    watchdog stops the host and exits 3. The host is stopped with SIGTERM and root removed whatever
    happens; the results are printed (JSON with --json, else print_table(results) and a
    line on the host's exit). Returns the exit status."""
    started = time.perf_counter()
    deadline = started + args.budget - margin
    hosts = []
    root = tempfile.mkdtemp(prefix=prefix)

    def start_host(project, extra_args=()):
        hosts.append(Host(args.stratus, project, os.path.join(root, "state"), extra_args))
        hosts[0].wait_ready(30)
        return hosts[0]

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)

    def watchdog():
        sys.stderr.write("%s: over the %.0f s budget, stopping\n" % (name, args.budget))
        try:
            if hosts:
                hosts[0].stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
            os._exit(3)

    timer = threading.Timer(args.budget, watchdog)
    timer.daemon = True
    timer.start()
    results = {}
    try:
        results = measure(root, deadline, start_host)
    except BenchError as e:
        sys.stderr.write("%s: %s\n" % (name, e))
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("%s: interrupted\n" % name)
        return 130
    finally:
        if hosts:
            code = hosts[0].stop()
            results["host_exit"] = code
            if code != 0:
                sys.stderr.write("%s: host exited with %s; last output:\n%s\n"
                                 % (name, code, "\n".join(hosts[0].lines[-20:])))
        timer.cancel()
        shutil.rmtree(root, ignore_errors=True)
    results["elapsed_s"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
        print("\nhost stopped with SIGTERM: exit %s; bench took %.1f s" % (results["host_exit"], results["elapsed_s"]))
    return 0 if results.get("host_exit") == 0 else 1


# ---------------------------------------------------------------------------
# process figures from /proc (Linux), for long runs


def gateway_port(host):
    """The HTTP gateway's port, from the host's `gateway  http://127.0.0.1:PORT` line (None if absent)."""
    for line in list(host.lines):
        m = re.match(r"\s*gateway\s+http://127\.0\.0\.1:(\d+)", line)
        if m:
            return int(m.group(1))
    return None


def task_files(pid, name):
    """{tid: text of /proc/PID/task/TID/NAME} for the threads of `pid` that are still there; {} if it is gone."""
    out = {}
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for task in tasks:
        try:
            with open("/proc/%d/task/%s/%s" % (pid, task, name)) as f:
                out[task] = f.read()
        except OSError:
            pass
    return out


def child_pids(pid):
    """Direct children of `pid` (of any of its threads), from /proc/PID/task/*/children; [] if unavailable."""
    return [int(c) for text in task_files(pid, "children").values() for c in text.split()]


def descendant_pids(pid):
    """Every process below `pid`: a host's workers, the Python zygote, and the workers the zygote forked."""
    found, todo = [], [pid]
    while todo:
        for child in child_pids(todo.pop()):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


def _status_kb(text, key):
    m = re.search(r"^%s:\s+(\d+)" % key, text, re.M)
    return int(m.group(1)) if m else None


def process_sample(pid):
    """One sample of a live process: rss_kb, rss_anon_kb, rss_file_kb and hwm_kb (VmRSS, RssAnon, RssFile,
    VmHWM), threads, fds (entries of /proc/PID/fd) split by kind in fd_kinds (socket, pipe, anon_inode, file,
    other), cpu_s (utime + stime), children (the count of its descendants: workers, the Python zygote and
    the workers it forked), child_pids and children_rss_kb (their VmRSS summed). None if the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            status = f.read()
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        fds = os.listdir("/proc/%d/fd" % pid)
    except (OSError, IndexError):
        return None
    kinds = {"socket": 0, "pipe": 0, "anon_inode": 0, "file": 0, "other": 0}
    for fd in fds:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:"):
            kinds["socket"] += 1
        elif target.startswith("pipe:"):
            kinds["pipe"] += 1
        elif target.startswith("anon_inode:"):
            kinds["anon_inode"] += 1
        elif target.startswith("/"):
            kinds["file"] += 1
        else:
            kinds["other"] += 1
    children = descendant_pids(pid)
    children_rss = 0
    for child in children:
        try:
            with open("/proc/%d/status" % child) as f:
                children_rss += _status_kb(f.read(), "VmRSS") or 0
        except OSError:
            pass
    tick = os.sysconf("SC_CLK_TCK")
    return {
        "rss_kb": _status_kb(status, "VmRSS"),
        "rss_anon_kb": _status_kb(status, "RssAnon"),
        "rss_file_kb": _status_kb(status, "RssFile"),
        "hwm_kb": _status_kb(status, "VmHWM"),
        "threads": _status_kb(status, "Threads"),
        "fds": len(fds),
        "fd_kinds": kinds,
        "cpu_s": (int(fields[11]) + int(fields[12])) / tick,
        "children": len(children),
        "child_pids": sorted(children),
        "children_rss_kb": children_rss,
    }


def slope_per_minute(points):
    """Least-squares slope of [(seconds, value), ...] in value units per minute (nan for < 2 points)."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    den = sum((t - mx) ** 2 for t, _ in points)
    if not den:
        return float("nan")
    return sum((t - mx) * (v - my) for t, v in points) / den * 60.0


def machine_cpu_seconds():
    """(busy, total) CPU seconds of the whole machine since boot, all cores, from /proc/stat (busy excludes
    idle and iowait); (None, None) where unavailable."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None, None
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest time is inside user)
    return (total - fields[3] - fields[4]) / tick, total / tick

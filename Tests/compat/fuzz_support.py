"""Support for the fuzz tests: a throwaway project with real objects, served by a real `stratus serve`."""

import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
STRATUS_BIN = os.environ.get("STRATUS_BIN", str(REPO / ".build" / "debug" / "stratus"))

STARTUP_DEADLINE = 60.0
SHUTDOWN_DEADLINE = 30.0
CONTROL_LINE = re.compile(r"^\s*control\s+(http://\S+)")

# The objects the fuzzer aims at (besides the random names it makes up). The names are the ones the
# OpenAPI document gives as examples, so its examples phase hits them too.
FUNCTIONS = ["hello", "notify", "charge", "steady"]
QUEUES = ["billing", "billing-dlq", "scratch"]
TOPICS = ["orders"]
# A queue the fuzzer is never pointed at: the message sent to it before fuzzing must still be there after.
# Its name is made at run time: Hypothesis draws string constants from the test sources, so a name written
# here would be found and purged.
SENTINEL_QUEUE = f"keep-{uuid.uuid4().hex}"

HELLO_APP = textwrap.dedent(
    """\
    def handler(event, context):
        name = event.get("name", "world") if isinstance(event, dict) else "world"
        print(f"hello-log-line for {name}")
        return {"message": f"Hello, {name}!"}
    """
)

# Prints every body it is given, so a test can see that a message reached it.
PRINT_APP = textwrap.dedent(
    """\
    import json

    def handler(event, context):
        for record in event.get("Records", []) if isinstance(event, dict) else []:
            body = record.get("body") or (record.get("Sns") or {}).get("Message")
            print("got " + json.dumps(body))
        return {}
    """
)

PYTHON_YAML = "runtime: python\nhandler: app.handler\ntimeout: 5s\n"

MESSAGING_YAML = textwrap.dedent(
    """\
    topics:
      orders:
        subscriptions:
          - function: notify
            filter: {type: [created]}
          - queue: billing
    queues:
      billing:
        visibilityTimeout: 30s
        maxReceiveCount: 3
        deadLetterQueue: billing-dlq
        consumer: {function: charge, batchSize: 10, batchWindow: 0s, maxConcurrency: 2}
      billing-dlq: {}
      scratch: {}
    """
)

HTTP_YAML = "http:\n  - route: GET /hello/{name}\n    function: hello\n"


def make_fuzz_project(root: Path) -> None:
    """Writes the project: four python functions, a topic, a consumed queue with its DLQ, two plain queues."""
    for name, app, extra in [
        ("hello", HELLO_APP, ""),
        ("notify", PRINT_APP, ""),
        ("charge", PRINT_APP, ""),
        ("steady", HELLO_APP, "circuitBreaker: off\n"),
    ]:
        fdir = root / "functions" / name
        fdir.mkdir(parents=True)
        (fdir / "function.yaml").write_text(PYTHON_YAML + extra)
        (fdir / "app.py").write_text(app)
    triggers = root / "triggers"
    triggers.mkdir()
    (triggers / "messaging.yaml").write_text(MESSAGING_YAML)
    (triggers / "http.yaml").write_text(HTTP_YAML)


def wait_until(predicate, *, deadline: float, what: str, interval: float = 0.05):
    """Polls `predicate` until it returns a truthy value (returned) or `deadline` seconds pass (AssertionError)."""
    end = time.monotonic() + deadline
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {deadline}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


class ServedHost:
    """A `stratus serve` of a project in a temporary directory, on port 0 for both listeners."""

    def __init__(self, make_project):
        self.tmp = Path(tempfile.mkdtemp(prefix="stratus-fuzz-"))
        self.project = self.tmp / "project"
        self.state = self.tmp / "state"
        self.project.mkdir()
        self.state.mkdir()
        make_project(self.project)
        self.output: list = []
        self.control_url = ""
        self.proc = None
        self.session = requests.Session()

    def log(self) -> str:
        return "".join(self.output)

    def start(self) -> "ServedHost":
        if not os.access(STRATUS_BIN, os.X_OK):
            raise AssertionError(f"stratus binary not found or not executable: {STRATUS_BIN} (set STRATUS_BIN)")
        self.proc = subprocess.Popen(
            [
                STRATUS_BIN, "serve", str(self.project), "--http", "127.0.0.1:0", "--control", "127.0.0.1:0",
                "--state", str(self.state),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            errors="replace",
        )
        lines: "queue.Queue[str | None]" = queue.Queue()

        def reader():
            for line in self.proc.stdout:
                self.output.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=reader, daemon=True).start()
        deadline = time.monotonic() + STARTUP_DEADLINE
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"stratus did not print 'Ready.' within {STARTUP_DEADLINE}s:\n{self.log()}")
                try:
                    line = lines.get(timeout=remaining)
                except queue.Empty:
                    continue
                if line is None:
                    raise AssertionError(f"stratus exited early (rc={self.proc.wait()}):\n{self.log()}")
                m = CONTROL_LINE.match(line)
                if m:
                    self.control_url = m.group(1)
                if line.strip() == "Ready.":
                    break
            assert self.control_url, f"no control URL printed before 'Ready.':\n{self.log()}"
            assert "FAILED" not in self.log() and "invalid " not in self.log(), f"project failed to load:\n{self.log()}"
        except BaseException:
            self.kill()
            raise
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def stop(self) -> int:
        """SIGTERM, then the exit code; kills it (and fails) if it does not stop within the deadline."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=SHUTDOWN_DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"stratus did not stop within {SHUTDOWN_DEADLINE}s of SIGTERM:\n{self.log()[-4000:]}")
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------ /v1 client

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.control_url + path, timeout=30, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> requests.Response:
        return self.session.post(self.control_url + path, json=body if body is not None else {}, timeout=30, **kwargs)

    def patch(self, path: str, body, **kwargs) -> requests.Response:
        return self.session.patch(self.control_url + path, json=body, timeout=30, **kwargs)

"""Fixtures for the AWS compatibility tests: a throwaway project served by a real `stratus serve`."""

import base64
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
STRATUS_BIN = os.environ.get("STRATUS_BIN", str(REPO / ".build" / "debug" / "stratus"))

STARTUP_DEADLINE = 60.0
SHUTDOWN_DEADLINE = 30.0
CONTROL_LINE = re.compile(r"^\s*control\s+(http://\S+)")

HELLO_APP = textwrap.dedent(
    """\
    def handler(event, context):
        print(f"compat-log-line for {event['name']}")
        return {"message": f"Hello, {event['name']}!"}
    """
)

BOOM_APP = textwrap.dedent(
    """\
    def handler(event, context):
        raise ValueError("boom")
    """
)

PYTHON_YAML = "runtime: python\nhandler: app.handler\ntimeout: 5s\n"
# Generous timeout: the first awslambdaric start imports a fair amount of code.
PROVIDED_YAML = "runtime: provided\ntimeout: 20s\n"

# The AWS facades (SQS, SNS, Lambda) on the control port.
ACCOUNT = "000000000000"  # Stratus's fixed local account id
REGION = "us-east-1"  # what the fixtures sign with; Stratus takes the region from the SigV4 credential scope
AWS_CLI = str(Path(sys.executable).parent / "aws")  # the venv's stock aws CLI (v1)

# `recorder` appends every record it is invoked with to RECORD_DIR/<queue>.jsonl (SQS event records) or
# RECORD_DIR/sns-<topic>.jsonl (SNS event records), one JSON line per record, and reports a batch item
# failure for every SQS body containing "poison" (recorded with "failed": true).
RECORDER_APP = textwrap.dedent(
    """\
    import json
    import os


    def _append(name, record):
        line = json.dumps(record) + "\\n"
        fd = os.open(os.path.join(os.environ["RECORD_DIR"], name + ".jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


    def handler(event, context):
        failures = []
        for record in event.get("Records") or []:
            if record.get("EventSource") == "aws:sns":
                _append("sns-" + record["Sns"]["TopicArn"].rsplit(":", 1)[-1], record)
                continue
            poison = "poison" in record["body"]
            if poison:
                failures.append({"itemIdentifier": record["messageId"]})
            _append(record["eventSourceARN"].rsplit(":", 1)[-1], dict(record, failed=poison))
        return {"batchItemFailures": failures}
    """
)

# Objects declared in a trigger file: owned by the file, so the AWS APIs may use but not change or delete them.
AWS_TRIGGERS_YAML = textwrap.dedent(
    """\
    queues:
      declared-q: {visibilityTimeout: 30s}
      declared-consumed:
        visibilityTimeout: 30s
        consumer: {function: recorder, batchSize: 5}
    topics:
      declared-t:
        subscriptions:
          - queue: declared-q
    """
)


def _write_function(root: Path, name: str, yaml: str, files: dict) -> Path:
    fdir = root / "functions" / name
    fdir.mkdir(parents=True)
    (fdir / "function.yaml").write_text(yaml)
    for fname, content in files.items():
        (fdir / fname).write_text(content)
    return fdir


def _ric_bootstrap() -> str:
    # exec the interpreter pytest runs under: awslambdaric must be installed into it.
    return f'#!/bin/sh\nexec "{sys.executable}" -m awslambdaric app.handler\n'


def make_project(root: Path) -> None:
    _write_function(root, "hello", PYTHON_YAML, {"app.py": HELLO_APP})
    _write_function(root, "boom", PYTHON_YAML, {"app.py": BOOM_APP})
    ric = _write_function(root, "ric", PROVIDED_YAML, {"app.py": HELLO_APP, "bootstrap": _ric_bootstrap()})
    (ric / "bootstrap").chmod(0o755)
    ric_boom = _write_function(root, "ricboom", PROVIDED_YAML, {"app.py": BOOM_APP, "bootstrap": _ric_bootstrap()})
    (ric_boom / "bootstrap").chmod(0o755)
    records = records_dir(root)
    records.mkdir()
    _write_function(
        root,
        "recorder",
        f"runtime: python\nhandler: app.handler\ntimeout: 1s\nenvironment:\n  RECORD_DIR: {json.dumps(str(records))}\n",
        {"app.py": RECORDER_APP},
    )
    (root / "triggers").mkdir(exist_ok=True)
    (root / "triggers" / "aws.yaml").write_text(AWS_TRIGGERS_YAML)


def records_dir(project: Path) -> Path:
    """Where the `recorder` function of a project made by `make_project` writes what it was invoked with."""
    return project / "records"


def read_records(project: Path, name: str) -> list:
    """The records `recorder` wrote for queue `name` (or `sns-<topic>`), oldest first; [] before the first."""
    path = records_dir(project) / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Host:
    def __init__(self, control_url: str, proc: subprocess.Popen, output: list, project: Path):
        self.control_url = control_url
        self.proc = proc
        self.output = output  # every stdout line seen so far (appended by the reader thread)
        self.project = project

    def log(self) -> str:
        return "".join(self.output)


@pytest.fixture(scope="session", autouse=True)
def aws_env():
    # The hosts the tests start take their region from these too (events name it).
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION")}
    os.environ["AWS_ACCESS_KEY_ID"] = "test"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "test"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ["AWS_REGION"] = "us-east-1"
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def start_host(project: Path, state: Path, extra: list | tuple = (), env: dict | None = None) -> Host:
    """`stratus serve project --state state` on ephemeral ports, with the test's environment and `env`;
    returns once it printed `Ready.`."""
    if not os.access(STRATUS_BIN, os.X_OK):
        pytest.fail(f"stratus binary not found or not executable: {STRATUS_BIN} (set STRATUS_BIN)")

    proc = subprocess.Popen(
        [STRATUS_BIN, "serve", str(project), "--http", "127.0.0.1:0", "--control", "127.0.0.1:0", "--state", str(state), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        bufsize=1,
        env={**os.environ, **(env or {})},
    )

    output: list = []
    lines: "queue.Queue[str | None]" = queue.Queue()

    def reader():
        for line in proc.stdout:
            output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()

    control_url = None
    ready = False
    deadline = time.monotonic() + STARTUP_DEADLINE
    try:
        while not ready:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"stratus did not print 'Ready.' within {STARTUP_DEADLINE}s:\n{''.join(output)}")
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"stratus exited early (rc={proc.wait()}):\n{''.join(output)}")
            m = CONTROL_LINE.match(line)
            if m:
                control_url = m.group(1)
            if line.strip() == "Ready.":
                ready = True
        assert control_url, f"no control URL printed before 'Ready.':\n{''.join(output)}"
        assert "FAILED" not in "".join(output), f"project failed to load:\n{''.join(output)}"
    except BaseException:
        proc.kill()
        proc.wait()
        raise

    return Host(control_url, proc, output, project)


def stop_host(host: Host) -> int:
    """SIGTERM, then wait for the exit status (killing it and failing if it takes too long)."""
    host.proc.send_signal(signal.SIGTERM)
    try:
        return host.proc.wait(timeout=SHUTDOWN_DEADLINE)
    except subprocess.TimeoutExpired:
        host.proc.kill()
        host.proc.wait()
        raise AssertionError(f"stratus did not stop within {SHUTDOWN_DEADLINE}s of SIGTERM:\n{host.log()}")


@pytest.fixture(scope="session")
def stratus_host(aws_env):
    if not os.access(STRATUS_BIN, os.X_OK):
        pytest.fail(f"stratus binary not found or not executable: {STRATUS_BIN} (set STRATUS_BIN)")

    tmp = Path(tempfile.mkdtemp(prefix="stratus-compat-"))
    project = tmp / "project"
    state = tmp / "state"
    project.mkdir()
    state.mkdir()
    make_project(project)

    try:
        host = start_host(project, state)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    yield host

    try:
        rc = stop_host(host)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert rc == 0, f"stratus exited with {rc} after SIGTERM:\n{host.log()}"


@pytest.fixture(scope="session")
def control_url(stratus_host) -> str:
    return stratus_host.control_url


# ---------------------------------------------------------------- AWS facades: clients, CLI and helpers


def aws_client(service: str, endpoint_url: str, region: str = REGION, **config):
    """A boto3 client for `endpoint_url` that fails fast: no retries hide the first answer."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60, **config),
    )


@pytest.fixture(scope="session")
def sqs(control_url):
    return aws_client("sqs", control_url)


@pytest.fixture(scope="session")
def sns(control_url):
    return aws_client("sns", control_url)


@pytest.fixture(scope="session")
def lam(control_url):
    return aws_client("lambda", control_url)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout) if self.stdout.strip() else None


@pytest.fixture(scope="session")
def aws_cli(control_url, tmp_path_factory):
    """`aws_cli("sqs", "create-queue", "--queue-name", "q")` runs the venv's stock aws CLI against the control
    port (`--endpoint-url`, `--output json`, no config or credential files of this machine) and returns a
    CliResult; with check=True (the default) a non-zero exit fails the test with the CLI's output."""
    home = tmp_path_factory.mktemp("aws-cli")

    def run(*args, region: str = REGION, check: bool = True) -> CliResult:
        env = dict(os.environ)
        env.update(
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION=region,
            AWS_PAGER="",
            AWS_MAX_ATTEMPTS="1",
            AWS_CONFIG_FILE=str(home / "no-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
        )
        done = subprocess.run(
            [AWS_CLI, "--endpoint-url", control_url, "--output", "json", "--region", region, *args],
            cwd=home, env=env, capture_output=True, text=True, timeout=120,
        )
        result = CliResult(done.returncode, done.stdout, done.stderr)
        if check:
            assert result.returncode == 0, f"aws {' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        return result

    return run


def unique(prefix: str) -> str:
    """A queue/topic name no other test (or earlier run on the same state) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def new_queue(sqs):
    """new_queue(prefix, tags=None, **attributes) -> url: a uniquely named queue, deleted after the test."""
    made = []

    def create(prefix="q", tags=None, **attributes):
        kwargs = {"QueueName": unique(prefix), "Attributes": {k: str(v) for k, v in attributes.items()}}
        if tags:
            kwargs["tags"] = tags
        url = sqs.create_queue(**kwargs)["QueueUrl"]
        made.append(url)
        return url

    yield create
    for url in made:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def arn_of(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def md5_hex(data) -> str:
    return hashlib.md5(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def md5_of_attributes(attributes: dict):
    """MD5OfMessageAttributes as SQS computes it (spec 5.4): attributes sorted by name; per attribute the
    length-prefixed UTF-8 name, the length-prefixed DataType, a transport byte (1 string/number, 2 binary) and
    the length-prefixed value. Takes the SQS API form ({"DataType", "StringValue" | "BinaryValue" (bytes or
    base64)}) or the Lambda event form ({"dataType", "stringValue" | "binaryValue" (base64)}).
    None when there are no attributes."""
    if not attributes:
        return None

    def field(value: bytes) -> bytes:
        return len(value).to_bytes(4, "big") + value

    buf = b""
    for name in sorted(attributes, key=lambda n: n.encode("utf-8")):
        attr = attributes[name]
        data_type = attr.get("DataType", attr.get("dataType"))
        buf += field(name.encode("utf-8")) + field(data_type.encode("utf-8"))
        if data_type.split(".", 1)[0] == "Binary":
            value = attr.get("BinaryValue", attr.get("binaryValue"))
            if isinstance(value, str):
                value = base64.b64decode(value)
            buf += b"\x02" + field(value)
        else:
            buf += b"\x01" + field(attr.get("StringValue", attr.get("stringValue")).encode("utf-8"))
    return hashlib.md5(buf).hexdigest()


def wait_for(probe, what: str, deadline: float = 30.0, interval: float = 0.2):
    """Calls probe() until it returns something truthy and returns that; fails after `deadline` seconds."""
    end = time.monotonic() + deadline
    last = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {deadline}s waiting for {what}; last probe: {last!r}")
        time.sleep(interval)

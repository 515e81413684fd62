"""Fixtures for the AWS compatibility tests: a throwaway project served by a real `stratus serve`."""

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
from pathlib import Path

import pytest

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
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ["AWS_ACCESS_KEY_ID"] = "test"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "test"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


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

    proc = subprocess.Popen(
        [STRATUS_BIN, "serve", str(project), "--http", "127.0.0.1:0", "--control", "127.0.0.1:0", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        bufsize=1,
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
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    host = Host(control_url, proc, output, project)
    yield host

    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=SHUTDOWN_DEADLINE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"stratus did not stop within {SHUTDOWN_DEADLINE}s of SIGTERM:\n{host.log()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert rc == 0, f"stratus exited with {rc} after SIGTERM:\n{host.log()}"


@pytest.fixture(scope="session")
def control_url(stratus_host) -> str:
    return stratus_host.control_url

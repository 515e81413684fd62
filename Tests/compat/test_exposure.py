"""A control plane bound beyond loopback: the stock aws CLI and boto3 reach it with the token as their
access key, and are refused without it; a browser-like request is refused on loopback."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import STRATUS_BIN, make_project

CONTROL_LINE = re.compile(r"^\s*control\s+(http://\S+)")


@pytest.fixture(scope="module")
def exposed_host():
    """`stratus serve --control 0.0.0.0:0` with a token; yields (url on 127.0.0.1, token)."""
    tmp = Path(tempfile.mkdtemp(prefix="stratus-exposed-"))
    project = tmp / "project"
    project.mkdir()
    make_project(project)
    token = "tok-" + uuid.uuid4().hex
    env = dict(os.environ, STRATUS_TOKEN=token)
    proc = subprocess.Popen(
        [STRATUS_BIN, "serve", str(project), "--http", "127.0.0.1:0", "--control", "0.0.0.0:0", "--state", str(tmp / "state")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=env,
    )
    lines, url = [], None
    ready = threading.Event()

    def reader():
        nonlocal url
        for line in proc.stdout:
            lines.append(line)
            match = CONTROL_LINE.match(line)
            if match:
                url = match.group(1).replace("0.0.0.0", "127.0.0.1")
            if line.strip() == "Ready.":
                ready.set()

    threading.Thread(target=reader, daemon=True).start()
    try:
        assert ready.wait(60), "stratus did not start:\n" + "".join(lines)
        yield url, token
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=30) == 0, "".join(lines)
        finally:
            if proc.poll() is None:
                proc.kill()
            shutil.rmtree(tmp, ignore_errors=True)


def lambda_client(url, key):
    return boto3.client(
        "lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key="x",
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60),
    )


def test_boto3_with_the_token_as_access_key_invokes(exposed_host):
    url, token = exposed_host
    response = lambda_client(url, token).invoke(FunctionName="hello", Payload=json.dumps({"name": "Ada"}).encode())
    assert response["StatusCode"] == 200
    assert json.loads(response["Payload"].read()) == {"message": "Hello, Ada!"}


def test_boto3_without_the_token_is_refused(exposed_host):
    url, _ = exposed_host
    with pytest.raises(ClientError) as info:
        lambda_client(url, "test").invoke(FunctionName="hello", Payload=b"{}")
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert error["Error"]["Code"] == "UnrecognizedClientException"


def test_aws_cli_with_the_token_invokes(exposed_host, tmp_path):
    url, token = exposed_host
    out = tmp_path / "out.json"
    env = dict(os.environ, AWS_ACCESS_KEY_ID=token, AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
    result = subprocess.run(
        ["aws", "lambda", "invoke", "--endpoint-url", url, "--function-name", "hello", "--payload", '{"name":"Ada"}', str(out)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text()) == {"message": "Hello, Ada!"}
    refused = subprocess.run(
        ["aws", "lambda", "invoke", "--endpoint-url", url, "--function-name", "hello", "--payload", "{}", str(out)],
        env=dict(env, AWS_ACCESS_KEY_ID="test"), capture_output=True, text=True, timeout=120,
    )
    assert refused.returncode != 0
    assert "UnrecognizedClientException" in refused.stderr


def test_browser_requests_are_refused_on_loopback(control_url):
    """What a page in the user's browser would send: a cross-site POST with a simple content type."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        control_url + "/2015-03-31/functions/hello/invocations", data=b"{}", method="POST",
        headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=30)
    assert info.value.code == 403
    assert info.value.headers["x-amzn-ErrorType"] == "AccessDeniedException"


@pytest.mark.parametrize("token", ["with/slash-0123456789", "with,comma-0123456789", "with space-0123456789", "short"])
def test_a_token_aws_clients_could_not_send_is_refused_at_start(token, tmp_path):
    (tmp_path / "functions").mkdir()
    started = subprocess.run(
        [STRATUS_BIN, "serve", str(tmp_path), "--http", "127.0.0.1:0", "--control", "127.0.0.1:0", "--token", token,
         "--state", str(tmp_path / "state")], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert started.returncode != 0
    assert "--token" in started.stderr, started.stderr

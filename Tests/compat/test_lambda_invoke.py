"""Lambda Invoke API compatibility: what boto3, the stock `aws` CLI and awslambdaric see against Stratus."""

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

HELLO_ARN = "arn:aws:lambda:us-east-1:000000000000:function:hello"
EVENT = {"name": "Ada"}
EXPECTED = {"message": "Hello, Ada!"}
CLI_DEADLINE = 120  # seconds; a subprocess timeout, not a sleep


@pytest.fixture(scope="module")
def lam(control_url):
    return boto3.client(
        "lambda",
        endpoint_url=control_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        # Fail fast instead of letting botocore retry and hide the first response.
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60),
    )


def invoke(lam, name, event=EVENT, **kwargs):
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    body = response["Payload"].read()
    return response, body


def decode_json(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        pytest.fail(f"payload is not JSON: {body!r}")


# ---------------------------------------------------------------- boto3


def test_boto3_invoke_returns_payload(lam):
    response, body = invoke(lam, "hello")
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert decode_json(body) == EXPECTED


def test_boto3_invoke_by_full_arn(lam):
    response, body = invoke(lam, HELLO_ARN)
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert decode_json(body) == EXPECTED


def test_boto3_invoke_log_tail(lam):
    response, body = invoke(lam, "hello", LogType="Tail")
    assert response["StatusCode"] == 200
    assert decode_json(body) == EXPECTED
    assert "LogResult" in response, f"no LogResult in {response!r}"
    log = base64.b64decode(response["LogResult"]).decode("utf-8")
    for needle in ("START RequestId:", "compat-log-line for Ada", "END RequestId:", "REPORT RequestId:", "Duration:"):
        assert needle in log, f"{needle!r} not in tail log:\n{log}"
    # The lines come in Lambda's order.
    assert log.index("START RequestId:") < log.index("compat-log-line for Ada") < log.index("END RequestId:")
    assert log.index("END RequestId:") < log.index("REPORT RequestId:")


def test_boto3_invoke_without_log_type_has_no_log_result(lam):
    response, _ = invoke(lam, "hello")
    assert "LogResult" not in response


def test_boto3_unhandled_error(lam):
    response, body = invoke(lam, "boom")
    assert response["StatusCode"] == 200
    assert response.get("FunctionError") == "Unhandled"
    error = decode_json(body)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom"
    assert isinstance(error["stackTrace"], list)


def test_boto3_unknown_function(lam):
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="does-not-exist", Payload=b"{}")
    err = info.value.response
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "does-not-exist" in err["Error"]["Message"]


def test_boto3_unknown_function_is_modelled_exception(lam):
    # boto3 maps the error code onto its modelled exception class.
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="does-not-exist", Payload=b"{}")


def test_boto3_dry_run(lam):
    response = lam.invoke(FunctionName="hello", InvocationType="DryRun", Payload=b"{}")
    assert response["StatusCode"] == 204


def test_boto3_invalid_json_payload(lam):
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="hello", Payload=b"not json")
    err = info.value.response
    assert err["Error"]["Code"] == "InvalidRequestContentException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


# ---------------------------------------------------------------- aws CLI (v1)


def aws_executable() -> str:
    beside = Path(sys.executable).parent / "aws"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("aws")
    if not found:
        pytest.fail("aws CLI not found next to sys.executable or on PATH")
    return found


def run_aws(args, cwd):
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
        AWS_CONFIG_FILE=str(Path(cwd) / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(Path(cwd) / "no-credentials"),
    )
    return subprocess.run(
        [aws_executable(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=CLI_DEADLINE
    )


def test_aws_cli_invoke(control_url, tmp_path):
    out = tmp_path / "out.json"
    result = run_aws(
        [
            "lambda", "invoke",
            "--endpoint-url", control_url,
            "--function-name", "hello",
            "--payload", json.dumps(EVENT),
            "--log-type", "Tail",
            str(out),
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, f"aws exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert json.loads(out.read_text()) == EXPECTED
    meta = json.loads(result.stdout)
    assert meta["StatusCode"] == 200
    assert meta["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in meta
    log = base64.b64decode(meta["LogResult"]).decode("utf-8")
    assert "START RequestId:" in log and "compat-log-line for Ada" in log and "REPORT RequestId:" in log


def test_aws_cli_function_error(control_url, tmp_path):
    out = tmp_path / "out.json"
    result = run_aws(
        ["lambda", "invoke", "--endpoint-url", control_url, "--function-name", "boom", "--payload", "{}", str(out)],
        cwd=tmp_path,
    )
    # The CLI succeeds: the function error is reported in the output, not as a failure.
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert json.loads(result.stdout)["FunctionError"] == "Unhandled"
    assert json.loads(out.read_text())["errorType"] == "ValueError"


def test_aws_cli_unknown_function(control_url, tmp_path):
    out = tmp_path / "out.json"
    result = run_aws(
        [
            "lambda", "invoke",
            "--endpoint-url", control_url,
            "--function-name", "does-not-exist",
            "--payload", "{}",
            str(out),
        ],
        cwd=tmp_path,
    )
    assert result.returncode != 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "ResourceNotFoundException" in result.stderr, result.stderr


# ---------------------------------------------------------------- awslambdaric (the AWS Python RIC, as a provided runtime)


def test_awslambdaric_importable():
    # Not importorskip: the Makefile installs awslambdaric, so a missing one is a failure.
    import awslambdaric  # noqa: F401


def test_awslambdaric_same_result_as_python_runtime(lam):
    import awslambdaric  # noqa: F401  (fail, don't skip, if it is missing)

    hello_response, hello_body = invoke(lam, "hello")
    ric_response, ric_body = invoke(lam, "ric")
    assert ric_response["StatusCode"] == 200
    assert "FunctionError" not in ric_response, f"ric failed: {ric_body!r}"
    assert ric_response["ExecutedVersion"] == "$LATEST"
    assert decode_json(ric_body) == decode_json(hello_body) == EXPECTED


def test_awslambdaric_log_tail(lam):
    import awslambdaric  # noqa: F401

    response, body = invoke(lam, "ric", LogType="Tail")
    assert decode_json(body) == EXPECTED
    log = base64.b64decode(response["LogResult"]).decode("utf-8")
    for needle in ("START RequestId:", "compat-log-line for Ada", "END RequestId:", "REPORT RequestId:", "Duration:"):
        assert needle in log, f"{needle!r} not in tail log:\n{log}"


def test_awslambdaric_unhandled_error(lam):
    import awslambdaric  # noqa: F401

    _, boom_body = invoke(lam, "boom")
    response, body = invoke(lam, "ricboom")
    assert response["StatusCode"] == 200
    assert response.get("FunctionError") == "Unhandled"
    error = decode_json(body)
    expected = decode_json(boom_body)
    assert error["errorType"] == expected["errorType"] == "ValueError"
    assert error["errorMessage"] == expected["errorMessage"] == "boom"
    assert isinstance(error["stackTrace"], list)


def test_unknown_qualifier_is_not_found_but_latest_works(control_url):
    import boto3
    import botocore.exceptions
    import pytest as _pytest

    client = boto3.client("lambda", endpoint_url=control_url)
    ok = client.invoke(FunctionName="hello", Qualifier="$LATEST", Payload=b'{"name":"Q"}')
    assert ok["StatusCode"] == 200
    with _pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.invoke(FunctionName="hello:prod", Payload=b'{"name":"Q"}')
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_event_invocation_is_accepted_with_202(control_url):
    import boto3

    client = boto3.client("lambda", endpoint_url=control_url)
    response = client.invoke(FunctionName="hello", InvocationType="Event", Payload=b'{"name":"Async"}')
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert response["ResponseMetadata"]["RequestId"]

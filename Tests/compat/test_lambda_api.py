"""Lambda read APIs and SQS event source mappings (consumers) on Stratus's control port: what boto3 and the
stock `aws` CLI see. The functions are the project's (conftest.make_project): hello, boom (python, 5 s),
ric, ricboom (provided) and recorder (python, 1 s)."""

import json
import socket
import os
import re
import subprocess
import time

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, STRATUS_BIN, arn_of, read_records, unique, wait_for

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PROJECT_FUNCTIONS = {"hello", "boom", "ric", "ricboom", "recorder"}


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def list_all_functions(lam) -> list:
    return [f for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]]


def assert_not_found(info):
    err = info.value.response
    assert err["Error"]["Code"] == "ResourceNotFoundException", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404, err


def assert_conflict(info):
    err = info.value.response
    assert err["Error"]["Code"] == "ResourceConflictException", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 409, err


@pytest.fixture
def new_queue_arn(new_queue, sqs):
    """new_queue_arn() -> the ARN of a uniquely named queue, deleted after the test."""
    return lambda prefix="esm": arn_of(sqs, new_queue(prefix))


@pytest.fixture
def new_mapping(lam):
    """new_mapping(**CreateEventSourceMapping args) -> the answer; the mapping is deleted after the test."""
    made = []

    def create(**kwargs):
        answer = lam.create_event_source_mapping(**kwargs)
        made.append(answer["UUID"])
        return answer

    yield create
    for uuid in made:
        try:
            lam.delete_event_source_mapping(UUID=uuid)
        except ClientError:
            pass


# ---------------------------------------------------------------- functions


def test_list_functions(lam):
    functions = {f["FunctionName"]: f for f in list_all_functions(lam)}
    assert PROJECT_FUNCTIONS <= set(functions), sorted(functions)
    hello = functions["hello"]
    assert hello["FunctionArn"] == function_arn("hello")
    assert hello["Runtime"].startswith("python"), hello["Runtime"]
    assert hello["Handler"] == "app.handler"
    assert hello["Timeout"] == 5
    assert hello["MemorySize"] == 128
    assert hello["Version"] == "$LATEST"
    assert hello.get("State", "Active") == "Active"  # ListFunctions may leave State out, as AWS does
    assert functions["recorder"]["Timeout"] == 1
    assert functions["ric"]["Runtime"].startswith("provided"), functions["ric"]["Runtime"]


def test_list_functions_pages(lam):
    seen, marker, pages = [], None, 0
    while True:
        kwargs = {"MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        page = lam.list_functions(**kwargs)
        pages += 1
        assert len(page["Functions"]) <= 2
        seen.extend(f["FunctionName"] for f in page["Functions"])
        marker = page.get("NextMarker")
        if not marker:
            break
        assert pages < 100
    assert len(seen) == len(set(seen))  # nothing twice
    assert PROJECT_FUNCTIONS <= set(seen)
    assert pages >= 3


def test_get_function(lam):
    for name in ("hello", function_arn("hello")):
        answer = lam.get_function(FunctionName=name)
        config = answer["Configuration"]
        assert config["FunctionName"] == "hello"
        assert config["FunctionArn"] == function_arn("hello")
        assert config["Runtime"].startswith("python")
        assert config["Handler"] == "app.handler"
        assert (config["Timeout"], config["MemorySize"], config["Version"]) == (5, 128, "$LATEST")
        assert config["State"] == "Active"


def test_get_function_configuration(lam):
    config = lam.get_function_configuration(FunctionName="recorder")
    assert config["FunctionName"] == "recorder"
    assert config["FunctionArn"] == function_arn("recorder")
    assert config["Runtime"].startswith("python")
    assert (config["Handler"], config["Timeout"], config["MemorySize"]) == ("app.handler", 1, 128)
    assert config["State"] == "Active"


def test_missing_function(lam):
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.get_function(FunctionName="no-such-function")
    assert_not_found(info)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.get_function_configuration(FunctionName=function_arn("no-such-function"))
    assert_not_found(info)


@pytest.mark.parametrize("name", ["bad name!", "a" * 65, "recorder:bad qualifier", "arn:aws:lambda:us-east-1:000000000000:function:"])
def test_a_name_no_function_can_have_is_a_validation_error(lam, name):
    # Lambda checks the name's form before looking it up: 400 ValidationException, not 404.
    for call in (lambda: lam.get_function(FunctionName=name), lambda: lam.get_function_configuration(FunctionName=name),
                 lambda: lam.invoke(FunctionName=name, Payload=b"{}")):
        with pytest.raises(ClientError) as info:
            call()
        err = info.value.response
        assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400), err
        assert "regular expression pattern" in err["Error"]["Message"], err


# ---------------------------------------------------------------- event source mappings


def test_create_event_source_mapping(lam, new_queue_arn, new_mapping):
    queue_arn = new_queue_arn()
    made = new_mapping(EventSourceArn=queue_arn, FunctionName="recorder")
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert UUID.match(made["UUID"]), made["UUID"]
    assert made["State"] in ("Creating", "Enabled"), made["State"]
    assert made["EventSourceArn"] == queue_arn
    assert made["FunctionArn"] == function_arn("recorder")
    assert made["BatchSize"] == 10
    assert made.get("MaximumBatchingWindowInSeconds", 0) == 0

    got = wait_for(
        lambda: (lambda m: m if m["State"] == "Enabled" else None)(lam.get_event_source_mapping(UUID=made["UUID"])),
        "the mapping to be Enabled",
    )
    assert (got["UUID"], got["EventSourceArn"], got["FunctionArn"], got["BatchSize"]) == (
        made["UUID"], queue_arn, function_arn("recorder"), 10
    )


def test_create_event_source_mapping_with_options(lam, new_queue_arn, new_mapping):
    queue_arn = new_queue_arn()
    made = new_mapping(
        EventSourceArn=queue_arn,
        FunctionName=function_arn("recorder"),
        BatchSize=5,
        MaximumBatchingWindowInSeconds=2,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        ScalingConfig={"MaximumConcurrency": 3},
    )
    got = lam.get_event_source_mapping(UUID=made["UUID"])
    assert got["BatchSize"] == 5
    assert got["MaximumBatchingWindowInSeconds"] == 2
    assert got["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert got["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert got["FunctionArn"] == function_arn("recorder")


def test_one_mapping_per_queue(lam, new_queue_arn, new_mapping):
    queue_arn = new_queue_arn()
    new_mapping(EventSourceArn=queue_arn, FunctionName="recorder")
    # The same queue and function again: a conflict on AWS too.
    with pytest.raises(lam.exceptions.ResourceConflictException) as info:
        lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="recorder")
    assert_conflict(info)
    # Another function on the same queue: Stratus allows one consumer per queue (AWS would allow it).
    with pytest.raises(lam.exceptions.ResourceConflictException) as info:
        lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="hello")
    assert_conflict(info)
    [only] = lam.list_event_source_mappings(EventSourceArn=queue_arn)["EventSourceMappings"]
    assert only["FunctionArn"] == function_arn("recorder")


def test_batch_size_over_ten_needs_a_batching_window(lam, new_queue_arn):
    with pytest.raises(ClientError) as info:
        lam.create_event_source_mapping(EventSourceArn=new_queue_arn(), FunctionName="recorder", BatchSize=11)
    err = info.value.response
    assert err["Error"]["Code"] == "InvalidParameterValueException", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_mapping_to_missing_things(lam, new_queue_arn):
    for kwargs in (
        {"EventSourceArn": new_queue_arn(), "FunctionName": "no-such-function"},
        {"EventSourceArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique('no-such-queue')}", "FunctionName": "recorder"},
    ):
        with pytest.raises(ClientError) as info:
            lam.create_event_source_mapping(**kwargs)
        err = info.value.response
        # AWS answers InvalidParameterValueException (as LocalStack records it); a 404 ResourceNotFoundException
        # names the missing thing as plainly.
        assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) in (
            ("InvalidParameterValueException", 400),
            ("ResourceNotFoundException", 404),
        ), err
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.get_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000")
    assert_not_found(info)


def test_list_event_source_mappings_filters(lam, new_queue_arn, new_mapping):
    q1, q2 = new_queue_arn(), new_queue_arn()
    m1 = new_mapping(EventSourceArn=q1, FunctionName="recorder")["UUID"]
    m2 = new_mapping(EventSourceArn=q2, FunctionName="hello")["UUID"]

    by_queue = lam.list_event_source_mappings(EventSourceArn=q1)["EventSourceMappings"]
    assert [m["UUID"] for m in by_queue] == [m1]
    by_function = lam.list_event_source_mappings(FunctionName="hello")["EventSourceMappings"]
    assert m2 in {m["UUID"] for m in by_function}
    assert m1 not in {m["UUID"] for m in by_function}
    assert all(m["FunctionArn"] == function_arn("hello") for m in by_function)
    by_arn = lam.list_event_source_mappings(FunctionName=function_arn("recorder"))["EventSourceMappings"]
    assert m1 in {m["UUID"] for m in by_arn}
    every = {m["UUID"] for page in lam.get_paginator("list_event_source_mappings").paginate() for m in page["EventSourceMappings"]}
    assert {m1, m2} <= every


def test_update_event_source_mapping(lam, new_queue_arn, new_mapping):
    made = new_mapping(EventSourceArn=new_queue_arn(), FunctionName="recorder")
    updated = lam.update_event_source_mapping(UUID=made["UUID"], BatchSize=3, FunctionResponseTypes=["ReportBatchItemFailures"])
    assert updated["BatchSize"] == 3
    got = lam.get_event_source_mapping(UUID=made["UUID"])
    assert got["BatchSize"] == 3
    assert got["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    lam.update_event_source_mapping(UUID=made["UUID"], Enabled=False)
    wait_for(lambda: lam.get_event_source_mapping(UUID=made["UUID"])["State"] == "Disabled", "the mapping to be Disabled")
    lam.update_event_source_mapping(UUID=made["UUID"], Enabled=True)
    wait_for(lambda: lam.get_event_source_mapping(UUID=made["UUID"])["State"] == "Enabled", "the mapping to be Enabled again")
    assert lam.get_event_source_mapping(UUID=made["UUID"])["BatchSize"] == 3  # kept through disable/enable


def test_an_empty_scaling_config_removes_the_maximum_concurrency(lam, new_queue_arn, new_mapping):
    made = new_mapping(EventSourceArn=new_queue_arn(), FunctionName="recorder", ScalingConfig={"MaximumConcurrency": 3})
    assert lam.get_event_source_mapping(UUID=made["UUID"])["ScalingConfig"] == {"MaximumConcurrency": 3}
    kept = lam.update_event_source_mapping(UUID=made["UUID"], BatchSize=4)
    assert kept["ScalingConfig"] == {"MaximumConcurrency": 3}
    removed = lam.update_event_source_mapping(UUID=made["UUID"], ScalingConfig={})
    assert "ScalingConfig" not in removed or removed["ScalingConfig"] == {}, removed
    got = lam.get_event_source_mapping(UUID=made["UUID"])
    assert "ScalingConfig" not in got or got["ScalingConfig"] == {}, got


def test_delete_event_source_mapping(lam, new_queue_arn):
    queue_arn = new_queue_arn()
    made = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="recorder")
    deleted = lam.delete_event_source_mapping(UUID=made["UUID"])
    assert deleted["UUID"] == made["UUID"]
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202

    def gone():
        try:
            lam.get_event_source_mapping(UUID=made["UUID"])
        except lam.exceptions.ResourceNotFoundException:
            return True
        return False

    wait_for(gone, "the deleted mapping to be gone")
    assert lam.list_event_source_mappings(EventSourceArn=queue_arn)["EventSourceMappings"] == []
    # The queue is free for a new consumer.
    again = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="hello")
    lam.delete_event_source_mapping(UUID=again["UUID"])


def test_a_mapped_queue_takes_a_visibility_timeout_below_the_function_timeout(sqs, lam, new_queue, new_mapping, stratus_host):
    # SQS accepts any VisibilityTimeout from 0 to 43200; Lambda compares it with the function's timeout only
    # when a mapping is made. `recorder` has a 1 s timeout.
    url = new_queue("vis", VisibilityTimeout=30)
    made = new_mapping(EventSourceArn=arn_of(sqs, url), FunctionName="recorder")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {"VisibilityTimeout": "0"}
    assert lam.get_event_source_mapping(UUID=made["UUID"])["State"] in ("Enabled", "Creating")
    # The mapping still consumes the queue.
    sent = sqs.send_message(QueueUrl=url, MessageBody="after-the-change")["MessageId"]
    name = url.rsplit("/", 1)[1]
    wait_for(lambda: any(r["messageId"] == sent for r in read_records(stratus_host.project, name)), "the consumer to get the message")
    # A new mapping is still compared with the function's timeout, as Lambda does.
    lam.delete_event_source_mapping(UUID=made["UUID"])
    wait_for(lambda: lam.list_event_source_mappings(EventSourceArn=arn_of(sqs, url))["EventSourceMappings"] == [], "the mapping to go")
    with pytest.raises(ClientError) as info:
        lam.create_event_source_mapping(EventSourceArn=arn_of(sqs, url), FunctionName="recorder")
    err = info.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("InvalidParameterValueException", 400), err
    assert "less than Function timeout" in err["Error"]["Message"], err


# ---------------------------------------------------------------- the stock aws CLI


def test_aws_cli_list_functions(aws_cli):
    functions = {f["FunctionName"]: f for f in aws_cli("lambda", "list-functions").json["Functions"]}
    assert PROJECT_FUNCTIONS <= set(functions)
    assert functions["hello"]["FunctionArn"] == function_arn("hello")


def test_aws_cli_event_source_mapping(aws_cli, lam, new_queue_arn):
    queue_arn = new_queue_arn("cli")
    made = aws_cli(
        "lambda", "create-event-source-mapping", "--function-name", "recorder", "--event-source-arn", queue_arn,
        "--batch-size", "4", "--function-response-types", "ReportBatchItemFailures",
    ).json
    try:
        assert UUID.match(made["UUID"])
        assert made["BatchSize"] == 4
        assert made["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        listed = aws_cli("lambda", "list-event-source-mappings", "--event-source-arn", queue_arn).json["EventSourceMappings"]
        assert [m["UUID"] for m in listed] == [made["UUID"]]
    finally:
        lam.delete_event_source_mapping(UUID=made["UUID"])


# ---------------------------------------------------------------- Stratus: consumers declared in trigger files


def declared_mapping(lam):
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:declared-consumed"
    [mapping] = lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    return mapping


def test_declared_consumer_is_listed(lam):
    mapping = declared_mapping(lam)
    assert UUID.match(mapping["UUID"])
    assert mapping["FunctionArn"] == function_arn("recorder")
    assert mapping["BatchSize"] == 5
    assert mapping["State"] == "Enabled"
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["EventSourceArn"] == mapping["EventSourceArn"]


def test_declared_consumer_cannot_be_changed_or_deleted(lam):
    mapping = declared_mapping(lam)
    with pytest.raises(lam.exceptions.ResourceConflictException) as info:
        lam.update_event_source_mapping(UUID=mapping["UUID"], BatchSize=1)
    assert_conflict(info)
    with pytest.raises(lam.exceptions.ResourceConflictException) as info:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    assert_conflict(info)
    with pytest.raises(lam.exceptions.ResourceConflictException) as info:
        lam.create_event_source_mapping(EventSourceArn=mapping["EventSourceArn"], FunctionName="hello")
    assert_conflict(info)
    assert declared_mapping(lam)["BatchSize"] == 5


# ---------------------------------------------------------------- found by an audit against AWS's documented behaviour


def test_a_qualifier_other_than_latest_is_not_found(lam):
    assert lam.get_function_configuration(FunctionName="hello", Qualifier="$LATEST")["FunctionName"] == "hello"
    for call in (lam.get_function, lam.get_function_configuration):
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
            call(FunctionName="hello", Qualifier="prod")
        assert_not_found(info)
        assert function_arn("hello") + ":prod" in info.value.response["Error"]["Message"]


def test_function_configuration_has_the_fields_lambda_always_returns(lam):
    config = lam.get_function_configuration(FunctionName="hello")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", config["LastModified"]), config["LastModified"]
    assert UUID.match(config["RevisionId"]), config["RevisionId"]
    assert config["RevisionId"] != lam.get_function_configuration(FunctionName="recorder")["RevisionId"]
    assert config["TracingConfig"] == {"Mode": "PassThrough"}
    assert config["EphemeralStorage"] == {"Size": 512}
    assert config["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/hello"}


def test_add_get_and_remove_permission(lam, sns):
    # The SNS -> Lambda tutorial grants SNS the right to invoke before it subscribes the function.
    sid = unique("sns-invoke")
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:tutorial"
    added = lam.add_permission(FunctionName="hello", StatementId=sid, Action="lambda:InvokeFunction",
                               Principal="sns.amazonaws.com", SourceArn=topic_arn)
    statement = json.loads(added["Statement"])
    assert statement["Sid"] == sid and statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Resource"] == function_arn("hello")
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": topic_arn}}
    with pytest.raises(ClientError) as info:
        lam.add_permission(FunctionName="hello", StatementId=sid, Action="lambda:InvokeFunction",
                           Principal="sns.amazonaws.com")
    assert_conflict(info)
    policy = json.loads(lam.get_policy(FunctionName="hello")["Policy"])
    assert sid in [s["Sid"] for s in policy["Statement"]]
    anyone = lam.add_permission(FunctionName="hello", StatementId=sid + "-any", Action="lambda:InvokeFunction",
                                Principal="*")
    assert json.loads(anyone["Statement"])["Principal"] == "*"
    account = lam.add_permission(FunctionName="hello", StatementId=sid + "-acct", Action="lambda:InvokeFunction",
                                 Principal=ACCOUNT)
    assert json.loads(account["Statement"])["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    for suffix in ("", "-any", "-acct"):
        lam.remove_permission(FunctionName="hello", StatementId=sid + suffix)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.remove_permission(FunctionName="hello", StatementId=sid)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.add_permission(FunctionName="no-such-function", StatementId="s", Action="lambda:InvokeFunction",
                           Principal="sns.amazonaws.com")


def test_a_function_policy_stops_at_lambdas_20_kb(lam):
    sid = unique("big")
    added = []
    try:
        with pytest.raises(ClientError) as info:
            for i in range(100):
                lam.add_permission(FunctionName="hello", StatementId=f"{sid}-{i}", Action="lambda:InvokeFunction",
                                   Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::" + "b" * 900)
                added.append(f"{sid}-{i}")
        err = info.value.response
        assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("PolicyLengthExceededException", 400), err
        assert 10 <= len(added) < 100
        policy = lam.get_policy(FunctionName="hello")["Policy"]
        assert len(policy.encode()) <= 20480
        assert [s["Sid"] for s in json.loads(policy)["Statement"]][-1] == added[-1]
        # Room made, a statement fits again.
        lam.remove_permission(FunctionName="hello", StatementId=added.pop(0))
        lam.add_permission(FunctionName="hello", StatementId=f"{sid}-again", Action="lambda:InvokeFunction", Principal="*")
        added.append(f"{sid}-again")
    finally:
        for statement in added:
            lam.remove_permission(FunctionName="hello", StatementId=statement)


def test_a_body_past_the_limit_is_request_too_large(control_url, new_queue_arn):
    # The control port takes bodies of up to 8 MiB; past it Lambda's 413 RequestTooLargeException, below it the
    # body is read (here: refused for what it says).
    limit = 8 * 1024 * 1024
    for path in ("/2015-03-31/event-source-mappings", "/2015-03-31/functions/hello/policy"):
        over = requests.post(control_url + path, data=b" " * (limit + 1), headers={"Content-Type": "application/json"})
        assert over.status_code == 413, (path, over.status_code, over.text[:200])
        assert over.headers.get("x-amzn-ErrorType", "").startswith("RequestTooLargeException"), over.headers
        under = requests.post(control_url + path, data=b"{}" + b" " * (limit - 2),
                              headers={"Content-Type": "application/json"})
        assert under.status_code == 400, (path, under.status_code, under.text[:200])


def test_an_operation_stratus_lacks_answers_a_lambda_error(lam):
    with pytest.raises(ClientError) as info:
        lam.get_function_concurrency(FunctionName="hello")
    error = info.value.response["Error"]
    assert error["Code"] == "UnsupportedOperationException", info.value.response
    assert "Stratus does not implement" in error["Message"]


def test_mapping_states_and_settings_as_lambda_shows_them(lam, new_queue_arn, new_mapping):
    made = new_mapping(EventSourceArn=new_queue_arn(), FunctionName="recorder")
    assert "ScalingConfig" not in lam.get_event_source_mapping(UUID=made["UUID"])  # none was set
    assert lam.update_event_source_mapping(UUID=made["UUID"], Enabled=False)["State"] == "Disabling"
    assert lam.update_event_source_mapping(UUID=made["UUID"], Enabled=True)["State"] == "Enabling"
    assert lam.update_event_source_mapping(UUID=made["UUID"], BatchSize=4)["State"] == "Updating"
    with pytest.raises(ClientError) as info:
        lam.create_event_source_mapping(EventSourceArn=new_queue_arn(), FunctionName="recorder",
                                        StartingPosition="LATEST")
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_a_disabled_mapping_is_shown_as_such_by_stratus(lam, sqs, new_queue_arn, new_mapping, control_url):
    arn = new_queue_arn()
    name = arn.rsplit(":", 1)[1]
    made = new_mapping(EventSourceArn=arn, FunctionName="recorder")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    modified = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["LastModifiedTimestamp"])["Attributes"]

    def shown():
        [queue] = [q for q in requests.get(control_url + "/v1/queues", timeout=10).json()["queues"] if q["name"] == name]
        cli = subprocess.run([STRATUS_BIN, "queues"], env={**os.environ, "STRATUS_ENDPOINT": control_url},
                             capture_output=True, text=True, timeout=30, check=True).stdout
        [line] = [l for l in cli.splitlines() if l.startswith(name + " ")]
        return queue["consumer"], queue["consumerEnabled"], line.rstrip().endswith("recorder (disabled)")

    assert shown() == ("recorder", True, False)
    # The timestamp is in seconds: change the mapping in a later second than the queue's last change.
    wait_for(lambda: time.time() >= int(modified["LastModifiedTimestamp"]) + 1.05, "the next second", 5)
    lam.update_event_source_mapping(UUID=made["UUID"], Enabled=False)
    assert shown() == ("recorder", False, True)
    # A mapping is Lambda's: changing it leaves the queue's LastModifiedTimestamp, as in SQS.
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["LastModifiedTimestamp"])["Attributes"] == modified


def test_a_mapping_shows_its_arn_and_no_stream_fields(lam, new_queue_arn, new_mapping):
    made = new_mapping(EventSourceArn=new_queue_arn(), FunctionName="recorder")
    got = lam.get_event_source_mapping(UUID=made["UUID"])
    for shown in (made, got):
        assert shown["EventSourceMappingArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{made['UUID']}"
        assert "LastProcessingResult" not in shown  # Lambda shows it for stream sources only
        assert "FilterCriteria" not in shown  # none was set


def test_filter_criteria_are_checked_shown_and_cleared(lam, new_queue_arn, new_mapping):
    pattern = json.dumps({"body": {"kind": ["keep"]}})
    made = new_mapping(EventSourceArn=new_queue_arn(), FunctionName="recorder",
                       FilterCriteria={"Filters": [{"Pattern": pattern}]})
    assert made["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    assert lam.get_event_source_mapping(UUID=made["UUID"])["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    for bad in ("not json", json.dumps(["a"]), json.dumps({"body": {"kind": "keep"}}),
                json.dumps({"messageAttributes": {"kind": {"stringValue": ["keep"]}}})):  # SQS filters on body only
        with pytest.raises(ClientError) as info:
            lam.update_event_source_mapping(UUID=made["UUID"], FilterCriteria={"Filters": [{"Pattern": bad}]})
        err = info.value.response
        assert err["Error"]["Code"] == "InvalidParameterValueException", err
        assert "Invalid filter pattern definition" in err["Error"]["Message"], err
    with pytest.raises(ClientError) as info:  # at most 5 filters
        lam.update_event_source_mapping(UUID=made["UUID"], FilterCriteria={"Filters": [{"Pattern": pattern}] * 6})
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"
    five = lam.update_event_source_mapping(UUID=made["UUID"], FilterCriteria={"Filters": [{"Pattern": pattern}] * 5})
    assert len(five["FilterCriteria"]["Filters"]) == 5
    cleared = lam.update_event_source_mapping(UUID=made["UUID"], FilterCriteria={})
    assert "FilterCriteria" not in cleared


def test_fifo_mappings_take_at_most_ten_and_no_batching_window(lam, sqs, new_mapping):
    url = sqs.create_queue(QueueName=unique("esm") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    try:
        check_fifo_mapping_limits(lam, arn_of(sqs, url), new_mapping)
    finally:
        sqs.delete_queue(QueueUrl=url)


def check_fifo_mapping_limits(lam, fifo_arn, new_mapping):
    with pytest.raises(ClientError) as info:
        lam.create_event_source_mapping(EventSourceArn=fifo_arn, FunctionName="recorder", BatchSize=11,
                                        MaximumBatchingWindowInSeconds=5)
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as info:
        lam.create_event_source_mapping(EventSourceArn=fifo_arn, FunctionName="recorder", BatchSize=10,
                                        MaximumBatchingWindowInSeconds=1)
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"
    made = new_mapping(EventSourceArn=fifo_arn, FunctionName="recorder", BatchSize=10)
    assert made["BatchSize"] == 10


def test_stream_only_settings_are_refused_for_sqs(lam, new_queue_arn):
    queue_arn = new_queue_arn()
    for extra in ({"MaximumRetryAttempts": 2}, {"BisectBatchOnFunctionError": True},
                  {"DestinationConfig": {"OnFailure": {"Destination": queue_arn}}}, {"ParallelizationFactor": 2}):
        with pytest.raises(ClientError) as info:
            lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="recorder", **extra)
        err = info.value.response
        assert err["Error"]["Code"] == "InvalidParameterValueException", (extra, err)
        assert next(iter(extra)) in err["Error"]["Message"]
    assert lam.list_event_source_mappings(EventSourceArn=queue_arn)["EventSourceMappings"] == []


@pytest.mark.parametrize("method,path,headers", [
    ("POST", "/v1/queues", {"Content-Type": "application/json"}),
    ("POST", "/", {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"}),
    ("POST", "/2015-03-31/functions/hello/invocations", {}),
    ("POST", "/2015-03-31/event-source-mappings/", {"Content-Type": "application/json"}),
])
def test_a_body_announced_past_the_limit_is_refused_before_it_is_sent(control_url, method, path, headers):
    # A client that announces more than the control port takes gets 413 at once, without sending a byte of it
    # (it used to wait for the body until the connection's idle timeout).
    host, port = control_url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Length: 99999999999"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = conn.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:300]


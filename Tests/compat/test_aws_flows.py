"""End-to-end flows through the AWS APIs with functions that really run: SNS → SQS (filtered) → a consumer made
with CreateEventSourceMapping; a consumer reporting batch item failures, its poison messages dead-lettered by the
queue's RedrivePolicy; SNS → a function; and everything made through the AWS APIs surviving a restart.

The `recorder` function (conftest) appends each record it gets to a file in the project; the tests poll those
files and the queues with deadlines, so timing never decides the outcome."""

import base64
import json
import re
import shutil
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import (
    ACCOUNT,
    REGION,
    aws_client,
    make_project,
    md5_hex,
    md5_of_attributes,
    read_records,
    start_host,
    stop_host,
    unique,
    wait_for,
)

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
RECORDER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:recorder"
FLOW_DEADLINE = 30.0


@pytest.fixture
def cleanup(sqs, sns, lam):
    """Collects what a flow made (queue URLs, topic ARNs, mapping UUIDs) and removes it afterwards."""
    made = {"mappings": [], "topics": [], "queues": []}
    yield made
    for uuid in made["mappings"]:
        try:
            lam.delete_event_source_mapping(UUID=uuid)
        except ClientError:
            pass
    for arn in made["topics"]:
        try:
            sns.delete_topic(TopicArn=arn)
        except ClientError:
            pass
    for url in made["queues"]:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def make_queue(sqs, cleanup, prefix, **attributes):
    name = unique(prefix)
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    cleanup["queues"].append(url)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return name, url, arn


def queue_is_empty(sqs, url):
    counts = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return set(counts.values()) == {"0"}


def assert_sqs_record(record, queue_arn):
    """What every SQS event record carries (spec 4.1)."""
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue_arn
    assert record["awsRegion"] == REGION
    assert record["messageId"] and record["receiptHandle"]
    assert record["md5OfBody"] == md5_hex(record["body"])
    for key, value in record["attributes"].items():
        assert isinstance(value, str), (key, value)
    assert record["attributes"]["SentTimestamp"].isdigit()
    assert record["attributes"]["ApproximateFirstReceiveTimestamp"].isdigit()


# ---------------------------------------------------------------- SNS → SQS (filter) → consumer


def test_topic_to_filtered_queues_to_a_consumer(sns, sqs, lam, stratus_host, cleanup):
    project = stratus_host.project
    topic_arn = sns.create_topic(Name=unique("flow-topic"))["TopicArn"]
    cleanup["topics"].append(topic_arn)
    env_name, env_url, env_arn = make_queue(sqs, cleanup, "flow-envelope", VisibilityTimeout=5)
    raw_name, raw_url, raw_arn = make_queue(sqs, cleanup, "flow-raw", VisibilityTimeout=5)
    policy = json.dumps({"kind": ["keep"]})
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=env_arn, Attributes={"FilterPolicy": policy})
    sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=raw_arn, Attributes={"FilterPolicy": policy, "RawMessageDelivery": "true"}
    )
    for arn in (env_arn, raw_arn):
        cleanup["mappings"].append(lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder")["UUID"])

    keep_attrs = [
        {"kind": {"DataType": "String", "StringValue": "keep"}},
        {
            "kind": {"DataType": "String", "StringValue": "keep"},
            "n": {"DataType": "Number", "StringValue": "5"},
            "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        },
    ]
    sns.publish(TopicArn=topic_arn, Message="drop-1", MessageAttributes={"kind": {"DataType": "String", "StringValue": "drop"}})
    sns.publish(TopicArn=topic_arn, Message="drop-2")
    kept = {}
    for i, attributes in enumerate(keep_attrs, 1):
        kept[f"keep-{i}"] = (sns.publish(TopicArn=topic_arn, Message=f"keep-{i}", MessageAttributes=attributes)["MessageId"], attributes)
    # A message sent straight to the queue, without attributes.
    direct = sqs.send_message(QueueUrl=env_url, MessageBody="direct")

    wait_for(lambda: len(read_records(project, env_name)) >= 3 and len(read_records(project, raw_name)) >= 2, "the consumer to get the kept messages", FLOW_DEADLINE)
    wait_for(lambda: queue_is_empty(sqs, env_url) and queue_is_empty(sqs, raw_url), "the consumer to delete what it processed", FLOW_DEADLINE)

    # Envelope delivery: the body is the SNS envelope; the SQS message has no attributes.
    env_records = read_records(project, env_name)
    assert len(env_records) == 3, env_records
    direct_records = [r for r in env_records if r["body"] == "direct"]
    assert [r["messageId"] for r in direct_records] == [direct["MessageId"]]
    envelopes = {}
    for record in env_records:
        assert_sqs_record(record, env_arn)
        assert record["messageAttributes"] == {}
        assert record["md5OfMessageAttributes"] is None
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        if record["body"] != "direct":
            envelope = json.loads(record["body"])
            envelopes[envelope["Message"]] = envelope
    assert set(envelopes) == set(kept)  # exactly the matching ones
    for message, (message_id, attributes) in kept.items():
        assert envelopes[message]["MessageId"] == message_id
        assert envelopes[message]["Type"] == "Notification"
        assert envelopes[message]["TopicArn"] == topic_arn

    # Raw delivery: the body is the message, the SNS attributes are SQS message attributes.
    raw_records = {r["body"]: r for r in read_records(project, raw_name)}
    assert set(raw_records) == set(kept)
    for message, (_, attributes) in kept.items():
        record = raw_records[message]
        assert_sqs_record(record, raw_arn)
        assert record["md5OfMessageAttributes"] == md5_of_attributes(attributes)
        assert set(record["messageAttributes"]) == set(attributes)
        for name, sent in attributes.items():
            got = record["messageAttributes"][name]
            assert got["dataType"] == sent["DataType"]
            if sent["DataType"] == "Binary":
                assert base64.b64decode(got["binaryValue"]) == sent["BinaryValue"]
            else:
                assert got["stringValue"] == sent["StringValue"]


# ---------------------------------------------------------------- partial batch failures and the dead-letter queue


def test_poison_messages_end_in_the_dead_letter_queue(sqs, lam, stratus_host, cleanup):
    project = stratus_host.project
    _, dlq_url, dlq_arn = make_queue(sqs, cleanup, "flow-dlq")
    src_name, src_url, src_arn = make_queue(
        sqs, cleanup, "flow-src", VisibilityTimeout=2, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    )
    mapping = lam.create_event_source_mapping(
        EventSourceArn=src_arn, FunctionName="recorder", BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    cleanup["mappings"].append(mapping["UUID"])
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    goods = {f"good-{i}" for i in range(3)}
    poisons = {"poison-1", "poison-2"}
    sent = sqs.send_message_batch(
        QueueUrl=src_url, Entries=[{"Id": body, "MessageBody": body} for body in sorted(goods | poisons)]
    )
    assert sent.get("Failed", []) == []
    ids = {e["Id"]: e["MessageId"] for e in sent["Successful"]}

    dead = {}

    def both_dead_lettered():
        for m in sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=60).get("Messages", []):
            dead[m["Body"]] = m
        return set(dead) == poisons

    wait_for(both_dead_lettered, "the poison messages in the dead-letter queue", FLOW_DEADLINE)
    wait_for(lambda: queue_is_empty(sqs, src_url), "the source queue to be empty", FLOW_DEADLINE)
    for body in poisons:
        assert dead[body]["MessageId"] == ids[body]  # a dead-lettered message keeps its id
        assert dead[body]["MD5OfBody"] == md5_hex(body)

    records = read_records(project, src_name)
    for record in records:
        assert_sqs_record(record, src_arn)
    processed = sorted(r["body"] for r in records if not r["failed"])
    assert processed == sorted(goods), records  # each good message once: its batch's failures did not replay it
    for body in poisons:
        attempts = [r for r in records if r["body"] == body]
        assert [r["attributes"]["ApproximateReceiveCount"] for r in attempts] == ["1", "2"], attempts
        assert all(r["messageId"] == ids[body] for r in attempts)


def test_a_mapping_filter_deletes_what_it_does_not_match(sqs, lam, stratus_host, cleanup):
    project = stratus_host.project
    name, url, arn = make_queue(sqs, cleanup, "flow-filter")
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", BatchSize=10,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"]}})},
                                    {"Pattern": json.dumps({"body": [{"prefix": "plain-keep"}]})}]},
    )
    cleanup["mappings"].append(mapping["UUID"])
    bodies = [json.dumps({"kind": "keep", "n": 1}), json.dumps({"kind": "drop", "n": 2}), "plain-keep 3", "plain 4",
              json.dumps({"other": "keep"})]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)])
    wait_for(lambda: queue_is_empty(sqs, url), "the queue to be empty: kept ones consumed, the others deleted",
             FLOW_DEADLINE)
    got = sorted(r["body"] for r in read_records(project, name))
    assert got == sorted([bodies[0], bodies[2]]), got  # the function saw only what a filter matched
    attempts = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert attempts == []  # and the others are gone from the queue, not waiting to reappear


def test_a_dead_lettered_message_keeps_its_receive_count(sqs, cleanup):
    _, dlq_url, dlq_arn = make_queue(sqs, cleanup, "count-dlq")
    _, src_url, _ = make_queue(
        sqs, cleanup, "count-src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}))
    sqs.send_message(QueueUrl=src_url, MessageBody="poison")
    for _ in range(3):
        got = sqs.receive_message(QueueUrl=src_url, VisibilityTimeout=0, WaitTimeSeconds=5)["Messages"]
        assert [m["Body"] for m in got] == ["poison"]
    assert sqs.receive_message(QueueUrl=src_url, VisibilityTimeout=0).get("Messages", []) == []  # moved
    [dead] = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=5,
                                 MessageSystemAttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert dead["Attributes"]["ApproximateReceiveCount"] == "4"  # three in the source queue, this one


def test_a_function_consuming_a_dead_letter_queue_sees_the_source(sqs, lam, stratus_host, cleanup):
    # A "DLQ processor" re-sends to where a message came from: its record names the source queue.
    _, dlq_url, dlq_arn = make_queue(sqs, cleanup, "src-dlq")
    _, src_url, src_arn = make_queue(
        sqs, cleanup, "src-of", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    sqs.send_message(QueueUrl=src_url, MessageBody="dead")
    sqs.send_message(QueueUrl=dlq_url, MessageBody="put there directly")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=src_url, VisibilityTimeout=0, WaitTimeSeconds=5)["Messages"]] == ["dead"]
    assert sqs.receive_message(QueueUrl=src_url, VisibilityTimeout=0).get("Messages", []) == []  # moved
    mapping = lam.create_event_source_mapping(EventSourceArn=dlq_arn, FunctionName="recorder")
    cleanup["mappings"].append(mapping["UUID"])
    dlq_name = dlq_arn.rsplit(":", 1)[1]
    wait_for(lambda: len(read_records(stratus_host.project, dlq_name)) == 2, "both records", FLOW_DEADLINE)
    records = {r["body"]: r for r in read_records(stratus_host.project, dlq_name)}
    assert records["dead"]["attributes"]["DeadLetterQueueSourceArn"] == src_arn, records
    assert "DeadLetterQueueSourceArn" not in records["put there directly"]["attributes"], records


# ---------------------------------------------------------------- SNS → function


def test_topic_to_a_function(sns, stratus_host, cleanup):
    project = stratus_host.project
    name = unique("flow-fn")
    topic_arn = sns.create_topic(Name=name)["TopicArn"]
    cleanup["topics"].append(topic_arn)
    sub = sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=RECORDER_ARN, ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert sub.startswith(topic_arn + ":")

    attributes = {
        "k": {"DataType": "String", "StringValue": "v"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
    }
    first = sns.publish(TopicArn=topic_arn, Message="to the function", Subject="Hello", MessageAttributes=attributes)
    second = sns.publish(TopicArn=topic_arn, Message="bare")

    records = wait_for(lambda: (lambda rs: rs if len(rs) >= 2 else None)(read_records(project, f"sns-{name}")), "the function to get both notifications", FLOW_DEADLINE)
    by_id = {r["Sns"]["MessageId"]: r for r in records}
    assert set(by_id) == {first["MessageId"], second["MessageId"]}, records
    for record in records:
        assert record["EventSource"] == "aws:sns"
        assert record["EventVersion"] == "1.0"
        assert record["EventSubscriptionArn"] == sub
        assert record["Sns"]["Type"] == "Notification"
        assert record["Sns"]["TopicArn"] == topic_arn
        assert TIMESTAMP.match(record["Sns"]["Timestamp"])
    notification = by_id[first["MessageId"]]["Sns"]
    assert (notification["Message"], notification["Subject"]) == ("to the function", "Hello")
    assert notification["MessageAttributes"] == {
        "k": {"Type": "String", "Value": "v"},
        "b": {"Type": "Binary", "Value": base64.b64encode(b"\x01\x02").decode()},
    }
    bare = by_id[second["MessageId"]]["Sns"]
    assert bare["Message"] == "bare"
    # A Lambda event always has both keys: Subject null, MessageAttributes {}.
    assert "Subject" in bare and bare["Subject"] is None
    assert bare["MessageAttributes"] == {}


# ---------------------------------------------------------------- restart


def scratch_project(prefix: str):
    """A temporary directory with the test project and an empty state directory: (tmp, project, state)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    project, state = tmp / "project", tmp / "state"
    project.mkdir()
    state.mkdir()
    make_project(project)
    return tmp, project, state


def test_objects_made_through_the_aws_apis_survive_a_restart():
    tmp, project, state = scratch_project("stratus-aws-restart-")
    try:
        host = start_host(project, state)
        try:
            sqs = aws_client("sqs", host.control_url)
            sns = aws_client("sns", host.control_url)
            lam = aws_client("lambda", host.control_url)
            dlq_url = sqs.create_queue(QueueName="kept-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}
            url = sqs.create_queue(
                QueueName="kept",
                Attributes={"VisibilityTimeout": "17", "DelaySeconds": "0", "RedrivePolicy": json.dumps(redrive)},
                tags={"team": "core"},
            )["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            attributes = {"a": {"DataType": "String", "StringValue": "x"}}
            sent = sqs.send_message(QueueUrl=url, MessageBody="kept message", MessageAttributes=attributes)
            topic_arn = sns.create_topic(Name="kept-topic", Tags=[{"Key": "team", "Value": "core"}])["TopicArn"]
            sns.tag_resource(ResourceArn=topic_arn, Tags=[{"Key": "env", "Value": "dev"}])
            sub = sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"k": ["v"]})},
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            consumed_url = sqs.create_queue(QueueName="kept-consumed")["QueueUrl"]
            consumed_arn = sqs.get_queue_attributes(QueueUrl=consumed_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            mapping = lam.create_event_source_mapping(
                EventSourceArn=consumed_arn, FunctionName="recorder", BatchSize=7, FunctionResponseTypes=["ReportBatchItemFailures"]
            )
        finally:
            rc = stop_host(host)
        assert rc == 0, host.log()

        host = start_host(project, state)
        try:
            sqs = aws_client("sqs", host.control_url)
            sns = aws_client("sns", host.control_url)
            lam = aws_client("lambda", host.control_url)
            url = sqs.get_queue_url(QueueName="kept")["QueueUrl"]
            assert url == f"{host.control_url}/{ACCOUNT}/kept"
            got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            assert got["VisibilityTimeout"] == "17"
            assert json.loads(got["RedrivePolicy"]) == redrive
            assert got["QueueArn"] == queue_arn
            assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
            [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MessageAttributeNames=["All"])["Messages"]
            assert (message["MessageId"], message["Body"], message["MessageAttributes"]) == (
                sent["MessageId"], "kept message", attributes
            )
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

            assert topic_arn in {t["TopicArn"] for t in sns.list_topics()["Topics"]}
            assert sns.list_tags_for_resource(ResourceArn=topic_arn)["Tags"] == [
                {"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "core"}
            ]
            [subscription] = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
            assert (subscription["SubscriptionArn"], subscription["Endpoint"]) == (sub, queue_arn)
            sub_attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
            assert sub_attrs["RawMessageDelivery"] == "true"
            assert json.loads(sub_attrs["FilterPolicy"]) == {"k": ["v"]}
            published = sns.publish(
                TopicArn=topic_arn, Message="after restart", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}}
            )
            [delivered] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
            assert delivered["Body"] == "after restart", published

            [kept_mapping] = lam.list_event_source_mappings(EventSourceArn=consumed_arn)["EventSourceMappings"]
            assert kept_mapping["UUID"] == mapping["UUID"]
            assert kept_mapping["FunctionArn"] == RECORDER_ARN
            assert kept_mapping["BatchSize"] == 7
            assert kept_mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        finally:
            rc = stop_host(host)
        assert rc == 0, host.log()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_messages_acknowledged_through_the_aws_apis_survive_sigkill():
    """boto3 clients send batches and publish to a topic fanning out to a queue while the host is SIGKILLed: every
    message id the host acknowledged is received after a restart on the same state (duplicates are not possible
    for sends, each id is counted once)."""
    tmp, project, state = scratch_project("stratus-aws-kill-")
    try:
        host = start_host(project, state)
        sqs = aws_client("sqs", host.control_url)
        sns = aws_client("sns", host.control_url)
        url = sqs.create_queue(QueueName="durable")["QueueUrl"]
        fan_url = sqs.create_queue(QueueName="durable-fan")["QueueUrl"]
        topic = sns.create_topic(Name="durable-topic")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:durable-fan",
                      Attributes={"RawMessageDelivery": "true"})
        acknowledged, published = set(), []
        lock = threading.Lock()
        stop = threading.Event()

        def sender(n):
            client = aws_client("sqs", host.control_url)
            batch = 0
            while not stop.is_set():
                entries = [{"Id": str(i), "MessageBody": f"s{n}-{batch}-{i}"} for i in range(10)]
                batch += 1
                try:
                    answer = client.send_message_batch(QueueUrl=url, Entries=entries)
                except Exception:
                    return  # the host died mid-call: that batch was not acknowledged
                with lock:
                    acknowledged.update(m["MessageId"] for m in answer["Successful"])

        def publisher():
            client = aws_client("sns", host.control_url)
            count = 0
            while not stop.is_set():
                body = f"p-{count}"
                count += 1
                try:
                    client.publish(TopicArn=topic, Message=body)
                except Exception:
                    return
                with lock:
                    published.append(body)

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(3)] + [threading.Thread(target=publisher)]
        for thread in threads:
            thread.start()
        wait_for(lambda: len(acknowledged) >= 2000 and len(published) >= 100, "load before the kill", deadline=60)
        host.proc.kill()
        host.proc.wait()
        stop.set()
        for thread in threads:
            thread.join()

        host = start_host(project, state)
        try:
            sqs = aws_client("sqs", host.control_url)
            received, fanned = set(), set()
            for queue_url, into, key in ((url, received, "MessageId"), (fan_url, fanned, "Body")):
                while True:
                    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                        "Messages", [])
                    if not messages:
                        break
                    into.update(m[key] for m in messages)
                    sqs.delete_message_batch(
                        QueueUrl=queue_url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
            lost = acknowledged - received
            assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged sends lost"
            lost_publishes = set(published) - fanned
            assert not lost_publishes, f"{len(lost_publishes)} of {len(published)} acknowledged publishes lost"
        finally:
            assert stop_host(host) == 0, host.log()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_fifo_publish_retried_after_a_sigkill_is_answered_as_the_first():
    """A client whose FIFO publish was answered, or cut off, by a host that then died retries it with the same
    deduplication id after the restart: SNS answers the first publish's MessageId and SequenceNumber and delivers
    nothing twice, since the id is remembered for 5 minutes whatever happens to the server."""
    tmp, project, state = scratch_project("stratus-fifo-kill-")
    try:
        host = start_host(project, state)
        sqs, sns = aws_client("sqs", host.control_url), aws_client("sns", host.control_url)
        sqs.create_queue(QueueName="ledger.fifo", Attributes={"FifoQueue": "true"})
        topic = sns.create_topic(Name="ledger.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:ledger.fifo")
        first = [sns.publish(TopicArn=topic, Message=f"entry {i}", MessageGroupId="account-1",
                             MessageDeduplicationId=f"entry-{i}") for i in range(5)]
        host.proc.kill()
        host.proc.wait()

        host = start_host(project, state)
        try:
            sns, sqs = aws_client("sns", host.control_url), aws_client("sqs", host.control_url)
            retried = [sns.publish(TopicArn=topic, Message=f"entry {i}", MessageGroupId="account-1",
                                   MessageDeduplicationId=f"entry-{i}") for i in range(5)]
            assert [(a["MessageId"], a["SequenceNumber"]) for a in retried] == [
                (a["MessageId"], a["SequenceNumber"]) for a in first]
            new = sns.publish(TopicArn=topic, Message="entry 5", MessageGroupId="account-1",
                              MessageDeduplicationId="entry-5")
            assert int(new["SequenceNumber"]) > int(first[-1]["SequenceNumber"])
            url = sqs.get_queue_url(QueueName="ledger.fifo")["QueueUrl"]
            bodies = []
            while True:
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
                if not got:
                    break
                bodies += [json.loads(m["Body"])["Message"] for m in got]
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
            assert bodies == [f"entry {i}" for i in range(6)]
        finally:
            assert stop_host(host) == 0, host.log()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- a function's own AWS SDK calls

RELAY_APP = '''
import os

import boto3


def handler(event, context):
    # No endpoint, region or keys given: the SDK reads them from the environment, as in Lambda.
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=event["queue"])["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody=event["body"])
    boto3.client("sns").publish(TopicArn=event["topic"], Message=event["body"])
    endpoints = {s: os.environ.get("AWS_ENDPOINT_URL_" + s) for s in ("SQS", "SNS", "LAMBDA", "S3")}
    return {"endpoints": endpoints, "global": os.environ.get("AWS_ENDPOINT_URL"), "messageId": sent["MessageId"]}
'''


def test_warm_workers_of_a_host_whose_control_port_is_chosen_at_bind_reach_it():
    # `--control 127.0.0.1:0`: the port is known only once the control plane listens. Workers of a warm floor
    # (started with the host) must still get AWS_ENDPOINT_URL_SQS & co pointing at it, as every later one does.
    tmp, project, state = scratch_project("stratus-warm-endpoint-")
    try:
        fdir = project / "functions" / "warm"
        fdir.mkdir()
        (fdir / "function.yaml").write_text("runtime: node\nhandler: index.handler\nscaling: {min: 2}\n")
        (fdir / "index.js").write_text("exports.handler = async () => process.env.AWS_ENDPOINT_URL_SQS || null;\n")
        host = start_host(project, state)
        try:
            lam = aws_client("lambda", host.control_url)
            seen = {json.loads(lam.invoke(FunctionName="warm")["Payload"].read()) for _ in range(6)}
            assert seen == {host.control_url}
        finally:
            assert stop_host(host) == 0, host.log()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("token", [None, "relay-token-0123456789"])
def test_a_functions_own_sdk_calls_reach_the_host(token):
    # A handler that calls boto3.client("sqs") with no endpoint_url talks to the host that runs it (the
    # control plane's URL is in AWS_ENDPOINT_URL_SQS, _SNS, _LAMBDA; with a token, the token is its access
    # key), not to AWS.
    tmp, project, state = scratch_project("stratus-aws-sdk-")
    relay = project / "functions" / "relay"
    relay.mkdir(parents=True)
    # boto3 from the venv the tests run in (the functions' interpreter is the same python3).
    site = sysconfig.get_paths()["purelib"]
    (relay / "function.yaml").write_text(
        f"runtime: python\nhandler: app.handler\ntimeout: 20s\nenvironment:\n  PYTHONPATH: {json.dumps(site)}\n")
    (relay / "app.py").write_text(RELAY_APP)
    try:
        host = start_host(project, state, ["--token", token] if token else [])
        try:
            def client(service):
                return boto3.client(service, endpoint_url=host.control_url, region_name=REGION,
                                    aws_access_key_id=token or "test", aws_secret_access_key="test")

            sqs, sns, lam = client("sqs"), client("sns"), client("lambda")
            direct = sqs.create_queue(QueueName="relayed")["QueueUrl"]
            fanned = sqs.create_queue(QueueName="fanned")["QueueUrl"]
            topic = sns.create_topic(Name="relay-topic")["TopicArn"]
            fanned_arn = sqs.get_queue_attributes(QueueUrl=fanned, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=fanned_arn, Attributes={"RawMessageDelivery": "true"})
            answer = lam.invoke(FunctionName="relay", Payload=json.dumps(
                {"queue": "relayed", "topic": topic, "body": "from inside"}).encode())
            result = json.loads(answer["Payload"].read())
            assert "FunctionError" not in answer, result
            # SQS, SNS and Lambda only: the SDK's other services still go to AWS.
            own = host.control_url.rstrip("/")
            assert result["endpoints"] == {"SQS": own, "SNS": own, "LAMBDA": own, "S3": None}, result
            assert result["global"] is None, result
            [got] = sqs.receive_message(QueueUrl=direct, WaitTimeSeconds=5)["Messages"]
            assert (got["MessageId"], got["Body"]) == (result["messageId"], "from inside")
            [published] = sqs.receive_message(QueueUrl=fanned, WaitTimeSeconds=5)["Messages"]
            assert published["Body"] == "from inside"
        finally:
            stop_host(host)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_events_name_the_region_of_the_shell_that_started_the_host():
    # The user's aws CLI and boto3 sign with AWS_REGION / AWS_DEFAULT_REGION; a host started from that shell
    # names the same region in the events its functions get, so ARNs in answers and in events agree.
    tmp, project, state = scratch_project("stratus-aws-region-")
    try:
        host = start_host(project, state, env={"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"})
        try:
            sqs = aws_client("sqs", host.control_url, region="eu-west-1")
            lam = aws_client("lambda", host.control_url, region="eu-west-1")
            url = sqs.create_queue(QueueName="regional")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            assert arn == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:regional"
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder")
            sqs.send_message(QueueUrl=url, MessageBody="where")
            wait_for(lambda: read_records(project, "regional"), "the record", FLOW_DEADLINE)
            [record] = read_records(project, "regional")
            assert (record["eventSourceARN"], record["awsRegion"]) == (arn, "eu-west-1"), record
        finally:
            stop_host(host)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

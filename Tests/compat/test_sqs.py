"""SQS compatibility: what boto3 (AWS JSON 1.0), the stock `aws` CLI and a query-protocol client see against
Stratus's control port. Written from AWS behaviour (spec sections 5 and 8), so the plain-SQS tests hold against
any faithful SQS; the tests at the end are about Stratus's own objects (trigger files, `/v1`, the CLI)."""

import json
import subprocess
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, STRATUS_BIN, arn_of, aws_client, md5_hex, md5_of_attributes, unique, wait_for

QUERY_NS = "http://queue.amazonaws.com/doc/2012-11-05/"
NS = {"q": QUERY_NS}
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def sqs_unchecked(control_url):
    """A client that sends what it is given (no client-side parameter validation), for requests SQS refuses."""
    return aws_client("sqs", control_url, parameter_validation=False)


def name_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def attrs(sqs, url: str, *names) -> dict:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"])["Attributes"]


def receive_all(sqs, url: str, want: int, deadline: float = 30.0, distinct: bool = False, **kwargs) -> list:
    """Receives until `want` messages came (short polls may return fewer than are there); fails past deadline.
    With distinct=True a message received again (VisibilityTimeout=0) counts once, as its latest receive."""
    got = {}
    end = time.monotonic() + deadline
    while len(got) < want:
        assert time.monotonic() < end, f"received {len(got)} of {want} messages within {deadline}s: {list(got.values())!r}"
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kwargs)
        for message in answer.get("Messages", []):
            got[message["MessageId"] if distinct else len(got)] = message
    return list(got.values())


def error_of(info) -> dict:
    return info.value.response["Error"]


def status_of(info) -> int:
    return info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def assert_sqs_error(info, exception_name: str, legacy_code: str):
    """A JSON-protocol SQS error as AWS sends it: 400, the shape name as `__type` (boto3's exception class,
    QueryErrorCode) and the legacy query code in `x-amzn-query-error` (boto3's Error.Code)."""
    err = error_of(info)
    assert status_of(info) == 400, info.value.response
    assert type(info.value).__name__ == exception_name, (type(info.value).__name__, err)
    assert err["Code"] == legacy_code, err
    assert err.get("Type") == "Sender", err


def assert_invalid_parameter_value(info):
    err = error_of(info)
    assert status_of(info) == 400, info.value.response
    assert err["Code"] == "InvalidParameterValue", err


# ---------------------------------------------------------------- CreateQueue, GetQueueUrl, ListQueues, DeleteQueue


def test_create_queue_url_names_the_host_of_the_request(sqs, control_url, new_queue):
    url = new_queue("url")
    assert url == f"{control_url}/{ACCOUNT}/{name_of(url)}"
    assert arn_of(sqs, url) == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name_of(url)}"


def test_create_queue_with_attributes_and_get_them_all(sqs, new_queue):
    before = int(time.time())
    url = new_queue(
        "attrs",
        VisibilityTimeout=10,
        MessageRetentionPeriod=120,
        MaximumMessageSize=2048,
        DelaySeconds=1,
        ReceiveMessageWaitTimeSeconds=2,
    )
    got = attrs(sqs, url)
    for key, value in got.items():
        assert isinstance(value, str), f"{key} is {value!r}, not a string"
    assert got["VisibilityTimeout"] == "10"
    assert got["MessageRetentionPeriod"] == "120"
    assert got["MaximumMessageSize"] == "2048"
    assert got["DelaySeconds"] == "1"
    assert got["ReceiveMessageWaitTimeSeconds"] == "2"
    assert got["QueueArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name_of(url)}"
    assert got["ApproximateNumberOfMessages"] == "0"
    assert got["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert got["ApproximateNumberOfMessagesDelayed"] == "0"
    # Epoch seconds, not milliseconds.
    for key in ("CreatedTimestamp", "LastModifiedTimestamp"):
        assert got[key].isdigit(), (key, got[key])
        assert before - 5 <= int(got[key]) <= time.time() + 5, (key, got[key], before)


def test_defaults_of_a_new_queue(sqs, new_queue):
    got = attrs(sqs, new_queue("defaults"))
    assert got["VisibilityTimeout"] == "30"
    assert got["MessageRetentionPeriod"] == "345600"
    assert got["MaximumMessageSize"] == "1048576"
    assert got["DelaySeconds"] == "0"
    assert got["ReceiveMessageWaitTimeSeconds"] == "0"
    assert "RedrivePolicy" not in got


def test_get_queue_attributes_returns_only_what_was_asked(sqs, new_queue):
    url = new_queue("some")
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "QueueArn"])["Attributes"]
    assert set(got) == {"VisibilityTimeout", "QueueArn"}
    # No names: no attributes.
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes", {}) == {}


def test_create_queue_is_idempotent_with_the_same_attributes(sqs, new_queue):
    url = new_queue("idem", VisibilityTimeout=15)
    again = sqs.create_queue(QueueName=name_of(url), Attributes={"VisibilityTimeout": "15"})
    assert again["QueueUrl"] == url


def test_create_queue_with_different_attributes_is_refused(sqs, new_queue):
    url = new_queue("differ", VisibilityTimeout=15)
    with pytest.raises(ClientError) as info:
        sqs.create_queue(QueueName=name_of(url), Attributes={"VisibilityTimeout": "16"})
    assert_sqs_error(info, "QueueNameExists", "QueueAlreadyExists")
    assert attrs(sqs, url, "VisibilityTimeout")["VisibilityTimeout"] == "15"


# What GetQueueAttributes shows and CreateQueue may set again: an "ensure queue" script that spells out SQS's
# defaults (or feeds back what it read) gets the existing queue, not QueueAlreadyExists.
SETTABLE = {"VisibilityTimeout", "MessageRetentionPeriod", "MaximumMessageSize", "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "RedriveAllowPolicy", "Policy", "KmsMasterKeyId",
            "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "FifoQueue", "ContentBasedDeduplication",
            "DeduplicationScope", "FifoThroughputLimit"}


@pytest.mark.parametrize("fifo", [False, True])
def test_create_queue_again_with_the_attributes_it_shows_answers_the_queue(sqs, fifo):
    name = unique("shown") + (".fifo" if fifo else "")
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"} if fifo else {})["QueueUrl"]
    try:
        check_create_again(sqs, name, url, fifo)
    finally:
        sqs.delete_queue(QueueUrl=url)


def check_create_again(sqs, name, url, fifo):
    shown = {k: v for k, v in attrs(sqs, url).items() if k in SETTABLE}
    assert shown["SqsManagedSseEnabled"] == "true", shown
    assert sqs.create_queue(QueueName=name, Attributes={"SqsManagedSseEnabled": "true"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name, Attributes=shown)["QueueUrl"] == url
    if fifo:
        defaults = {"FifoQueue": "true", "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"}
        assert sqs.create_queue(QueueName=name, Attributes=defaults)["QueueUrl"] == url
    with pytest.raises(ClientError) as info:
        sqs.create_queue(QueueName=name, Attributes={"SqsManagedSseEnabled": "false"})
    assert_sqs_error(info, "QueueNameExists", "QueueAlreadyExists")


def test_kms_and_sqs_managed_encryption_exclude_each_other(sqs, new_queue):
    url = new_queue("kms", KmsMasterKeyId="alias/aws/sqs")
    got = attrs(sqs, url, "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled")
    assert got == {"KmsMasterKeyId": "alias/aws/sqs", "KmsDataKeyReusePeriodSeconds": "300",
                   "SqsManagedSseEnabled": "false"}, got
    # Both at once: SQS's error, nothing changed.
    for call in (lambda a: sqs.set_queue_attributes(QueueUrl=url, Attributes=a),
                 lambda a: sqs.create_queue(QueueName=unique("kms2"), Attributes=a)):
        with pytest.raises(ClientError) as info:
            call({"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "true"})
        assert_sqs_error(info, "InvalidAttributeValue", "InvalidAttributeValue")
        assert "one type of server-side encryption" in error_of(info)["Message"]
    assert attrs(sqs, url, "KmsMasterKeyId") == {"KmsMasterKeyId": "alias/aws/sqs"}
    # One replaces the other.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "true"})
    got = attrs(sqs, url)
    assert got["SqsManagedSseEnabled"] == "true" and "KmsMasterKeyId" not in got, got
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "alias/mine"})
    assert attrs(sqs, url, "KmsMasterKeyId", "SqsManagedSseEnabled") == {
        "KmsMasterKeyId": "alias/mine", "SqsManagedSseEnabled": "false"}


def test_get_queue_url(sqs, new_queue):
    url = new_queue("geturl")
    assert sqs.get_queue_url(QueueName=name_of(url))["QueueUrl"] == url


def test_get_queue_url_of_a_missing_queue(sqs):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as info:
        sqs.get_queue_url(QueueName=unique("missing"))
    assert_sqs_error(info, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")


def test_operations_on_a_missing_queue(sqs, control_url):
    url = f"{control_url}/{ACCOUNT}/{unique('missing')}"
    for call in (
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
        lambda: sqs.receive_message(QueueUrl=url),
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        lambda: sqs.purge_queue(QueueUrl=url),
        lambda: sqs.delete_queue(QueueUrl=url),
    ):
        with pytest.raises(sqs.exceptions.QueueDoesNotExist) as info:
            call()
        assert_sqs_error(info, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")


def test_list_queues_by_prefix(sqs, new_queue):
    prefix = unique("lst")
    urls = {new_queue(prefix) for _ in range(3)}
    new_queue(unique("other"))
    listed = sqs.list_queues(QueueNamePrefix=prefix)
    assert set(listed["QueueUrls"]) == urls
    assert "NextToken" not in listed
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique("none"))


def test_list_queues_pages_with_max_results(sqs, new_queue):
    prefix = unique("page")
    urls = {new_queue(prefix) for _ in range(5)}
    seen, pages, token = [], 0, None
    while True:
        kwargs = {"QueueNamePrefix": prefix, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = sqs.list_queues(**kwargs)
        pages += 1
        assert 1 <= len(page["QueueUrls"]) <= 2, page
        seen.extend(page["QueueUrls"])
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 10, "NextToken never ends"
    assert sorted(seen) == sorted(urls)  # every queue once
    assert pages == 3


def test_delete_queue(sqs, new_queue):
    url = new_queue("del")
    sqs.send_message(QueueUrl=url, MessageBody="going")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name_of(url))
    assert url not in sqs.list_queues(QueueNamePrefix=name_of(url)).get("QueueUrls", [])


# ---------------------------------------------------------------- Get/SetQueueAttributes


def test_set_queue_attributes_round_trip(sqs, new_queue):
    url = new_queue("set")
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "VisibilityTimeout": "45",
            "MessageRetentionPeriod": "7200",
            "MaximumMessageSize": "4096",
            "DelaySeconds": "3",
            "ReceiveMessageWaitTimeSeconds": "4",
        },
    )
    got = attrs(sqs, url)
    assert (
        got["VisibilityTimeout"],
        got["MessageRetentionPeriod"],
        got["MaximumMessageSize"],
        got["DelaySeconds"],
        got["ReceiveMessageWaitTimeSeconds"],
    ) == ("45", "7200", "4096", "3", "4")


def test_redrive_policy_takes_max_receive_count_as_string_or_number(sqs, new_queue):
    dlq = new_queue("rp-dlq")
    dlq_arn = arn_of(sqs, dlq)
    url = new_queue("rp-src")
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})}
    )
    policy = attrs(sqs, url, "RedrivePolicy")["RedrivePolicy"]
    assert isinstance(policy, str)  # a JSON document in a string
    assert json.loads(policy) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 7})}
    )
    assert json.loads(attrs(sqs, url, "RedrivePolicy")["RedrivePolicy"])["maxReceiveCount"] == 7


def test_create_queue_with_redrive_policy(sqs, new_queue):
    dlq_arn = arn_of(sqs, new_queue("crp-dlq"))
    url = new_queue("crp-src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}))
    assert json.loads(attrs(sqs, url)["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}


def test_redrive_allow_policy_round_trip(sqs, new_queue):
    source_arn = arn_of(sqs, new_queue("rap-src"))
    dlq = new_queue("rap-dlq")
    policy = {"redrivePermission": "byQueue", "sourceQueueArns": [source_arn]}
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(policy)})
    assert json.loads(attrs(sqs, dlq, "RedriveAllowPolicy")["RedriveAllowPolicy"]) == policy


def test_approximate_counts(sqs, new_queue):
    url = new_queue("counts")
    sqs.send_message(QueueUrl=url, MessageBody="visible-1")
    sqs.send_message(QueueUrl=url, MessageBody="visible-2")
    sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=900)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=600, WaitTimeSeconds=5)
    assert len(got["Messages"]) == 1
    counts = attrs(
        sqs, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"
    )
    assert counts == {
        "ApproximateNumberOfMessages": "1",
        "ApproximateNumberOfMessagesNotVisible": "1",
        "ApproximateNumberOfMessagesDelayed": "1",
    }


def test_invalid_attribute_names_are_refused(sqs, new_queue):
    url = new_queue("badname")
    with pytest.raises(ClientError) as info:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["NoSuchAttribute"])
    assert_sqs_error(info, "InvalidAttributeName", "InvalidAttributeName")
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"NoSuchAttribute": "1"})
    assert_sqs_error(info, "InvalidAttributeName", "InvalidAttributeName")


def test_visibility_timeout_attribute_limit(sqs, new_queue):
    url = new_queue("vislimit")
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "43201"})
    assert_sqs_error(info, "InvalidAttributeValue", "InvalidAttributeValue")
    assert attrs(sqs, url, "VisibilityTimeout")["VisibilityTimeout"] == "30"  # a refused request changes nothing
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "43200"})
    assert attrs(sqs, url, "VisibilityTimeout")["VisibilityTimeout"] == "43200"
    with pytest.raises(ClientError) as info:
        sqs.create_queue(QueueName=unique("vislimit"), Attributes={"VisibilityTimeout": "43201"})
    assert_sqs_error(info, "InvalidAttributeValue", "InvalidAttributeValue")


# ---------------------------------------------------------------- SendMessage, SendMessageBatch


ATTRIBUTES = {
    "s": {"DataType": "String", "StringValue": "héllo wörld"},
    "n": {"DataType": "Number", "StringValue": "42.5"},
    "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
}


def test_send_message_md5s(sqs, new_queue):
    url = new_queue("md5")
    body = "Hello, SQS! ünïcødé ✓"
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody=body,
        MessageAttributes=ATTRIBUTES,
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": TRACE_HEADER}},
    )
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(
        {"AWSTraceHeader": {"DataType": "String", "StringValue": TRACE_HEADER}}
    )
    assert sent["MessageId"]

    [message] = receive_all(
        sqs, url, 1, MessageAttributeNames=["All"], MessageSystemAttributeNames=["AWSTraceHeader"]
    )
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == body
    assert message["MD5OfBody"] == md5_hex(body)
    assert message["MessageAttributes"] == ATTRIBUTES
    assert message["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    assert message["Attributes"] == {"AWSTraceHeader": TRACE_HEADER}


def test_send_message_without_attributes_has_no_attribute_md5(sqs, new_queue):
    url = new_queue("noattr")
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert sent["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert "MD5OfMessageAttributes" not in sent
    [message] = receive_all(sqs, url, 1, MessageAttributeNames=["All"])
    assert "MessageAttributes" not in message
    assert "MD5OfMessageAttributes" not in message


def test_custom_attribute_types_keep_their_suffix(sqs, new_queue):
    url = new_queue("custom")
    custom = {
        "price": {"DataType": "Number.float", "StringValue": "3.25"},
        "tag": {"DataType": "String.label", "StringValue": "x"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="c", MessageAttributes=custom)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(custom)
    [message] = receive_all(sqs, url, 1, MessageAttributeNames=["All"])
    assert message["MessageAttributes"] == custom


def test_send_message_batch(sqs, new_queue):
    url = new_queue("batch")
    entries = [
        {"Id": "plain", "MessageBody": "one"},
        {"Id": "with-attrs", "MessageBody": "two", "MessageAttributes": ATTRIBUTES},
        {"Id": "delayed_3", "MessageBody": "three", "DelaySeconds": 900},
    ]
    answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert answer.get("Failed", []) == []
    by_id = {e["Id"]: e for e in answer["Successful"]}
    assert set(by_id) == {"plain", "with-attrs", "delayed_3"}
    assert by_id["plain"]["MD5OfMessageBody"] == md5_hex("one")
    assert "MD5OfMessageAttributes" not in by_id["plain"]
    assert by_id["with-attrs"]["MD5OfMessageBody"] == md5_hex("two")
    assert by_id["with-attrs"]["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    assert len({e["MessageId"] for e in by_id.values()}) == 3
    got = receive_all(sqs, url, 2, MessageAttributeNames=["All"])
    assert {m["Body"] for m in got} == {"one", "two"}  # "three" is delayed
    assert {m["MessageId"] for m in got} == {by_id["plain"]["MessageId"], by_id["with-attrs"]["MessageId"]}
    counts = attrs(sqs, url, "ApproximateNumberOfMessagesDelayed")
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"


def test_message_delay_then_delivery(sqs, new_queue):
    url = new_queue("delay")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=2)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    [message] = receive_all(sqs, url, 1, deadline=15)
    assert message["Body"] == "later"


def test_queue_delay_applies_to_messages(sqs, new_queue):
    url = new_queue("qdelay", DelaySeconds=900)
    sqs.send_message(QueueUrl=url, MessageBody="held")
    assert attrs(sqs, url, "ApproximateNumberOfMessagesDelayed")["ApproximateNumberOfMessagesDelayed"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    # A per-message delay overrides the queue's.
    sqs.send_message(QueueUrl=url, MessageBody="now", DelaySeconds=0)
    [message] = receive_all(sqs, url, 1)
    assert message["Body"] == "now"


def test_message_size_limit_default(sqs, new_queue):
    url = new_queue("big")
    limit = 1024 * 1024
    sqs.send_message(QueueUrl=url, MessageBody="x" * limit)
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x" * (limit + 1))
    assert_invalid_parameter_value(info)
    assert attrs(sqs, url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "1"


def test_message_size_limit_of_the_queue(sqs, new_queue):
    url = new_queue("small", MaximumMessageSize=1024)
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="y" * 1025)
    assert_invalid_parameter_value(info)
    sent = sqs.send_message(QueueUrl=url, MessageBody="y" * 1024)
    [message] = receive_all(sqs, url, 1)
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == "y" * 1024


# ---------------------------------------------------------------- batch errors


def test_batch_with_duplicate_ids(sqs, new_queue):
    url = new_queue("dupid")
    with pytest.raises(ClientError) as info:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "a", "MessageBody": "2"}])
    assert_sqs_error(info, "BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
    assert attrs(sqs, url, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "0"


def test_batch_with_too_many_entries(sqs, new_queue):
    url = new_queue("toomany")
    entries = [{"Id": f"m{i:02d}", "MessageBody": str(i)} for i in range(11)]
    with pytest.raises(ClientError) as info:
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert_sqs_error(info, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest")
    with pytest.raises(ClientError) as info:
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i:02d}", "ReceiptHandle": f"handle-{i}"} for i in range(11)])
    assert_sqs_error(info, "TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest")
    # Ten is fine.
    answer = sqs.send_message_batch(QueueUrl=url, Entries=entries[:10])
    assert len(answer["Successful"]) == 10


def test_empty_batch(sqs_unchecked, new_queue):
    url = new_queue("empty")
    for call in (
        lambda: sqs_unchecked.send_message_batch(QueueUrl=url, Entries=[]),
        lambda: sqs_unchecked.delete_message_batch(QueueUrl=url, Entries=[]),
        lambda: sqs_unchecked.change_message_visibility_batch(QueueUrl=url, Entries=[]),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert_sqs_error(info, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest")


def test_batch_with_invalid_entry_id(sqs, new_queue):
    url = new_queue("badid")
    with pytest.raises(ClientError) as info:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "not valid!", "MessageBody": "1"}])
    assert_sqs_error(info, "InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId")


# ---------------------------------------------------------------- ReceiveMessage


def test_receive_max_number_of_messages(sqs, new_queue):
    url = new_queue("max")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": f"body-{i}"} for i in range(5)])
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, WaitTimeSeconds=5, VisibilityTimeout=60)
    assert 1 <= len(first["Messages"]) <= 2
    rest = receive_all(sqs, url, 5 - len(first["Messages"]), VisibilityTimeout=60)
    bodies = [m["Body"] for m in first["Messages"] + rest]
    assert sorted(bodies) == [f"body-{i}" for i in range(5)]  # each once: received ones stay invisible
    # Default is one message.
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": "again"} for i in range(3)])
    assert len(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]) == 1


def test_receive_parameter_limits(sqs, new_queue):
    url = new_queue("limits")
    with pytest.raises(ClientError) as info:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert_invalid_parameter_value(info)
    with pytest.raises(ClientError) as info:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=0)
    assert_invalid_parameter_value(info)
    with pytest.raises(ClientError) as info:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21)
    assert_invalid_parameter_value(info)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)


def test_long_poll_returns_as_soon_as_a_message_is_sent(sqs, new_queue):
    url = new_queue("longpoll")

    def send_later():
        time.sleep(1.0)  # let the receive below start waiting first
        sqs_sender.send_message(QueueUrl=url, MessageBody="woke you")

    sqs_sender = aws_client("sqs", sqs.meta.endpoint_url)
    sender = threading.Thread(target=send_later)
    started = time.monotonic()
    sender.start()
    answer = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    elapsed = time.monotonic() - started
    sender.join()
    assert [m["Body"] for m in answer.get("Messages", [])] == ["woke you"]
    assert elapsed < 10, f"the long poll answered after {elapsed:.1f}s, not when the message came"


def test_long_poll_without_messages_waits_then_returns_empty(sqs, new_queue):
    url = new_queue("emptypoll")
    started = time.monotonic()
    answer = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert "Messages" not in answer
    assert time.monotonic() - started >= 0.9


def test_queue_receive_wait_time_is_the_default_long_poll(sqs, new_queue):
    url = new_queue("qwait", ReceiveMessageWaitTimeSeconds=2)
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert time.monotonic() - started >= 1.8


def test_visibility_timeout_per_receive(sqs, new_queue):
    url = new_queue("vis")
    sqs.send_message(QueueUrl=url, MessageBody="peekaboo")
    [first] = receive_all(sqs, url, 1, VisibilityTimeout=2, AttributeNames=["ApproximateReceiveCount"])
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    [again] = receive_all(sqs, url, 1, deadline=20, AttributeNames=["ApproximateReceiveCount"])
    assert again["MessageId"] == first["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert again["ReceiptHandle"] != first["ReceiptHandle"]  # every receive issues a new handle


def test_receive_count_increments(sqs, new_queue):
    url = new_queue("count")
    sqs.send_message(QueueUrl=url, MessageBody="again and again")
    counts = []
    for _ in range(3):
        [message] = receive_all(sqs, url, 1, VisibilityTimeout=0, MessageSystemAttributeNames=["ApproximateReceiveCount"])
        counts.append(message["Attributes"]["ApproximateReceiveCount"])
    assert counts == ["1", "2", "3"]


def test_system_attribute_names(sqs, new_queue):
    url = new_queue("sysattr")
    before_ms = int(time.time() * 1000)
    sqs.send_message(QueueUrl=url, MessageBody="meta")
    [message] = receive_all(sqs, url, 1, VisibilityTimeout=0, AttributeNames=["All"])
    got = message["Attributes"]
    assert {"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"} <= set(got)
    for key, value in got.items():
        assert isinstance(value, str), (key, value)
    assert got["ApproximateReceiveCount"] == "1"
    # Epoch milliseconds.
    assert before_ms - 5000 <= int(got["SentTimestamp"]) <= time.time() * 1000 + 5000
    assert int(got["SentTimestamp"]) <= int(got["ApproximateFirstReceiveTimestamp"]) <= time.time() * 1000 + 5000

    [message] = receive_all(sqs, url, 1, VisibilityTimeout=0, MessageSystemAttributeNames=["SentTimestamp"])
    assert set(message["Attributes"]) == {"SentTimestamp"}
    [message] = receive_all(sqs, url, 1, VisibilityTimeout=0, MessageSystemAttributeNames=["All"])
    assert message["Attributes"]["ApproximateReceiveCount"] == "3"
    [message] = receive_all(sqs, url, 1, VisibilityTimeout=0)
    assert "Attributes" not in message


def test_message_attribute_names_select(sqs, new_queue):
    url = new_queue("select")
    sent_attrs = {
        "foo.a": {"DataType": "String", "StringValue": "A"},
        "foo.b": {"DataType": "Number", "StringValue": "2"},
        "bar": {"DataType": "String", "StringValue": "B"},
    }
    sqs.send_message(QueueUrl=url, MessageBody="pick", MessageAttributes=sent_attrs)

    def received(names):
        kwargs = {"MessageAttributeNames": names} if names is not None else {}
        [message] = receive_all(sqs, url, 1, VisibilityTimeout=0, **kwargs)
        return message

    for names, expected in (
        (["All"], sent_attrs),
        ([".*"], sent_attrs),
        (["bar"], {"bar": sent_attrs["bar"]}),
        (["foo.*"], {"foo.a": sent_attrs["foo.a"], "foo.b": sent_attrs["foo.b"]}),
        (["foo.b", "bar"], {"foo.b": sent_attrs["foo.b"], "bar": sent_attrs["bar"]}),
    ):
        message = received(names)
        assert message.get("MessageAttributes") == expected, names
        # The digest covers what was returned, so SDKs that check it (Java, .NET, Go) accept the message.
        assert message["MD5OfMessageAttributes"] == md5_of_attributes(expected), names
    assert "MessageAttributes" not in received(["nothing-like-this"])
    assert "MessageAttributes" not in received(None)


# ---------------------------------------------------------------- DeleteMessage, visibility, purge


def test_delete_message(sqs, new_queue):
    url = new_queue("delmsg")
    sqs.send_message(QueueUrl=url, MessageBody="bye")
    [message] = receive_all(sqs, url, 1, VisibilityTimeout=1)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    counts = attrs(sqs, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
    assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    # Still gone after the visibility timeout would have run out.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)


def test_delete_message_with_a_garbage_receipt_handle(sqs, new_queue):
    url = new_queue("garbage")
    with pytest.raises(ClientError) as info:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-receipt-handle")
    assert_sqs_error(info, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid")


def test_delete_message_batch(sqs, new_queue):
    url = new_queue("delbatch")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": f"b{i}"} for i in range(3)])
    got = receive_all(sqs, url, 3, VisibilityTimeout=60)
    entries = [{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
    entries.append({"Id": "bogus", "ReceiptHandle": "not-a-receipt-handle"})
    answer = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    assert sorted(e["Id"] for e in answer["Successful"]) == ["d0", "d1", "d2"]
    [failed] = answer["Failed"]
    assert failed["Id"] == "bogus"
    assert failed["Code"] == "ReceiptHandleIsInvalid"
    assert failed["SenderFault"] is True
    counts = attrs(sqs, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
    assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_change_message_visibility_to_zero(sqs, new_queue):
    url = new_queue("chvis")
    sqs.send_message(QueueUrl=url, MessageBody="back")
    [message] = receive_all(sqs, url, 1, VisibilityTimeout=600)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    [again] = receive_all(sqs, url, 1, AttributeNames=["ApproximateReceiveCount"], VisibilityTimeout=600)
    assert again["MessageId"] == message["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_change_message_visibility_extends(sqs, new_queue):
    url = new_queue("chvis-ext")
    sqs.send_message(QueueUrl=url, MessageBody="hold")
    [message] = receive_all(sqs, url, 1, VisibilityTimeout=1)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=600)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)
    with pytest.raises(ClientError) as info:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=43201)
    assert_invalid_parameter_value(info)


def test_change_message_visibility_batch(sqs, new_queue):
    url = new_queue("chvisb")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": f"b{i}"} for i in range(2)])
    got = receive_all(sqs, url, 2, VisibilityTimeout=600)
    answer = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[{"Id": f"c{i}", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(got)],
    )
    assert sorted(e["Id"] for e in answer["Successful"]) == ["c0", "c1"]
    assert answer.get("Failed", []) == []
    again = receive_all(sqs, url, 2, VisibilityTimeout=600)
    assert {m["MessageId"] for m in again} == {m["MessageId"] for m in got}


def test_purge_queue(sqs, new_queue):
    url = new_queue("purge")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": f"b{i}"} for i in range(3)])
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=600, WaitTimeSeconds=5)["Messages"]  # in flight: purged too
    sqs.purge_queue(QueueUrl=url)

    def emptied():
        counts = attrs(sqs, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        return set(counts.values()) == {"0"}

    wait_for(emptied, "the purged queue to be empty")
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    # The queue itself stays and takes new messages.
    sqs.send_message(QueueUrl=url, MessageBody="after")
    assert [m["Body"] for m in receive_all(sqs, url, 1)] == ["after"]


# ---------------------------------------------------------------- dead-letter queues, redrive


def test_list_dead_letter_source_queues(sqs, new_queue):
    dlq = new_queue("dlsq-dlq")
    dlq_arn = arn_of(sqs, dlq)
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    sources = {new_queue("dlsq-src", RedrivePolicy=policy) for _ in range(2)}
    new_queue("dlsq-unrelated")
    assert set(sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]) == sources


def test_dead_letter_then_start_message_move_task(sqs, new_queue):
    dlq = new_queue("move-dlq")
    dlq_arn = arn_of(sqs, dlq)
    src = new_queue("move-src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    bodies = {"first", "second"}
    for body in bodies:
        sqs.send_message(QueueUrl=src, MessageBody=body)
    # First receive: count 1, handed back at once. The next receive would exceed maxReceiveCount=1, so the
    # messages move to the dead-letter queue instead of being delivered.
    first = receive_all(sqs, src, 2, distinct=True, VisibilityTimeout=0)
    assert {m["Body"] for m in first} == bodies

    def dead_lettered():
        answer = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
        assert "Messages" not in answer, f"delivered past maxReceiveCount: {answer['Messages']!r}"
        return attrs(sqs, dlq, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "2"

    wait_for(dead_lettered, "both messages in the dead-letter queue")
    in_dlq = receive_all(sqs, dlq, 2, distinct=True, VisibilityTimeout=0)
    assert {m["Body"] for m in in_dlq} == bodies

    moved_at = int(time.time() * 1000)  # the host runs on this machine's clock
    task = sqs.start_message_move_task(SourceArn=dlq_arn)
    assert task["TaskHandle"]

    def moved_back():
        counts = attrs(sqs, src, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"]
        return counts == "2" and attrs(sqs, dlq, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "0"

    wait_for(moved_back, "the messages to move back to the source queue")
    back = receive_all(sqs, src, 2, AttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
    assert {m["Body"] for m in back} == bodies
    # A redrive makes new messages (SQS): new ids, sent now, received once so far.
    assert not {m["MessageId"] for m in back} & {m["MessageId"] for m in in_dlq}
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in back] == ["1", "1"]
    assert all(int(m["Attributes"]["SentTimestamp"]) >= moved_at for m in back)
    tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert tasks and tasks[0]["SourceArn"] == dlq_arn
    assert tasks[0]["Status"] in ("RUNNING", "COMPLETED")


# ---------------------------------------------------------------- tags


def test_tags(sqs, new_queue):
    url = new_queue("tags", tags={"team": "core"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev", "cost": "12"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core", "env": "dev", "cost": "12"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "cost"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


# ---------------------------------------------------------------- queue URLs and regions


def test_any_queue_url_resolves_by_its_name(sqs, new_queue):
    url = new_queue("anyurl")
    name = name_of(url)
    for other in (
        f"http://localhost:1/{ACCOUNT}/{name}",
        f"http://sqs.us-east-1.localhost.localstack.cloud:4566/{ACCOUNT}/{name}",
    ):
        sent = sqs.send_message(QueueUrl=other, MessageBody=other)
        assert sent["MD5OfMessageBody"] == md5_hex(other)
    got = receive_all(sqs, url, 2)
    assert {m["Body"] for m in got} == {
        f"http://localhost:1/{ACCOUNT}/{name}",
        f"http://sqs.us-east-1.localhost.localstack.cloud:4566/{ACCOUNT}/{name}",
    }


def test_region_comes_from_the_credential_scope(control_url):
    sqs_eu = aws_client("sqs", control_url, region="eu-west-1")
    sns_eu = aws_client("sns", control_url, region="eu-west-1")
    name = unique("eu")
    url = sqs_eu.create_queue(QueueName=name)["QueueUrl"]
    topic_arn = sns_eu.create_topic(Name=name)["TopicArn"]
    try:
        assert url == f"{control_url}/{ACCOUNT}/{name}"
        assert arn_of(sqs_eu, url) == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:{name}"
        assert topic_arn == f"arn:aws:sns:eu-west-1:{ACCOUNT}:{name}"
    finally:
        sns_eu.delete_topic(TopicArn=topic_arn)
        sqs_eu.delete_queue(QueueUrl=url)


# ---------------------------------------------------------------- the query protocol (older SDKs)


def query(control_url: str, params: dict, path: str = "/"):
    """A SigV4-signed form POST of the SQS query protocol, as older SDKs send it; returns the response."""
    body = urllib.parse.urlencode({"Version": "2012-11-05", **params})
    url = control_url + path
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    )
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"), "sqs", REGION).add_auth(request)
    return requests.post(url, data=body, headers=dict(request.headers), timeout=60)


def xml_of(response, operation: str):
    assert response.status_code == 200, (response.status_code, response.text)
    root = ET.fromstring(response.content)
    assert root.tag == f"{{{QUERY_NS}}}{operation}Response", response.text
    assert root.find("q:ResponseMetadata/q:RequestId", NS) is not None, response.text
    return root


def test_query_protocol_round_trip(sqs, control_url):
    name = unique("query")
    created = xml_of(
        query(control_url, {"Action": "CreateQueue", "QueueName": name, "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "10"}),
        "CreateQueue",
    )
    url = created.findtext("q:CreateQueueResult/q:QueueUrl", namespaces=NS)
    assert url == f"{control_url}/{ACCOUNT}/{name}"
    try:
        # What the query protocol made, the JSON protocol sees.
        assert attrs(sqs, url, "VisibilityTimeout")["VisibilityTimeout"] == "10"

        got_url = xml_of(query(control_url, {"Action": "GetQueueUrl", "QueueName": name}), "GetQueueUrl")
        assert got_url.findtext("q:GetQueueUrlResult/q:QueueUrl", namespaces=NS) == url

        # SendMessage posted to the queue's path, with no QueueUrl parameter.
        body = "query <body> & more"
        sent = xml_of(
            query(
                control_url,
                {
                    "Action": "SendMessage",
                    "MessageBody": body,
                    "MessageAttribute.1.Name": "a",
                    "MessageAttribute.1.Value.DataType": "String",
                    "MessageAttribute.1.Value.StringValue": "x",
                },
                path=f"/{ACCOUNT}/{name}",
            ),
            "SendMessage",
        )
        result = sent.find("q:SendMessageResult", NS)
        assert result.findtext("q:MD5OfMessageBody", namespaces=NS) == md5_hex(body)
        assert result.findtext("q:MD5OfMessageAttributes", namespaces=NS) == md5_of_attributes(
            {"a": {"DataType": "String", "StringValue": "x"}}
        )
        message_id = result.findtext("q:MessageId", namespaces=NS)
        assert message_id

        received = xml_of(
            query(
                control_url,
                {
                    "Action": "ReceiveMessage",
                    "QueueUrl": url,
                    "AttributeName.1": "All",
                    "MessageAttributeName.1": "All",
                    "MaxNumberOfMessages": "10",
                    "WaitTimeSeconds": "5",
                },
            ),
            "ReceiveMessage",
        )
        [message] = received.findall("q:ReceiveMessageResult/q:Message", NS)
        assert message.findtext("q:MessageId", namespaces=NS) == message_id
        assert message.findtext("q:Body", namespaces=NS) == body
        assert message.findtext("q:MD5OfBody", namespaces=NS) == md5_hex(body)
        system = {a.findtext("q:Name", namespaces=NS): a.findtext("q:Value", namespaces=NS) for a in message.findall("q:Attribute", NS)}
        assert system["ApproximateReceiveCount"] == "1"
        assert system["SentTimestamp"].isdigit()
        [attribute] = message.findall("q:MessageAttribute", NS)
        assert attribute.findtext("q:Name", namespaces=NS) == "a"
        assert attribute.findtext("q:Value/q:DataType", namespaces=NS) == "String"
        assert attribute.findtext("q:Value/q:StringValue", namespaces=NS) == "x"
        assert message.findtext("q:MD5OfMessageAttributes", namespaces=NS) == md5_of_attributes(
            {"a": {"DataType": "String", "StringValue": "x"}}
        )

        handle = message.findtext("q:ReceiptHandle", namespaces=NS)
        xml_of(query(control_url, {"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": handle}), "DeleteMessage")
        counts = attrs(sqs, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_query_protocol_error(control_url):
    response = query(control_url, {"Action": "GetQueueUrl", "QueueName": unique("missing")})
    assert response.status_code == 400, response.text
    root = ET.fromstring(response.content)

    def local(tag):
        return tag.rsplit("}", 1)[-1]

    assert local(root.tag) == "ErrorResponse", response.text
    [error] = [e for e in root if local(e.tag) == "Error"]
    fields = {local(e.tag): e.text for e in error}
    assert fields["Type"] == "Sender"
    assert fields["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert fields["Message"]


# ---------------------------------------------------------------- the stock aws CLI


def test_aws_cli_create_send_receive(aws_cli, sqs):
    name = unique("cli")
    url = aws_cli("sqs", "create-queue", "--queue-name", name, "--attributes", "VisibilityTimeout=20").json["QueueUrl"]
    try:
        assert url.endswith(f"/{ACCOUNT}/{name}")
        sent = aws_cli(
            "sqs", "send-message", "--queue-url", url, "--message-body", "from the cli",
            "--message-attributes", json.dumps({"a": {"DataType": "String", "StringValue": "x"}}),
        ).json
        assert sent["MD5OfMessageBody"] == md5_hex("from the cli")
        assert sent["MD5OfMessageAttributes"] == md5_of_attributes({"a": {"DataType": "String", "StringValue": "x"}})
        got = aws_cli(
            "sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "5",
            "--attribute-names", "All", "--message-attribute-names", "All",
        ).json
        [message] = got["Messages"]
        assert message["MessageId"] == sent["MessageId"]
        assert message["Body"] == "from the cli"
        assert message["MessageAttributes"] == {"a": {"DataType": "String", "StringValue": "x"}}
        assert message["Attributes"]["ApproximateReceiveCount"] == "1"
        assert attrs(sqs, url, "VisibilityTimeout")["VisibilityTimeout"] == "20"
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_aws_cli_missing_queue(aws_cli, control_url):
    result = aws_cli(
        "sqs", "send-message", "--queue-url", f"{control_url}/{ACCOUNT}/{unique('missing')}", "--message-body", "x",
        check=False,
    )
    assert result.returncode != 0
    assert "AWS.SimpleQueueService.NonExistentQueue" in result.stderr or "QueueDoesNotExist" in result.stderr, result.stderr


# ---------------------------------------------------------------- Stratus: declared queues, /v1 and the stratus CLI


def test_declared_queue_cannot_be_deleted_or_changed(sqs):
    url = sqs.get_queue_url(QueueName="declared-q")["QueueUrl"]
    before = attrs(sqs, url)
    assert before["VisibilityTimeout"] == "30"
    with pytest.raises(ClientError) as info:
        sqs.delete_queue(QueueUrl=url)
    assert_sqs_error(info, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation")
    assert "triggers/aws.yaml" in error_of(info)["Message"], error_of(info)
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5"})
    assert_sqs_error(info, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation")
    assert "triggers/aws.yaml" in error_of(info)["Message"], error_of(info)
    assert sqs.get_queue_url(QueueName="declared-q")["QueueUrl"] == url
    assert attrs(sqs, url, "VisibilityTimeout")["VisibilityTimeout"] == "30"


def test_declared_queue_sends_and_receives(sqs):
    url = sqs.get_queue_url(QueueName="declared-q")["QueueUrl"]
    body = unique("declared-body")
    sent = sqs.send_message(QueueUrl=url, MessageBody=body)
    end = time.monotonic() + 30
    while True:
        assert time.monotonic() < end, "the message sent to declared-q never came back"
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        mine = [m for m in messages if m["MessageId"] == sent["MessageId"]]
        for m in messages:
            if m not in mine:  # someone else's: hand it back
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        if mine:
            break
    assert mine[0]["Body"] == body
    sqs.delete_message(QueueUrl=url, ReceiptHandle=mine[0]["ReceiptHandle"])


def test_queue_made_through_sqs_is_a_stratus_queue(sqs, control_url, new_queue):
    dlq = new_queue("v1-dlq")
    url = new_queue(
        "v1",
        VisibilityTimeout=12,
        RedrivePolicy=json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 4}),
    )
    name = name_of(url)
    sqs.send_message(QueueUrl=url, MessageBody="counted")

    listed = requests.get(f"{control_url}/v1/queues", timeout=30).json()["queues"]
    [queue] = [q for q in listed if q["name"] == name]
    assert queue["visibilityTimeoutMs"] == 12000
    assert queue["maxReceiveCount"] == 4
    assert queue["deadLetterQueue"] == name_of(dlq)
    assert queue["counts"]["visible"] == 1

    cli = subprocess.run(
        [STRATUS_BIN, "queues", "--endpoint", control_url, "--json"], capture_output=True, text=True, timeout=60
    )
    assert cli.returncode == 0, cli.stderr
    assert name in {q["name"] for q in json.loads(cli.stdout)["queues"]}
    text = subprocess.run([STRATUS_BIN, "queues", "--endpoint", control_url], capture_output=True, text=True, timeout=60)
    assert text.returncode == 0 and name in text.stdout, text

    sqs.delete_queue(QueueUrl=url)
    listed = requests.get(f"{control_url}/v1/queues", timeout=30).json()["queues"]
    assert name not in {q["name"] for q in listed}


def test_queue_made_through_v1_is_an_sqs_queue(sqs, control_url):
    name = unique("from-v1")
    made = requests.post(f"{control_url}/v1/queues", json={"name": name, "visibilityTimeout": "7s"}, timeout=30)
    assert made.status_code == 201, made.text
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        assert url == f"{control_url}/{ACCOUNT}/{name}"
        assert attrs(sqs, url, "VisibilityTimeout")["VisibilityTimeout"] == "7"
    finally:
        sqs.delete_queue(QueueUrl=f"{control_url}/{ACCOUNT}/{name}")


def test_purge_twice_within_a_minute_is_purge_queue_in_progress(sqs, new_queue):
    url = new_queue("purge2")
    sqs.send_message(QueueUrl=url, MessageBody="gone")
    sqs.purge_queue(QueueUrl=url)
    with pytest.raises(ClientError) as raised:
        sqs.purge_queue(QueueUrl=url)
    assert raised.value.response["Error"]["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_visibility_change_of_a_deleted_message_is_invalid_parameter_value(sqs, new_queue):
    url = new_queue("vis-deleted")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    with pytest.raises(ClientError) as raised:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_new_queues_report_managed_encryption_on(sqs, new_queue):
    url = new_queue("sse")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["SqsManagedSseEnabled"])["Attributes"]
    assert attributes == {"SqsManagedSseEnabled": "true"}


def test_out_of_range_numbers_are_named_in_the_error(sqs, new_queue):
    url = new_queue("named")
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValue"
    assert error["Message"].startswith("Value 901 for parameter DelaySeconds is invalid")


# ---------------------------------------------------------------- found by an audit against AWS's documented behaviour


def test_visibility_change_of_a_message_visible_again_succeeds_and_changes_nothing(sqs, new_queue):
    # What LocalStack (an AWS-validated test) and moto found SQS doing: 200, and the message stays visible.
    url = new_queue("not-inflight")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [message] = receive_all(sqs, url, 1, VisibilityTimeout=600)
    handle = message["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)  # in flight: visible now
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=600)
    answer = sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": handle, "VisibilityTimeout": 600}])
    assert [e["Id"] for e in answer["Successful"]] == ["a"] and not answer.get("Failed"), answer
    # ... and neither change hid it again.
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])] == ["x"]


def test_visibility_is_at_most_twelve_hours_from_the_receive(sqs, new_queue):
    url = new_queue("twelve-hours")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    [message] = receive_all(sqs, url, 1, VisibilityTimeout=43_200)
    handle = message["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43_000)  # within 12 h
    time.sleep(1.1)
    with pytest.raises(ClientError) as info:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43_200)
    assert_invalid_parameter_value(info)
    assert "43200 seconds" in error_of(info)["Message"], error_of(info)


def test_list_dead_letter_source_queues_pages(sqs, new_queue):
    dlq = new_queue("dlsq-page-dlq")
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 3})
    sources = {new_queue("dlsq-page-src", RedrivePolicy=policy) for _ in range(3)}
    first = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2)
    assert len(first["queueUrls"]) == 2 and first["NextToken"]
    second = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert set(first["queueUrls"] + second["queueUrls"]) == sources
    pages = sqs.get_paginator("list_dead_letter_source_queues").paginate(QueueUrl=dlq, PaginationConfig={"PageSize": 1})
    assert sorted(u for page in pages for u in page["queueUrls"]) == sorted(sources)
    for bad in (0, 1001):
        with pytest.raises(ClientError) as info:
            sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=bad)
        assert_invalid_parameter_value(info)


def test_message_move_task_limits(sqs, new_queue):
    dlq = new_queue("move-limits-dlq")
    dlq_arn = arn_of(sqs, dlq)
    new_queue("move-limits-src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    for bad in (0, 501):
        with pytest.raises(ClientError) as info:
            sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=bad)
        assert_invalid_parameter_value(info)
    sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=500)
    sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)
    # The most recent task unless more are asked for, at most 10; each shows the rate it was given.
    assert [t["MaxNumberOfMessagesPerSecond"] for t in sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]] == [1]
    assert len(sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]) == 2
    with pytest.raises(ClientError) as info:
        sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=11)
    assert_invalid_parameter_value(info)


def test_a_move_task_needs_queue_arns_and_two_queues(sqs, new_queue):
    dlq = new_queue("move-arns-dlq")
    dlq_arn = arn_of(sqs, dlq)
    new_queue("move-arns-src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    for call in (lambda: sqs.start_message_move_task(SourceArn="not-an-arn"),
                 lambda: sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn="queue-name"),
                 lambda: sqs.list_message_move_tasks(SourceArn="not-an-arn")):
        with pytest.raises(ClientError) as info:
            call()
        assert_invalid_parameter_value(info)
        assert "arn:<partition>:<service>:<region>:<account-id>:<resource-id>" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=dlq_arn)
    assert_invalid_parameter_value(info)
    # Tasks of a queue that does not exist: not found, as a task started on it.
    with pytest.raises(ClientError) as info:
        sqs.list_message_move_tasks(SourceArn=dlq_arn + "-gone")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException", info.value.response
    assert status_of(info) == 404


def test_a_move_task_leaves_dead_lettered_messages_in_flight_with_their_receiver(sqs, new_queue):
    dlq = new_queue("move-inflight-dlq")
    dlq_arn = arn_of(sqs, dlq)
    src = new_queue("move-inflight-src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    for body in ("busy", "idle"):
        sqs.send_message(QueueUrl=src, MessageBody=body)
    receive_all(sqs, src, 2, distinct=True, VisibilityTimeout=0)

    def dead_lettered():
        sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return attrs(sqs, dlq, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "2"

    wait_for(dead_lettered, "both messages in the dead-letter queue")
    held = {m["Body"]: m["ReceiptHandle"] for m in receive_all(sqs, dlq, 2, distinct=True, VisibilityTimeout=60)}
    sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=held["idle"], VisibilityTimeout=0)
    sqs.start_message_move_task(SourceArn=dlq_arn)
    assert sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["ApproximateNumberOfMessagesMoved"] == 1
    # Its receiver still holds "busy": the delete takes it, and it never reaches the source queue again.
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=held["busy"])
    assert [m["Body"] for m in receive_all(sqs, src, 1)] == ["idle"]
    assert attrs(sqs, dlq, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible") == {
        "ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_a_move_task_between_missing_queues_is_not_found(sqs, new_queue):
    dlq = new_queue("move-missing-dlq")
    dlq_arn = arn_of(sqs, dlq)
    new_queue("move-missing-src", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    missing = dlq_arn.rsplit(":", 1)[0] + ":" + unique("no-such-queue")
    for kwargs, parameter in (({"SourceArn": missing}, "SourceArn"),
                              ({"SourceArn": dlq_arn, "DestinationArn": missing}, "DestinationArn")):
        with pytest.raises(ClientError) as info:
            sqs.start_message_move_task(**kwargs)
        err = info.value.response
        assert err["Error"]["Code"] == "ResourceNotFoundException", err
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 404, err
        assert parameter in err["Error"]["Message"], err


def test_attributes_sqs_keeps_are_checked_and_an_empty_one_is_removed(sqs, new_queue):
    url = new_queue("kept")
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy, "KmsMasterKeyId": "alias/aws/sqs",
                                                       "KmsDataKeyReusePeriodSeconds": "60"})
    got = attrs(sqs, url)
    assert got["Policy"] == policy and got["KmsMasterKeyId"] == "alias/aws/sqs"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": "", "KmsMasterKeyId": "",
                                                       "KmsDataKeyReusePeriodSeconds": "86400"})
    got = attrs(sqs, url)
    # Without a KMS key there is no key reuse period to show.
    assert "Policy" not in got and "KmsMasterKeyId" not in got and "KmsDataKeyReusePeriodSeconds" not in got, got
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "alias/k", "KmsDataKeyReusePeriodSeconds": "86400"})
    assert attrs(sqs, url, "KmsDataKeyReusePeriodSeconds") == {"KmsDataKeyReusePeriodSeconds": "86400"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": ""})
    assert "KmsDataKeyReusePeriodSeconds" not in attrs(sqs, url)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "false"})
    assert attrs(sqs, url, "SqsManagedSseEnabled") == {"SqsManagedSseEnabled": "false"}
    for name, value in [("Policy", "notjson"), ("KmsDataKeyReusePeriodSeconds", "59"),
                        ("KmsDataKeyReusePeriodSeconds", "86401"), ("SqsManagedSseEnabled", "yes")]:
        with pytest.raises(ClientError) as info:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={name: value})
        assert_sqs_error(info, "InvalidAttributeValue", "InvalidAttributeValue")
    # FIFO throughput settings: a FIFO queue's, with their defaults shown and their values checked.
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "queue"})
    assert error_of(info)["Code"] == "InvalidAttributeName"
    fifo = sqs.create_queue(QueueName=unique("kept") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    try:
        got = attrs(sqs, fifo)
        assert got["DeduplicationScope"] == "queue" and got["FifoThroughputLimit"] == "perQueue", got
        sqs.set_queue_attributes(
            QueueUrl=fifo, Attributes={"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"})
        got = attrs(sqs, fifo, "DeduplicationScope", "FifoThroughputLimit")
        assert got == {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
        for name in ("DeduplicationScope", "FifoThroughputLimit"):
            with pytest.raises(ClientError) as info:
                sqs.set_queue_attributes(QueueUrl=fifo, Attributes={name: "bogus"})
            assert error_of(info)["Code"] == "InvalidAttributeValue"
    finally:
        sqs.delete_queue(QueueUrl=fifo)


def test_redrive_policy_errors_are_invalid_attribute_value(sqs, new_queue):
    dlq_arn = arn_of(sqs, new_queue("rp-err-dlq"))
    url = new_queue("rp-err")
    for count in ("abc", 2.5, 0, 1001):
        with pytest.raises(ClientError) as info:
            sqs.set_queue_attributes(
                QueueUrl=url, Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": count})})
        assert error_of(info)["Code"] == "InvalidAttributeValue", (count, error_of(info))


def test_trace_header_must_be_a_string(sqs, new_queue):
    url = new_queue("trace-type")
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x",
                         MessageSystemAttributes={"AWSTraceHeader": {"DataType": "Number", "StringValue": "1"}})
    assert_invalid_parameter_value(info)


def test_error_messages_name_what_sqs_names(sqs_unchecked, new_queue):
    url = new_queue("texts")
    with pytest.raises(ClientError) as info:
        sqs_unchecked.send_message(QueueUrl=url, MessageBody="a\x1fb")
    assert error_of(info)["Message"].startswith("Invalid binary character '#x1F' was found in the message body")
    for operation, entry in [("delete_message_batch", "DeleteMessageBatchRequestEntry"),
                             ("change_message_visibility_batch", "ChangeMessageVisibilityBatchRequestEntry")]:
        with pytest.raises(ClientError) as info:
            getattr(sqs_unchecked, operation)(QueueUrl=url, Entries=[])
        assert error_of(info)["Code"] == "AWS.SimpleQueueService.EmptyBatchRequest"
        assert entry in error_of(info)["Message"], error_of(info)
    fifo = sqs_unchecked.create_queue(QueueName=unique("texts") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    try:
        with pytest.raises(ClientError) as info:
            sqs_unchecked.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g")
        assert "ContentBasedDeduplication" in error_of(info)["Message"], error_of(info)
    finally:
        sqs_unchecked.delete_queue(QueueUrl=fifo)


def test_a_standard_queue_accepts_a_message_group_not_a_deduplication_id(sqs, new_queue):
    # SQS's fair queues (2025): MessageGroupId on a standard queue is allowed; MessageDeduplicationId is not.
    url = new_queue("fair")
    sqs.send_message(QueueUrl=url, MessageBody="tenant-a", MessageGroupId="a")
    assert sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "tenant-b", "MessageGroupId": "b"}])["Successful"]
    assert sorted(m["Body"] for m in receive_all(sqs, url, 2)) == ["tenant-a", "tenant-b"]
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert_invalid_parameter_value(info)


def test_query_protocol_to_a_localstack_queue_url(sqs, control_url, new_queue):
    url = new_queue("ls-path")
    path = f"/queue/{REGION}/{ACCOUNT}/{name_of(url)}"
    sent = xml_of(query(control_url, {"Action": "SendMessage", "MessageBody": "via localstack url"}, path=path), "SendMessage")
    assert sent.findtext("q:SendMessageResult/q:MessageId", namespaces=NS)
    assert [m["Body"] for m in receive_all(sqs, url, 1)] == ["via localstack url"]


def test_a_binary_attribute_counts_its_bytes_not_its_base64(sqs, new_queue):
    url = new_queue("binsize", MaximumMessageSize=1024)
    blob = bytes(range(256)) + bytes(144)  # 400 bytes, 536 characters of base64
    attribute = {"blob": {"DataType": "Binary", "BinaryValue": blob}}
    fits = 1024 - len("blob") - len("Binary") - 400
    sqs.send_message(QueueUrl=url, MessageBody="x" * fits, MessageAttributes=attribute)  # exactly at the limit
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x" * (fits + 1), MessageAttributes=attribute)
    assert_invalid_parameter_value(info)
    [got] = receive_all(sqs, url, 1, MessageAttributeNames=["All"])
    assert got["MessageAttributes"]["blob"]["BinaryValue"] == blob


def test_a_standard_queue_checks_the_group_it_accepts(sqs, new_queue):
    url = new_queue("fair-check")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g" * 128)
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g" * 129)
    assert_invalid_parameter_value(info)


def test_a_query_call_sent_as_get_is_refused_in_xml(control_url):
    import urllib.error
    import urllib.request

    for version, namespace in (("2012-11-05", "queue.amazonaws.com"), ("2010-03-31", "sns.amazonaws.com")):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{control_url}/?Action=ListQueues&Version={version}", timeout=10)
        assert info.value.code == 400
        body = info.value.read().decode()
        assert "<ErrorResponse" in body and namespace in body and "<Code>InvalidRequest</Code>" in body, body
        assert "POST" in body
    with urllib.request.urlopen(f"{control_url}/", timeout=10) as page:  # the dashboard is still there
        assert page.headers["Content-Type"].startswith("text/html")

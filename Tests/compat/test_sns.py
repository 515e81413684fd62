"""SNS compatibility: what boto3 (the query protocol) and the stock `aws` CLI see against Stratus's control
port, and what a subscribed queue or HTTP endpoint receives. Written from AWS behaviour (spec sections 6 and
8); the tests at the end are about Stratus's own objects (trigger files, `/v1`, the CLI)."""

import base64
import hashlib
import json
import os
import re
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, STRATUS_BIN, arn_of, aws_client, unique, wait_for

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SUBSCRIPTION_ARN = re.compile(r"^arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HELLO_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:hello"


# ---------------------------------------------------------------- helpers


@pytest.fixture
def new_topic(sns):
    made = []

    def create(prefix="t", **attributes):
        arn = sns.create_topic(Name=unique(prefix), Attributes=attributes)["TopicArn"]
        made.append(arn)
        return arn

    yield create
    for arn in made:
        try:
            sns.delete_topic(TopicArn=arn)
        except ClientError:
            pass


@pytest.fixture
def queue_and_arn(new_queue, sqs):
    """queue_and_arn(prefix) -> (url, arn): a uniquely named queue, deleted after the test."""

    def create(prefix="q"):
        url = new_queue(prefix)
        return url, arn_of(sqs, url)

    return create


def subscribe_queue(sns, topic_arn, queue_arn, **attributes):
    return sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes, ReturnSubscriptionArn=True
    )["SubscriptionArn"]


def receive(sqs, url, want, deadline=30.0, **kwargs):
    got = []
    end = time.monotonic() + deadline
    while len(got) < want:
        assert time.monotonic() < end, f"received {len(got)} of {want} messages within {deadline}s: {got!r}"
        got.extend(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kwargs).get("Messages", []))
    return got


def drain(sqs, url, until_message_id, deadline=30.0, **kwargs):
    """Receives (and deletes) until the message whose SNS MessageId (envelope) or SQS body marker is
    `until_message_id` arrives; returns every message seen on the way, that one last."""
    seen = []
    end = time.monotonic() + deadline
    while True:
        assert time.monotonic() < end, f"{until_message_id} never arrived; got {seen!r}"
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kwargs).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            seen.append(m)
        if any(until_message_id in m["Body"] for m in seen):
            return seen


def error_of(info):
    return info.value.response["Error"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]


class Hook:
    """A local HTTP endpoint for `http` subscriptions; records every POST (path, lower-cased headers, body)."""

    def __init__(self):
        self.posts = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8")
                hook.posts.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                # /status/NNN/... answers NNN: an endpoint that fails.
                parts = self.path.split("/")
                self.send_response(int(parts[2]) if len(parts) > 2 and parts[1] == "status" else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notifications(self, path):
        return [(h, b) for p, h, b in list(self.posts) if p == path and h.get("x-amz-sns-message-type") == "Notification"]


@pytest.fixture(scope="module")
def hook():
    h = Hook()
    yield h
    h.server.shutdown()


# ---------------------------------------------------------------- topics


def test_create_topic_is_idempotent(sns, new_topic):
    arn = new_topic("create")
    name = arn.rsplit(":", 1)[-1]
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
    assert sns.create_topic(Name=name)["TopicArn"] == arn


def test_list_topics(sns, new_topic):
    arns = {new_topic("list") for _ in range(3)}
    listed = {t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]}
    assert arns <= listed


def test_delete_topic(sns, new_topic, queue_and_arn):
    arn = new_topic("delete")
    _, queue_arn = queue_and_arn("delete")
    sub = subscribe_queue(sns, arn, queue_arn)
    sns.delete_topic(TopicArn=arn)
    listed = {t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]}
    assert arn not in listed
    subs = {s["SubscriptionArn"] for page in sns.get_paginator("list_subscriptions").paginate() for s in page["Subscriptions"]}
    assert sub not in subs  # its subscriptions went with it
    with pytest.raises(sns.exceptions.NotFoundException) as info:
        sns.get_topic_attributes(TopicArn=arn)
    err, status = error_of(info)
    assert (err["Code"], status) == ("NotFound", 404)


def test_topic_attributes(sns, new_topic):
    arn = new_topic("attrs")
    got = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert got["TopicArn"] == arn
    assert got["Owner"] == ACCOUNT
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="My Topic")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "My Topic"
    with pytest.raises(ClientError) as info:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="NoSuchAttribute", AttributeValue="x")
    err, status = error_of(info)
    assert (err["Code"], status) == ("InvalidParameter", 400)


def test_create_topic_with_attributes(sns, new_topic):
    arn = new_topic("cattrs", DisplayName="Shown")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Shown"


def test_create_topic_again_with_other_attributes_is_refused(sns, new_topic):
    arn = new_topic("cdiff", DisplayName="First")
    name = arn.rsplit(":", 1)[1]
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "First"})["TopicArn"] == arn  # the same: answered
    with pytest.raises(ClientError) as info:
        sns.create_topic(Name=name, Attributes={"DisplayName": "Second"})
    err = info.value.response["Error"]
    assert err["Code"] == "InvalidParameter", err
    assert "already exists with different attributes" in err["Message"], err
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "First"


def test_create_topic_saying_it_is_standard(sns, new_topic):
    # Tools that always pass the flag send FifoTopic=false for a standard topic; SNS makes one.
    arn = new_topic("notfifo", FifoTopic="false")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["TopicArn"] == arn
    name = arn.rsplit(":", 1)[1]
    assert sns.create_topic(Name=name, Attributes={"FifoTopic": "false"})["TopicArn"] == arn
    with pytest.raises(ClientError) as info:
        sns.create_topic(Name=unique("isfifo"), Attributes={"FifoTopic": "true"})
    err, status = error_of(info)
    assert (err["Code"], status) == ("InvalidParameter", 400), err


def test_add_and_remove_permission_edit_the_topic_policy(sns, new_topic):
    arn = new_topic("perm")
    def statements():
        return json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
    before = statements()
    sns.add_permission(TopicArn=arn, Label="CrossAccountPublish", AWSAccountId=["111122223333"], ActionName=["Publish"])
    sns.add_permission(TopicArn=arn, Label="Two", AWSAccountId=["111122223333", "444455556666"],
                       ActionName=["Publish", "Subscribe"])
    added = {s["Sid"]: s for s in statements()[len(before):]}
    assert added["CrossAccountPublish"] == {
        "Sid": "CrossAccountPublish", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "SNS:Publish", "Resource": arn}, added
    assert added["Two"]["Principal"]["AWS"] == ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
    assert added["Two"]["Action"] == ["SNS:Publish", "SNS:Subscribe"]
    # The same label again, an action SNS does not have, a missing topic: errors that change nothing.
    for kwargs in ({"Label": "Two", "ActionName": ["Publish"]}, {"Label": "Bad", "ActionName": ["Fly"]},
                   {"Label": "Bad label!", "ActionName": ["Publish"]}):
        with pytest.raises(ClientError) as info:
            sns.add_permission(TopicArn=arn, AWSAccountId=["111122223333"], **kwargs)
        err, status = error_of(info)
        assert (err["Code"], status) == ("InvalidParameter", 400), err
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.add_permission(TopicArn=arn + "-missing", Label="X", AWSAccountId=["111122223333"], ActionName=["Publish"])
    assert len(statements()) == len(before) + 2
    # Concurrent calls each keep their statement (the policy is read and written under one lock).
    labels = [f"Concurrent{i}" for i in range(12)]
    threads = [threading.Thread(target=sns.add_permission, kwargs=dict(
        TopicArn=arn, Label=label, AWSAccountId=["111122223333"], ActionName=["Publish"])) for label in labels]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert set(labels) <= {s["Sid"] for s in statements()}
    for label in labels:
        sns.remove_permission(TopicArn=arn, Label=label)
    sns.remove_permission(TopicArn=arn, Label="CrossAccountPublish")
    sns.remove_permission(TopicArn=arn, Label="NeverAdded")  # nothing to remove: succeeds, as in SNS
    assert [s["Sid"] for s in statements()[len(before):]] == ["Two"]


def test_a_topic_policy_stays_within_the_limits_however_permissions_grow(sns, new_topic):
    arn = new_topic("permlimit")
    # A principal is an account: 12 digits.
    for account in ("1", "1" * 13, "12345678901x", "*"):
        with pytest.raises(ClientError) as info:
            sns.add_permission(TopicArn=arn, Label="Bad", AWSAccountId=[account], ActionName=["Publish"])
        err, status = error_of(info)
        assert (err["Code"], status) == ("InvalidParameter", 400), (account, err)
    # Statements are added until the policy would pass SNS's 30 KiB: that one is refused, the policy is kept as
    # it was, and it is still a policy SetTopicAttributes takes back.
    accounts = [f"{n:012d}" for n in range(100)]
    added = 0
    with pytest.raises(ClientError) as info:
        for i in range(100):
            sns.add_permission(TopicArn=arn, Label=f"Many{i}", AWSAccountId=accounts, ActionName=["Publish"])
            added += 1
    err, status = error_of(info)
    assert (err["Code"], status) == ("InvalidParameter", 400), err
    assert 1 <= added < 100
    policy = sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"]
    assert len(policy.encode()) <= 30720
    assert [s["Sid"] for s in json.loads(policy)["Statement"]][-1] == f"Many{added - 1}"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
    sns.remove_permission(TopicArn=arn, Label="Many0")
    sns.add_permission(TopicArn=arn, Label="AfterRoomWasMade", AWSAccountId=["111122223333"], ActionName=["Publish"])


def tags_of(sns, arn):
    return {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}


def test_topic_tags(sns, new_topic):
    # What Terraform and CloudFormation do with a topic: create it with tags, read them, change them.
    name = unique("tags")
    arn = sns.create_topic(Name=name, Tags=[{"Key": "team", "Value": "core"}, {"Key": "env", "Value": ""}])["TopicArn"]
    try:
        assert tags_of(sns, arn) == {"team": "core", "env": ""}
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "owner", "Value": "a@b.c"}])
        assert tags_of(sns, arn) == {"team": "core", "env": "dev", "owner": "a@b.c"}
        sns.untag_resource(ResourceArn=arn, TagKeys=["team", "not-there"])
        assert tags_of(sns, arn) == {"env": "dev", "owner": "a@b.c"}
        # Tags are not attributes.
        attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        assert not any(k.startswith("tag") or k in ("env", "owner") for k in attributes), attributes
        # Creating it again with the same tags, or none, answers it; with other tags is refused.
        assert sns.create_topic(Name=name)["TopicArn"] == arn
        assert sns.create_topic(
            Name=name, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "owner", "Value": "a@b.c"}]
        )["TopicArn"] == arn
        with pytest.raises(ClientError) as info:
            sns.create_topic(Name=name, Tags=[{"Key": "env", "Value": "prod"}])
        err, status = error_of(info)
        assert (err["Code"], status) == ("InvalidParameter", 400)
        assert "different tags" in err["Message"], err
        assert tags_of(sns, arn) == {"env": "dev", "owner": "a@b.c"}
    finally:
        sns.delete_topic(TopicArn=arn)


def test_topic_tag_limits(sns, new_topic):
    arn = new_topic("taglim")
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])  # the limit: taken
    assert len(tags_of(sns, arn)) == 50
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "changed"}])  # replacing one: still 50
    with pytest.raises(ClientError) as info:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    err, status = error_of(info)
    assert (err["Code"], status) == ("TagLimitExceeded", 400)
    assert len(tags_of(sns, arn)) == 50 and tags_of(sns, arn)["k0"] == "changed"  # nothing of the refused call kept
    for tags in (
        [{"Key": "x" * 129, "Value": "v"}],  # key over 128
        [{"Key": "k", "Value": "v" * 257}],  # value over 256
        [{"Key": "aws:reserved", "Value": "v"}],
        [{"Key": "bad\u0007key", "Value": "v"}],
    ):
        with pytest.raises(ClientError) as info:
            sns.tag_resource(ResourceArn=arn, Tags=tags)
        err, status = error_of(info)
        assert (err["Code"], status) == ("InvalidParameter", 400), tags
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k1", "Value": "x" * 256}])  # at the limits: taken
    sns.untag_resource(ResourceArn=arn, TagKeys=["k1"])
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "y" * 128, "Value": ""}])
    assert tags_of(sns, arn)["y" * 128] == ""


def test_tags_of_a_missing_topic_are_not_found(sns):
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{unique('missing')}"
    for call in (
        lambda: sns.list_tags_for_resource(ResourceArn=arn),
        lambda: sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}]),
        lambda: sns.untag_resource(ResourceArn=arn, TagKeys=["k"]),
    ):
        with pytest.raises(sns.exceptions.ResourceNotFoundException) as info:
            call()
        err, status = error_of(info)
        assert (err["Code"], status) == ("ResourceNotFound", 404)


def test_topic_tags_with_the_aws_cli(aws_cli, new_topic):
    arn = new_topic("clitags")
    aws_cli("sns", "tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=core")
    listed = aws_cli("sns", "list-tags-for-resource", "--resource-arn", arn).json
    assert listed["Tags"] == [{"Key": "team", "Value": "core"}]


def test_a_standard_topic_does_not_take_a_fifo_queue(sns, sqs, new_topic):
    arn = new_topic("tofifo")
    url = sqs.create_queue(QueueName=unique("fifo") + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    try:
        with pytest.raises(ClientError) as info:
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=arn_of(sqs, url))
        err = info.value.response["Error"]
        assert err["Code"] == "InvalidParameter", err
        assert "FIFO SQS Queues can not be subscribed to standard SNS topics" in err["Message"], err
        assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_a_script_deleting_what_it_lists_page_by_page_deletes_everything(sns, new_topic):
    # 150 topics with one prefix, listed 100 a page: the first page ends inside them, and its last topic is
    # deleted before the next page is asked for (a next token must not depend on that topic still existing).
    prefix = unique("--pagedel")  # sorts before every name that starts with a letter or a digit
    mine = {new_topic(prefix) for _ in range(150)}
    first = sns.list_topics()
    assert first["Topics"][-1]["TopicArn"] in mine and "NextToken" in first, "the first page must end inside them"
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            if topic["TopicArn"] in mine:
                sns.delete_topic(TopicArn=topic["TopicArn"])
    left = [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]
            if t["TopicArn"] in mine]
    assert left == [], f"{len(left)} topics left behind"


def test_missing_topic_is_not_found(sns):
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{unique('missing')}"
    for call in (
        lambda: sns.publish(TopicArn=arn, Message="x"),
        lambda: sns.get_topic_attributes(TopicArn=arn),
        lambda: sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:whatever"),
        lambda: sns.list_subscriptions_by_topic(TopicArn=arn),
    ):
        with pytest.raises(sns.exceptions.NotFoundException) as info:
            call()
        err, status = error_of(info)
        assert (err["Code"], status) == ("NotFound", 404)


# ---------------------------------------------------------------- subscriptions


def test_subscribe_a_queue(sns, new_topic, queue_and_arn):
    topic_arn = new_topic("subq")
    _, queue_arn = queue_and_arn("subq")
    sub = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    assert SUBSCRIPTION_ARN.match(sub), sub
    assert sub.startswith(topic_arn + ":")
    got = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert got["SubscriptionArn"] == sub
    assert got["TopicArn"] == topic_arn
    assert got["Protocol"] == "sqs"
    assert got["Endpoint"] == queue_arn
    assert got["Owner"] == ACCOUNT
    assert got["PendingConfirmation"] == "false"
    assert got["RawMessageDelivery"] == "false"
    # The same subscription again is the same subscription.
    assert sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"] == sub


def test_subscribe_with_attributes(sns, new_topic, queue_and_arn):
    topic_arn = new_topic("subattrs")
    _, queue_arn = queue_and_arn("subattrs")
    _, dlq_arn = queue_and_arn("subattrs-dlq")
    policy = {"kind": ["job", "task"], "size": [{"numeric": [">", 10]}]}
    sub = subscribe_queue(
        sns,
        topic_arn,
        queue_arn,
        FilterPolicy=json.dumps(policy),
        FilterPolicyScope="MessageAttributes",
        RawMessageDelivery="true",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn}),
    )
    got = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(got["FilterPolicy"]) == policy
    assert got["FilterPolicyScope"] == "MessageAttributes"
    assert got["RawMessageDelivery"] == "true"
    assert json.loads(got["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn}


def test_set_subscription_attributes(sns, new_topic, queue_and_arn):
    topic_arn = new_topic("setsub")
    _, queue_arn = queue_and_arn("setsub")
    sub = subscribe_queue(sns, topic_arn, queue_arn)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue='{"a": ["b"]}')
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="MessageBody")
    got = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert got["RawMessageDelivery"] == "true"
    assert json.loads(got["FilterPolicy"]) == {"a": ["b"]}
    assert got["FilterPolicyScope"] == "MessageBody"


def test_invalid_filter_policy_is_refused(sns, new_topic, queue_and_arn):
    topic_arn = new_topic("badfilter")
    _, queue_arn = queue_and_arn("badfilter")
    with pytest.raises(ClientError) as info:
        subscribe_queue(sns, topic_arn, queue_arn, FilterPolicy='{"a": "not-a-list"}')
    err, status = error_of(info)
    assert (err["Code"], status) == ("InvalidParameter", 400)
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []


def test_subscribe_a_function(sns, new_topic):
    topic_arn = new_topic("sublambda")
    sub = sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=HELLO_ARN)["SubscriptionArn"]
    assert SUBSCRIPTION_ARN.match(sub), sub
    got = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert (got["Protocol"], got["Endpoint"], got["TopicArn"]) == ("lambda", HELLO_ARN, topic_arn)
    assert got["PendingConfirmation"] == "false"


def test_list_subscriptions(sns, new_topic, queue_and_arn):
    topic_arn = new_topic("listsub")
    other_topic = new_topic("listsub-other")
    _, q1 = queue_and_arn("listsub")
    _, q2 = queue_and_arn("listsub")
    s1 = subscribe_queue(sns, topic_arn, q1)
    s2 = subscribe_queue(sns, topic_arn, q2)
    s3 = subscribe_queue(sns, other_topic, q1)
    by_topic = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert {(s["SubscriptionArn"], s["Protocol"], s["Endpoint"], s["TopicArn"], s["Owner"]) for s in by_topic} == {
        (s1, "sqs", q1, topic_arn, ACCOUNT),
        (s2, "sqs", q2, topic_arn, ACCOUNT),
    }
    everything = {s["SubscriptionArn"] for page in sns.get_paginator("list_subscriptions").paginate() for s in page["Subscriptions"]}
    assert {s1, s2, s3} <= everything


def test_unsubscribe(sns, new_topic, queue_and_arn):
    topic_arn = new_topic("unsub")
    _, queue_arn = queue_and_arn("unsub")
    sub = subscribe_queue(sns, topic_arn, queue_arn)
    sns.unsubscribe(SubscriptionArn=sub)
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []
    with pytest.raises(sns.exceptions.NotFoundException) as info:
        sns.get_subscription_attributes(SubscriptionArn=sub)
    err, status = error_of(info)
    assert (err["Code"], status) == ("NotFound", 404)


# ---------------------------------------------------------------- publish and what a queue receives


def test_publish_delivers_the_envelope_to_a_queue(sns, sqs, new_topic, queue_and_arn):
    topic_arn = new_topic("envelope")
    url, queue_arn = queue_and_arn("envelope")
    sub = subscribe_queue(sns, topic_arn, queue_arn)
    attributes = {
        "s": {"DataType": "String", "StringValue": "text ✓"},
        "n": {"DataType": "Number", "StringValue": "12.5"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\xffbin"},
        "arr": {"DataType": "String.Array", "StringValue": '["a", "b"]'},
    }
    published = sns.publish(TopicArn=topic_arn, Message="the message", Subject="The subject", MessageAttributes=attributes)
    [message] = receive(sqs, url, 1, MessageAttributeNames=["All"])
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["TopicArn"] == topic_arn
    assert envelope["Subject"] == "The subject"
    assert envelope["Message"] == "the message"
    assert TIMESTAMP.match(envelope["Timestamp"]), envelope["Timestamp"]
    assert envelope["SignatureVersion"] == "1"
    assert {"Signature", "SigningCertURL", "UnsubscribeURL"} <= set(envelope)
    assert sub in envelope["UnsubscribeURL"]
    assert envelope["MessageAttributes"] == {
        "s": {"Type": "String", "Value": "text ✓"},
        "n": {"Type": "Number", "Value": "12.5"},
        "b": {"Type": "Binary", "Value": base64.b64encode(b"\x00\xffbin").decode()},
        "arr": {"Type": "String.Array", "Value": '["a", "b"]'},
    }
    # The envelope is the body: the SQS message itself carries no attributes.
    assert "MessageAttributes" not in message


def test_envelope_without_subject_or_attributes(sns, sqs, new_topic, queue_and_arn):
    topic_arn = new_topic("bare")
    url, queue_arn = queue_and_arn("bare")
    subscribe_queue(sns, topic_arn, queue_arn)
    published = sns.publish(TopicArn=topic_arn, Message="plain")
    [message] = receive(sqs, url, 1)
    envelope = json.loads(message["Body"])
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["Message"] == "plain"
    assert "Subject" not in envelope
    assert "MessageAttributes" not in envelope


def test_raw_message_delivery_to_a_queue(sns, sqs, new_topic, queue_and_arn):
    topic_arn = new_topic("raw")
    url, queue_arn = queue_and_arn("raw")
    subscribe_queue(sns, topic_arn, queue_arn, RawMessageDelivery="true")
    attributes = {
        "s": {"DataType": "String", "StringValue": "v"},
        "n": {"DataType": "Number", "StringValue": "3"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
    }
    sns.publish(TopicArn=topic_arn, Message='{"raw": true}', Subject="ignored", MessageAttributes=attributes)
    [message] = receive(sqs, url, 1, MessageAttributeNames=["All"])
    assert message["Body"] == '{"raw": true}'
    assert message["MessageAttributes"] == attributes


def test_filter_policy_on_attributes(sns, sqs, new_topic, queue_and_arn):
    topic_arn = new_topic("filter")
    url, queue_arn = queue_and_arn("filter")
    subscribe_queue(sns, topic_arn, queue_arn, FilterPolicy=json.dumps({"kind": ["keep"], "n": [{"numeric": [">=", 5]}]}))

    def attrs(kind, n):
        return {"kind": {"DataType": "String", "StringValue": kind}, "n": {"DataType": "Number", "StringValue": str(n)}}

    sns.publish(TopicArn=topic_arn, Message="drop: wrong kind", MessageAttributes=attrs("other", 7))
    sns.publish(TopicArn=topic_arn, Message="drop: too small", MessageAttributes=attrs("keep", 4))
    sns.publish(TopicArn=topic_arn, Message="drop: no attributes")
    kept = sns.publish(TopicArn=topic_arn, Message="keep me", MessageAttributes=attrs("keep", 5))
    seen = drain(sqs, url, kept["MessageId"])
    seen += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(m["Body"])["Message"] for m in seen] == ["keep me"]


def test_filter_policy_on_the_body(sns, sqs, new_topic, queue_and_arn):
    topic_arn = new_topic("bodyfilter")
    url, queue_arn = queue_and_arn("bodyfilter")
    subscribe_queue(
        sns, topic_arn, queue_arn, FilterPolicy=json.dumps({"kind": [{"prefix": "job-"}]}), FilterPolicyScope="MessageBody"
    )
    sns.publish(TopicArn=topic_arn, Message=json.dumps({"kind": "task-1"}))
    sns.publish(TopicArn=topic_arn, Message="not json at all")
    kept = sns.publish(TopicArn=topic_arn, Message=json.dumps({"kind": "job-7"}))
    seen = drain(sqs, url, kept["MessageId"])
    seen += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [json.loads(json.loads(m["Body"])["Message"]) for m in seen] == [{"kind": "job-7"}]


def test_publish_with_target_arn(sns, sqs, new_topic, queue_and_arn):
    topic_arn = new_topic("target")
    url, queue_arn = queue_and_arn("target")
    subscribe_queue(sns, topic_arn, queue_arn)
    published = sns.publish(TargetArn=topic_arn, Message="via TargetArn")
    [message] = receive(sqs, url, 1)
    envelope = json.loads(message["Body"])
    assert (envelope["MessageId"], envelope["TopicArn"], envelope["Message"]) == (published["MessageId"], topic_arn, "via TargetArn")


def test_message_structure_json(sns, sqs, new_topic, queue_and_arn):
    topic_arn = new_topic("structure")
    url, queue_arn = queue_and_arn("structure")
    raw_url, raw_arn = queue_and_arn("structure-raw")
    subscribe_queue(sns, topic_arn, queue_arn)
    subscribe_queue(sns, topic_arn, raw_arn, RawMessageDelivery="true")
    sns.publish(
        TopicArn=topic_arn,
        MessageStructure="json",
        Message=json.dumps({"default": "for everyone", "sqs": "for queues", "lambda": "for functions"}),
    )
    [message] = receive(sqs, url, 1)
    assert json.loads(message["Body"])["Message"] == "for queues"
    [raw] = receive(sqs, raw_url, 1)
    assert raw["Body"] == "for queues"


def test_message_structure_json_needs_a_default(sns, new_topic):
    topic_arn = new_topic("nodefault")
    for message in (json.dumps({"sqs": "only"}), "not json"):
        with pytest.raises(ClientError) as info:
            sns.publish(TopicArn=topic_arn, MessageStructure="json", Message=message)
        err, status = error_of(info)
        assert (err["Code"], status) == ("InvalidParameter", 400), message


def test_publish_message_size_limit(sns, sqs, new_topic, queue_and_arn):
    topic_arn = new_topic("size")
    url, queue_arn = queue_and_arn("size")
    subscribe_queue(sns, topic_arn, queue_arn, RawMessageDelivery="true")
    with pytest.raises(ClientError) as info:
        sns.publish(TopicArn=topic_arn, Message="x" * (256 * 1024 + 1))
    err, status = error_of(info)
    assert status == 400 and err["Code"] in ("InvalidParameter", "ParameterValueInvalid"), err
    sns.publish(TopicArn=topic_arn, Message="x" * (256 * 1024))
    [message] = receive(sqs, url, 1)
    assert len(message["Body"]) == 256 * 1024


def test_publish_batch(sns, sqs, new_topic, queue_and_arn):
    topic_arn = new_topic("pbatch")
    url, queue_arn = queue_and_arn("pbatch")
    subscribe_queue(sns, topic_arn, queue_arn)
    answer = sns.publish_batch(
        TopicArn=topic_arn,
        PublishBatchRequestEntries=[
            {"Id": "one", "Message": "first"},
            {"Id": "two", "Message": "second", "Subject": "S2"},
            {
                "Id": "three",
                "Message": "third",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
        ],
    )
    assert answer.get("Failed", []) == []
    ids = {e["Id"]: e["MessageId"] for e in answer["Successful"]}
    assert set(ids) == {"one", "two", "three"}
    got = {}
    for m in receive(sqs, url, 3):
        envelope = json.loads(m["Body"])
        got[envelope["MessageId"]] = envelope
    assert set(got) == set(ids.values())
    assert got[ids["one"]]["Message"] == "first"
    assert got[ids["two"]]["Subject"] == "S2"
    assert got[ids["three"]]["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}


def test_publish_batch_errors(sns, new_topic):
    topic_arn = new_topic("pbatch-err")
    for entries, code in (
        ([{"Id": f"e{i:02d}", "Message": "m"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "a", "Message": "1"}, {"Id": "a", "Message": "2"}], "BatchEntryIdsNotDistinct"),
        ([], "EmptyBatchRequest"),
        ([{"Id": "not valid!", "Message": "1"}], "InvalidBatchEntryId"),
    ):
        with pytest.raises(ClientError) as info:
            sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
        err, status = error_of(info)
        assert (err["Code"], status) == (code, 400), err
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish_batch(TopicArn=topic_arn + "-missing", PublishBatchRequestEntries=[{"Id": "a", "Message": "1"}])


# ---------------------------------------------------------------- HTTP endpoints


def test_http_subscription(sns, new_topic, hook):
    topic_arn = new_topic("http")
    path = f"/hook/{uuid.uuid4().hex}"
    sub = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=hook.url + path, ReturnSubscriptionArn=True)["SubscriptionArn"]
    # Stratus confirms HTTP subscriptions at once (AWS would first POST a SubscriptionConfirmation).
    assert SUBSCRIPTION_ARN.match(sub), sub
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "false"
    published = sns.publish(
        TopicArn=topic_arn, Message="to the hook", Subject="Hi", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}}
    )
    [(headers, body)] = wait_for(lambda: hook.notifications(path), "the HTTP notification")
    envelope = json.loads(body)
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["TopicArn"] == topic_arn
    assert envelope["Subject"] == "Hi"
    assert envelope["Message"] == "to the hook"
    assert envelope["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert TIMESTAMP.match(envelope["Timestamp"])
    assert headers["x-amz-sns-message-id"] == published["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic_arn
    assert headers["x-amz-sns-subscription-arn"] == sub
    assert headers["content-type"].lower().startswith("text/plain")


def test_a_declared_subscriptions_arn_is_its_topic_arn_and_a_uuid(sns):
    # As SNS's: code that takes what comes before the last ':' gets the topic ARN.
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:declared-t"
    [sub] = [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]]
    head, _, last = sub.rpartition(":")
    assert head == topic_arn and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", last), sub
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["TopicArn"] == topic_arn


@pytest.mark.parametrize("status,retried", [(404, False), (499, False), (500, True), (503, True)])
def test_an_http_endpoint_that_refuses_is_not_retried(sns, sqs, new_topic, queue_and_arn, hook, status, retried):
    # SNS retries server errors and unreachable endpoints; a client error (4xx) goes to the subscription's
    # dead-letter queue at once.
    topic_arn = new_topic(f"refuse{status}")
    dlq_url, dlq_arn = queue_and_arn(f"refuse{status}-dlq")
    path = f"/status/{status}/{uuid.uuid4()}"
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=hook.url + path,
                  Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
    sns.publish(TopicArn=topic_arn, Message="refused")
    if retried:
        wait_for(lambda: len(hook.notifications(path)) >= 2, "a second attempt")
    else:
        got = []
        wait_for(lambda: got.extend(sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages", []))
                 or got, "the message in the dead-letter queue")
        assert len(hook.notifications(path)) == 1, "a client error is not retried"


def test_http_raw_delivery(sns, new_topic, hook):
    topic_arn = new_topic("httpraw")
    path = f"/raw/{uuid.uuid4().hex}"
    sns.subscribe(
        TopicArn=topic_arn, Protocol="http", Endpoint=hook.url + path, Attributes={"RawMessageDelivery": "true"}
    )
    published = sns.publish(TopicArn=topic_arn, Message="just the message")
    [(headers, body)] = wait_for(lambda: hook.notifications(path), "the raw HTTP notification")
    assert body == "just the message"
    assert headers["x-amz-sns-message-id"] == published["MessageId"]
    assert headers["x-amz-sns-rawdelivery"] == "true"


# ---------------------------------------------------------------- the stock aws CLI


def test_aws_cli_topic_subscribe_publish(aws_cli, sns, sqs, queue_and_arn):
    url, queue_arn = queue_and_arn("cli")
    name = unique("cli")
    topic_arn = aws_cli("sns", "create-topic", "--name", name).json["TopicArn"]
    try:
        assert topic_arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
        sub = aws_cli(
            "sns", "subscribe", "--topic-arn", topic_arn, "--protocol", "sqs", "--notification-endpoint", queue_arn
        ).json["SubscriptionArn"]
        assert sub.startswith(topic_arn + ":")
        published = aws_cli(
            "sns", "publish", "--topic-arn", topic_arn, "--message", "from the cli", "--subject", "CLI",
            "--message-attributes", json.dumps({"k": {"DataType": "String", "StringValue": "v"}}),
        ).json
        [message] = receive(sqs, url, 1)
        envelope = json.loads(message["Body"])
        assert envelope["MessageId"] == published["MessageId"]
        assert (envelope["Message"], envelope["Subject"]) == ("from the cli", "CLI")
        assert envelope["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
        listed = aws_cli("sns", "list-subscriptions-by-topic", "--topic-arn", topic_arn).json["Subscriptions"]
        assert [s["SubscriptionArn"] for s in listed] == [sub]
    finally:
        sns.delete_topic(TopicArn=topic_arn)


def test_aws_cli_missing_topic(aws_cli):
    result = aws_cli("sns", "publish", "--topic-arn", f"arn:aws:sns:{REGION}:{ACCOUNT}:{unique('missing')}", "--message", "x", check=False)
    assert result.returncode != 0
    assert "NotFound" in result.stderr, result.stderr


# ---------------------------------------------------------------- Stratus: declared topics, /v1 and the stratus CLI


DECLARED_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:declared-t"


def test_declared_topic_cannot_be_deleted_or_changed(sns):
    with pytest.raises(ClientError) as info:
        sns.delete_topic(TopicArn=DECLARED_TOPIC)
    err, status = error_of(info)
    assert (err["Code"], status) == ("InvalidParameter", 400)
    assert "triggers/aws.yaml" in err["Message"], err
    with pytest.raises(ClientError) as info:
        sns.set_topic_attributes(TopicArn=DECLARED_TOPIC, AttributeName="DisplayName", AttributeValue="changed")
    err, status = error_of(info)
    assert (err["Code"], status) == ("InvalidParameter", 400)
    assert "triggers/aws.yaml" in err["Message"], err
    [declared_sub] = sns.list_subscriptions_by_topic(TopicArn=DECLARED_TOPIC)["Subscriptions"]
    assert declared_sub["Protocol"] == "sqs"
    assert declared_sub["Endpoint"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:declared-q"
    with pytest.raises(ClientError) as info:
        sns.unsubscribe(SubscriptionArn=declared_sub["SubscriptionArn"])
    err, status = error_of(info)
    assert (err["Code"], status) == ("InvalidParameter", 400)
    assert "triggers/aws.yaml" in err["Message"], err
    with pytest.raises(ClientError) as info:
        sns.tag_resource(ResourceArn=DECLARED_TOPIC, Tags=[{"Key": "k", "Value": "v"}])
    err, status = error_of(info)
    assert (err["Code"], status) == ("InvalidParameter", 400)
    assert "triggers/aws.yaml" in err["Message"], err
    assert sns.list_tags_for_resource(ResourceArn=DECLARED_TOPIC)["Tags"] == []  # reading them works
    # All of it is still there.
    assert sns.get_topic_attributes(TopicArn=DECLARED_TOPIC)["Attributes"]["TopicArn"] == DECLARED_TOPIC
    assert sns.list_subscriptions_by_topic(TopicArn=DECLARED_TOPIC)["Subscriptions"] == [declared_sub]


def test_publish_to_a_declared_topic_reaches_its_declared_queue(sns, sqs):
    published = sns.publish(TopicArn=DECLARED_TOPIC, Message=unique("declared"))
    url = sqs.get_queue_url(QueueName="declared-q")["QueueUrl"]
    seen = drain(sqs, url, published["MessageId"])
    envelope = json.loads(seen[-1]["Body"])
    assert (envelope["MessageId"], envelope["TopicArn"]) == (published["MessageId"], DECLARED_TOPIC)


def test_subscribe_to_a_declared_topic_is_allowed(sns, sqs, queue_and_arn):
    url, queue_arn = queue_and_arn("to-declared")
    sub = subscribe_queue(sns, DECLARED_TOPIC, queue_arn)
    try:
        published = sns.publish(TopicArn=DECLARED_TOPIC, Message="also to mine")
        [message] = receive(sqs, url, 1)
        assert json.loads(message["Body"])["MessageId"] == published["MessageId"]
    finally:
        sns.unsubscribe(SubscriptionArn=sub)


def test_topic_made_through_sns_is_a_stratus_topic(sns, control_url, new_topic, queue_and_arn):
    topic_arn = new_topic("v1")
    name = topic_arn.rsplit(":", 1)[-1]
    _, queue_arn = queue_and_arn("v1")
    queue_name = queue_arn.rsplit(":", 1)[-1]
    subscribe_queue(sns, topic_arn, queue_arn, RawMessageDelivery="true", FilterPolicy=json.dumps({"k": ["v"]}))

    topics = requests.get(f"{control_url}/v1/topics", timeout=30).json()["topics"]
    [topic] = [t for t in topics if t["name"] == name]
    [subscription] = topic["subscriptions"]
    assert (subscription["kind"], subscription["target"], subscription["raw"]) == ("queue", queue_name, True)
    assert json.loads(subscription["filter"]) == {"k": ["v"]}

    cli = subprocess.run([STRATUS_BIN, "topics", "--endpoint", control_url, "--json"], capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    [listed] = [t for t in json.loads(cli.stdout)["topics"] if t["name"] == name]
    assert [s["target"] for s in listed["subscriptions"]] == [queue_name]

    sns.delete_topic(TopicArn=topic_arn)
    topics = requests.get(f"{control_url}/v1/topics", timeout=30).json()["topics"]
    assert name not in {t["name"] for t in topics}


def test_topic_made_through_v1_is_an_sns_topic(sns, control_url):
    name = unique("from-v1")
    made = requests.post(f"{control_url}/v1/topics", json={"name": name}, timeout=30)
    assert made.status_code == 201, made.text
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
    try:
        assert sns.create_topic(Name=name)["TopicArn"] == arn
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["TopicArn"] == arn
    finally:
        sns.delete_topic(TopicArn=arn)


def test_unsubscribe_twice_succeeds_and_errors_have_sns_shape(sns, new_topic, queue_and_arn, control_url):
    topic = new_topic("unsub2")
    _, queue_arn = queue_and_arn("unsub2")
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=sub)  # as SNS: a subscription that no longer exists is not an error
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    with pytest.raises(ClientError) as raised:
        sns.get_topic_attributes(TopicArn=topic + "-missing")
    assert raised.value.response["Error"] == {"Type": "Sender", "Code": "NotFound", "Message": "Topic does not exist"}


def test_new_topics_have_the_default_access_policy(sns, new_topic):
    topic = new_topic("policy")
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    [statement] = policy["Statement"]
    assert statement["Resource"] == topic and "SNS:Publish" in statement["Action"]


# ---------------------------------------------------------------- found by an audit against AWS's documented behaviour


def test_more_than_ten_attributes_reach_all_but_raw_queue_subscriptions(sns, sqs, new_topic, queue_and_arn):
    # SNS: "For SQS subscriptions, a maximum of 10 message attributes can be sent when Raw Message Delivery is
    # enabled ... Messages with more than 10 message attributes directed towards Raw Message Delivery enabled
    # Amazon SQS subscriptions will be discarded."
    topic_arn = new_topic("attrs11")
    wrapped_url, wrapped_arn = queue_and_arn("attrs11-env")
    raw_url, raw_arn = queue_and_arn("attrs11-raw")
    subscribe_queue(sns, topic_arn, wrapped_arn)
    subscribe_queue(sns, topic_arn, raw_arn, RawMessageDelivery="true")
    many = {f"a{i}": {"DataType": "String", "StringValue": f"v{i}"} for i in range(11)}
    first = sns.publish(TopicArn=topic_arn, Message="eleven", MessageAttributes=many)["MessageId"]
    ten = {f"a{i}": {"DataType": "String", "StringValue": f"v{i}"} for i in range(10)}
    sns.publish(TopicArn=topic_arn, Message="ten", MessageAttributes=ten)
    [enveloped, _] = receive(sqs, wrapped_url, 2)
    envelope = json.loads(enveloped["Body"])
    assert envelope["MessageId"] == first and len(envelope["MessageAttributes"]) == 11
    [raw] = receive(sqs, raw_url, 1, MessageAttributeNames=["All"])
    assert raw["Body"] == "ten" and len(raw["MessageAttributes"]) == 10, raw
    assert "Messages" not in sqs.receive_message(QueueUrl=raw_url, WaitTimeSeconds=1)


def test_attributes_count_toward_the_message_size(sns, new_topic):
    topic_arn = new_topic("attrsize")
    attribute = {"a": {"DataType": "String", "StringValue": "y" * 500}}
    body = "x" * (262_144 - len("a") - len("String") - 500)
    sns.publish(TopicArn=topic_arn, Message=body, MessageAttributes=attribute)  # exactly at the limit
    with pytest.raises(ClientError) as info:
        sns.publish(TopicArn=topic_arn, Message=body + "x", MessageAttributes=attribute)
    assert error_of(info)[0]["Code"] == "InvalidParameter", error_of(info)


def test_subscribing_again_without_attributes_answers_the_existing_subscription(sns, new_topic, queue_and_arn):
    topic_arn = new_topic("resub")
    _, queue_arn = queue_and_arn("resub")
    sub = subscribe_queue(sns, topic_arn, queue_arn, RawMessageDelivery="true", FilterPolicy='{"a": ["b"]}')
    assert subscribe_queue(sns, topic_arn, queue_arn) == sub
    with pytest.raises(ClientError) as info:
        subscribe_queue(sns, topic_arn, queue_arn, RawMessageDelivery="false")
    assert error_of(info)[0]["Code"] == "InvalidParameter"


def test_subscribing_again_with_another_filter_scope_is_refused(sns, new_topic, queue_and_arn):
    topic_arn = new_topic("rescope")
    _, queue_arn = queue_and_arn("rescope")
    sub = subscribe_queue(sns, topic_arn, queue_arn)
    assert subscribe_queue(sns, topic_arn, queue_arn, FilterPolicyScope="MessageAttributes") == sub  # the default
    with pytest.raises(ClientError) as info:
        subscribe_queue(sns, topic_arn, queue_arn, FilterPolicyScope="MessageBody")
    assert error_of(info)[0]["Code"] == "InvalidParameter"


def test_a_deduplication_id_is_for_fifo_topics(sns, new_topic):
    topic_arn = new_topic("dedup")
    with pytest.raises(ClientError) as info:
        sns.publish(TopicArn=topic_arn, Message="m", MessageDeduplicationId="d")
    assert error_of(info)[0]["Code"] == "InvalidParameter"
    assert "MessageDeduplicationId" in error_of(info)[0]["Message"]
    answer = sns.publish_batch(
        TopicArn=topic_arn, PublishBatchRequestEntries=[{"Id": "1", "Message": "m", "MessageDeduplicationId": "d"}])
    assert [f["Code"] for f in answer["Failed"]] == ["InvalidParameter"]
    sns.publish(TopicArn=topic_arn, Message="m", MessageGroupId="tenant")  # a group is allowed (fair queues)


def test_topic_policies_must_be_json(sns, new_topic):
    topic_arn = new_topic("policyjson")
    for name in ("Policy", "DeliveryPolicy"):
        with pytest.raises(ClientError) as info:
            sns.set_topic_attributes(TopicArn=topic_arn, AttributeName=name, AttributeValue="notjson")
        assert error_of(info)[0]["Code"] == "InvalidParameter"
    with pytest.raises(ClientError) as info:
        sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="SignatureVersion", AttributeValue="3")
    assert error_of(info)[0]["Code"] == "InvalidParameter"
    delivery = json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 5}}})
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="DeliveryPolicy", AttributeValue=delivery)
    assert json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["DeliveryPolicy"]) == json.loads(delivery)


# ---------------------------------------------------------------- FIFO topics


@pytest.fixture
def fifo_topic(sns, sqs):
    """fifo_topic(prefix, **attributes) -> ARN of a new FIFO topic; its FIFO queues made with fifo_topic.queue are
    deleted with it."""
    made = {"topics": [], "queues": []}

    def create(prefix="ft", **attributes):
        arn = sns.create_topic(Name=unique(prefix) + ".fifo", Attributes={"FifoTopic": "true", **attributes})["TopicArn"]
        made["topics"].append(arn)
        return arn

    def queue(prefix="fq", fifo=True):
        name = unique(prefix) + (".fifo" if fifo else "")
        url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"} if fifo else {})["QueueUrl"]
        made["queues"].append(url)
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    create.queue = queue
    yield create
    for arn in made["topics"]:
        sns.delete_topic(TopicArn=arn)
    for url in made["queues"]:
        sqs.delete_queue(QueueUrl=url)


def test_a_fifo_topic_is_made_as_sns_makes_one(sns, fifo_topic):
    arn = fifo_topic("make")
    name = arn.rsplit(":", 1)[1]
    assert name.endswith(".fifo")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attributes["FifoTopic"], attributes["ContentBasedDeduplication"]) == ("true", "false"), attributes
    # Again with what it shows: the same topic.
    again = {"FifoTopic": "true", "ContentBasedDeduplication": "false"}
    assert sns.create_topic(Name=name, Attributes=again)["TopicArn"] == arn
    # A .fifo name needs FifoTopic=true, FifoTopic=true a .fifo name; content-based deduplication is FIFO's.
    for name, attributes in ((unique("noflag") + ".fifo", {}), (unique("noname"), {"FifoTopic": "true"}),
                             (unique("std"), {"ContentBasedDeduplication": "true"})):
        with pytest.raises(ClientError) as info:
            sns.create_topic(Name=name, Attributes=attributes)
        err, status = error_of(info)
        assert (err["Code"], status) == ("InvalidParameter", 400), (name, err)
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["ContentBasedDeduplication"] == "true"


def test_a_fifo_topic_delivers_in_order_with_its_groups_and_deduplicates(sns, sqs, fifo_topic):
    arn = fifo_topic("order")
    fifo_url, fifo_arn = fifo_topic.queue("ordered")
    std_url, std_arn = fifo_topic.queue("plain", fifo=False)
    subscribe_queue(sns, arn, fifo_arn)
    subscribe_queue(sns, arn, std_arn, RawMessageDelivery="true")
    answers = [sns.publish(TopicArn=arn, Message=f"m{i}", MessageGroupId="g1" if i % 2 else "g2",
                           MessageDeduplicationId=f"d{i}") for i in range(6)]
    sequences = [a["SequenceNumber"] for a in answers]
    assert all(len(s) == 20 and s.isdigit() for s in sequences), sequences
    assert [int(s) for s in sequences] == sorted(int(s) for s in sequences) and len(set(sequences)) == 6
    # The same deduplication id within 5 minutes: answered as the first, delivered nowhere.
    again = sns.publish(TopicArn=arn, Message="other text", MessageGroupId="g1", MessageDeduplicationId="d1")
    assert (again["MessageId"], again["SequenceNumber"]) == (answers[1]["MessageId"], answers[1]["SequenceNumber"])

    got = receive(sqs, fifo_url, 6, MessageSystemAttributeNames=["All"])
    by_group = {}
    for m in got:
        envelope = json.loads(m["Body"])
        by_group.setdefault(m["Attributes"]["MessageGroupId"], []).append(envelope["Message"])
        index = int(envelope["Message"][1:])
        assert m["Attributes"]["MessageDeduplicationId"] == f"d{index}"
        assert (envelope["MessageId"], envelope["SequenceNumber"]) == (answers[index]["MessageId"], sequences[index])
        assert envelope["TopicArn"] == arn
        # A FIFO topic's envelope carries no signature, as SNS's.
        assert not {"Signature", "SignatureVersion", "SigningCertURL"} & set(envelope), envelope
        sqs.delete_message(QueueUrl=fifo_url, ReceiptHandle=m["ReceiptHandle"])
    assert by_group == {"g1": ["m1", "m3", "m5"], "g2": ["m0", "m2", "m4"]}, by_group
    # A standard queue may subscribe too (raw here); it gets each message once, without group.
    plain = receive(sqs, std_url, 6)
    assert sorted(m["Body"] for m in plain) == [f"m{i}" for i in range(6)]
    assert sqs.receive_message(QueueUrl=std_url, WaitTimeSeconds=1).get("Messages", []) == []
    assert sqs.receive_message(QueueUrl=fifo_url, WaitTimeSeconds=1).get("Messages", []) == []


def test_publishing_to_a_fifo_topic_needs_a_group_and_a_deduplication_id(sns, sqs, fifo_topic):
    arn = fifo_topic("needs")
    for kwargs, words in (({}, "MessageGroupId parameter is required"),
                          ({"MessageGroupId": "g"}, "ContentBasedDeduplication"),
                          ({"MessageGroupId": "g", "MessageDeduplicationId": "x" * 129}, "MessageDeduplicationId"),
                          ({"MessageGroupId": "a b", "MessageDeduplicationId": "d"}, "MessageGroupId")):
        with pytest.raises(ClientError) as info:
            sns.publish(TopicArn=arn, Message="m", **kwargs)
        err, status = error_of(info)
        assert (err["Code"], status) == ("InvalidParameter", 400), err
        assert words in err["Message"], err
    batch = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "ok", "Message": "m", "MessageGroupId": "g", "MessageDeduplicationId": "d"},
        {"Id": "nogroup", "Message": "m", "MessageDeduplicationId": "e"}])
    assert [s["Id"] for s in batch["Successful"]] == ["ok"] and len(batch["Successful"][0]["SequenceNumber"]) == 20
    assert [(f["Id"], f["Code"]) for f in batch["Failed"]] == [("nogroup", "InvalidParameter")]
    # With content-based deduplication the message's SHA-256 is its id: the same text twice is one message.
    cbd = fifo_topic("cbd", ContentBasedDeduplication="true")
    url, queue_arn = fifo_topic.queue("cbdq")
    subscribe_queue(sns, cbd, queue_arn, RawMessageDelivery="true")
    first = sns.publish(TopicArn=cbd, Message="same", MessageGroupId="g")
    assert sns.publish(TopicArn=cbd, Message="same", MessageGroupId="g")["MessageId"] == first["MessageId"]
    sns.publish(TopicArn=cbd, Message="different", MessageGroupId="g")
    got = receive(sqs, url, 2, MessageSystemAttributeNames=["MessageDeduplicationId"])
    assert [m["Body"] for m in got] == ["same", "different"]
    assert got[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def test_a_fifo_topic_delivers_to_queues_only(sns, fifo_topic):
    arn = fifo_topic("only")
    for protocol, endpoint in (("lambda", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:hello"),
                               ("http", "http://127.0.0.1:9/hook"), ("https", "https://127.0.0.1:9/hook")):
        with pytest.raises(ClientError) as info:
            sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
        err, status = error_of(info)
        assert (err["Code"], status) == ("InvalidParameter", 400), err
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []


def test_stratus_publishes_to_a_fifo_topic_with_a_group(sns, sqs, fifo_topic, control_url):
    arn = fifo_topic("v1")
    name = arn.rsplit(":", 1)[1]
    url, queue_arn = fifo_topic.queue("v1q")
    subscribe_queue(sns, arn, queue_arn, RawMessageDelivery="true")
    publish = f"{control_url}/v1/topics/{name}/publish"
    refused = requests.post(publish, json={"message": "no group"}, timeout=10)
    assert refused.status_code == 400 and "MessageGroupId" in refused.json()["error"]["message"], refused.text
    first = requests.post(publish, json={"message": "one", "group": "g", "deduplicationId": "d1"}, timeout=10)
    assert first.status_code == 201, first.text
    assert len(first.json()["sequenceNumber"]) == 20
    again = requests.post(publish, json={"message": "one", "group": "g", "deduplicationId": "d1"}, timeout=10).json()
    assert again == first.json()
    cli = subprocess.run([STRATUS_BIN, "publish", name, "--data", "two", "--group", "g", "--dedup", "d2"],
                         env={**os.environ, "STRATUS_ENDPOINT": control_url}, capture_output=True, text=True, timeout=30)
    assert cli.returncode == 0, cli.stderr
    got = receive(sqs, url, 2, MessageSystemAttributeNames=["MessageGroupId"])
    assert [(m["Body"], m["Attributes"]["MessageGroupId"]) for m in got] == [("one", "g"), ("two", "g")]


def test_concurrent_publishes_to_a_fifo_group_arrive_in_sequence_order(sns, sqs, fifo_topic):
    arn = fifo_topic("conc")
    url, queue_arn = fifo_topic.queue("concq")
    subscribe_queue(sns, arn, queue_arn, RawMessageDelivery="true")
    sequence_of = {}

    def publisher(worker):
        client = aws_client("sns", sns.meta.endpoint_url)
        for i in range(25):
            body = f"{worker}-{i}"
            answer = client.publish(TopicArn=arn, Message=body, MessageGroupId="one", MessageDeduplicationId=body)
            sequence_of[body] = int(answer["SequenceNumber"])

    threads = [threading.Thread(target=publisher, args=(w,)) for w in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(sequence_of) == 200
    got = []
    while len(got) < 200:
        batch = receive(sqs, url, 1)
        got.extend(m["Body"] for m in batch)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    # One group: the queue hands them out in the order of their sequence numbers.
    assert got == sorted(got, key=sequence_of.get), got[:20]


def test_a_fifo_topic_flag_other_than_true_or_false_is_refused(sns):
    with pytest.raises(ClientError) as info:
        sns.create_topic(Name=unique("yes") + ".fifo", Attributes={"FifoTopic": "yes"})
    assert error_of(info)[0]["Code"] == "InvalidParameter"


def test_a_fifo_topic_made_again_forgets_the_old_ones_deduplication_ids(sns, sqs):
    name = unique("again") + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    first = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="same")
    sns.delete_topic(TopicArn=arn)
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    try:
        second = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="same")
        assert second["MessageId"] != first["MessageId"]
    finally:
        sns.delete_topic(TopicArn=arn)


def test_a_queue_may_be_subscribed_before_it_exists(sns, sqs, new_topic):
    # SNS does not check that the queue exists: a subscription made first delivers once the queue is there.
    arn = new_topic("before")
    name = unique("later")
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    sub = subscribe_queue(sns, arn, queue_arn, RawMessageDelivery="true")
    assert sub.startswith(arn + ":")
    sns.publish(TopicArn=arn, Message="lost: no queue yet")  # accepted, delivered nowhere
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    try:
        sns.publish(TopicArn=arn, Message="delivered")
        assert [m["Body"] for m in receive(sqs, url, 1)] == ["delivered"]
    finally:
        sqs.delete_queue(QueueUrl=url)
    # What is not an SQS ARN is still refused (a queue URL, say).
    for endpoint in (f"http://127.0.0.1/000000000000/{name}", "arn:aws:sqs:only-five:parts", f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"):
        with pytest.raises(ClientError) as info:
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=endpoint)
        err, status = error_of(info)
        assert (err["Code"], status) == ("InvalidParameter", 400), (endpoint, err)

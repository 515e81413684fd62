"""SQS FIFO queues through boto3: CreateQueue with FifoQueue and ContentBasedDeduplication, sends with message
groups and deduplication ids (botocore checks every MD5), ReceiveMessage's system attributes, the group rule
(nothing more of a group while one of its messages is in flight), the errors SQS answers for FIFO misuse, and
a Lambda event source mapping on a FIFO queue. Written from AWS's documented behaviour."""

import hashlib
import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from conftest import arn_of, md5_hex, md5_of_attributes, read_records, unique, wait_for

ATTRIBUTES = {
    "kind": {"DataType": "String", "StringValue": "order"},
    "amount": {"DataType": "Number", "StringValue": "12"},
}


@pytest.fixture
def fifo_queue(sqs):
    """fifo_queue(prefix, **attributes) -> url: a uniquely named FIFO queue, deleted after the test."""
    made = []

    def create(prefix="fifo", **attributes):
        attributes = {"FifoQueue": "true", **{k: str(v) for k, v in attributes.items()}}
        url = sqs.create_queue(QueueName=unique(prefix) + ".fifo", Attributes=attributes)["QueueUrl"]
        made.append(url)
        return url

    yield create
    for url in made:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def error_code(info) -> str:
    return info.value.response["Error"]["Code"]


def queue_is_empty(sqs, url) -> bool:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return all(got[n] == "0" for n in names)


def receive(sqs, url, **kwargs) -> list:
    """One receive of up to 10 (a short wait, so that a message that is there is found)."""
    kwargs.setdefault("MaxNumberOfMessages", 10)
    kwargs.setdefault("WaitTimeSeconds", 1)
    return sqs.receive_message(QueueUrl=url, **kwargs).get("Messages", [])


def test_create_fifo_queue_and_get_its_attributes(sqs, fifo_queue):
    url = fifo_queue("attrs", ContentBasedDeduplication="true")
    assert url.endswith(".fifo")
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert got["FifoQueue"] == "true"
    assert got["ContentBasedDeduplication"] == "true"
    assert got["QueueArn"].endswith(url.rsplit("/", 1)[-1])

    plain = fifo_queue("attrs-plain")
    got = sqs.get_queue_attributes(QueueUrl=plain, AttributeNames=["FifoQueue", "ContentBasedDeduplication"])
    assert got["Attributes"] == {"FifoQueue": "true", "ContentBasedDeduplication": "false"}
    # Creating it again with the same attributes is the same queue.
    again = sqs.create_queue(QueueName=plain.rsplit("/", 1)[-1], Attributes={"FifoQueue": "true"})
    assert again["QueueUrl"] == plain


def test_content_based_deduplication_can_be_switched_on_later(sqs, fifo_queue):
    url = fifo_queue("switch")
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "true"})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert got["ContentBasedDeduplication"] == "true"
    one = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")["MessageId"] == one["MessageId"]


def test_send_with_groups_and_deduplication_ids(sqs, fifo_queue):
    url = fifo_queue("send")
    body = "ünïcødé order ✓"
    first = sqs.send_message(
        QueueUrl=url, MessageBody=body, MessageAttributes=ATTRIBUTES, MessageGroupId="g1", MessageDeduplicationId="d1"
    )
    assert first["MD5OfMessageBody"] == md5_hex(body)
    assert first["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    # The same deduplication id within 5 minutes: accepted, answered with the first message's id, not queued.
    dup = sqs.send_message(QueueUrl=url, MessageBody="another body", MessageGroupId="g1", MessageDeduplicationId="d1")
    assert dup["MessageId"] == first["MessageId"]
    dup_other_group = sqs.send_message(
        QueueUrl=url, MessageBody="x", MessageGroupId="g2", MessageDeduplicationId="d1"
    )
    assert dup_other_group["MessageId"] == first["MessageId"]
    second = sqs.send_message(QueueUrl=url, MessageBody="second", MessageGroupId="g1", MessageDeduplicationId="d2")
    assert second["MessageId"] != first["MessageId"]

    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "2"
    got = receive(sqs, url, MessageAttributeNames=["All"], AttributeNames=["All"])
    assert [m["Body"] for m in got] == [body, "second"]
    assert [m["MessageId"] for m in got] == [first["MessageId"], second["MessageId"]]
    assert got[0]["MessageAttributes"] == ATTRIBUTES
    assert got[0]["MD5OfBody"] == md5_hex(body)


def test_send_message_batch_with_groups_and_duplicates(sqs, fifo_queue):
    url = fifo_queue("batch")
    entries = [
        {"Id": "a1", "MessageBody": "a1", "MessageGroupId": "a", "MessageDeduplicationId": "a1"},
        {"Id": "b1", "MessageBody": "b1", "MessageGroupId": "b", "MessageDeduplicationId": "b1",
         "MessageAttributes": ATTRIBUTES},
        {"Id": "a2", "MessageBody": "a2", "MessageGroupId": "a", "MessageDeduplicationId": "a2"},
        {"Id": "a1again", "MessageBody": "a1 again", "MessageGroupId": "a", "MessageDeduplicationId": "a1"},
    ]
    sent = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert sent.get("Failed", []) == []
    ids = {e["Id"]: e for e in sent["Successful"]}
    assert set(ids) == {"a1", "b1", "a2", "a1again"}
    assert ids["a1again"]["MessageId"] == ids["a1"]["MessageId"]
    assert ids["b1"]["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    for entry in entries:
        assert ids[entry["Id"]]["MD5OfMessageBody"] == md5_hex(entry["MessageBody"])
    # A later batch repeating a deduplication id is deduplicated as well.
    later = sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": "x", "MessageBody": "b1", "MessageGroupId": "b", "MessageDeduplicationId": "b1"}]
    )
    assert later["Successful"][0]["MessageId"] == ids["b1"]["MessageId"]

    got = receive(sqs, url, MessageSystemAttributeNames=["All"])
    assert sorted(m["Body"] for m in got) == ["a1", "a2", "b1"]
    assert [m["Body"] for m in got if m["Attributes"]["MessageGroupId"] == "a"] == ["a1", "a2"]


def test_received_messages_carry_group_deduplication_id_and_a_growing_sequence_number(sqs, fifo_queue):
    url = fifo_queue("sysattrs", ContentBasedDeduplication="true")
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="explicit", MessageGroupId="g", MessageDeduplicationId="mine")
    for names in ({"AttributeNames": ["All"]}, {"MessageSystemAttributeNames": ["All"]}):
        got = receive(sqs, url, VisibilityTimeout=0, **names)
        assert [m["Body"] for m in got] == [f"m{i}" for i in range(5)] + ["explicit"]
        for m in got:
            attributes = m["Attributes"]
            assert attributes["MessageGroupId"] == "g"
            assert attributes["ApproximateReceiveCount"] in ("1", "2")
        assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == [
            hashlib.sha256(f"m{i}".encode()).hexdigest() for i in range(5)
        ] + ["mine"]
        sequence = [m["Attributes"]["SequenceNumber"] for m in got]
        assert all(s.isdigit() for s in sequence), sequence
        assert [int(s) for s in sequence] == sorted(int(s) for s in sequence)
        assert len(set(sequence)) == len(sequence)
    # Only what was asked for.
    got = receive(sqs, url, MaxNumberOfMessages=1, VisibilityTimeout=0, MessageSystemAttributeNames=["SequenceNumber"])
    assert set(got[0]["Attributes"]) == {"SequenceNumber"}


def test_content_based_deduplication(sqs, fifo_queue):
    url = fifo_queue("content", ContentBasedDeduplication="true")
    one = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    two = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="h")
    three = sqs.send_message(QueueUrl=url, MessageBody="different", MessageGroupId="g")
    assert one["MessageId"] == two["MessageId"]
    assert three["MessageId"] != one["MessageId"]
    assert sorted(m["Body"] for m in receive(sqs, url)) == ["different", "same"]


def test_a_group_with_a_message_in_flight_gives_nothing_more(sqs, fifo_queue):
    url = fifo_queue("inflight")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="a", MessageDeduplicationId=f"a{i}")
    sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="b", MessageDeduplicationId="b0")

    [a0] = receive(sqs, url, MaxNumberOfMessages=1, VisibilityTimeout=30)
    assert a0["Body"] == "a0"
    # Group a is blocked while a0 is in flight; group b is not.
    got = receive(sqs, url, VisibilityTimeout=30)
    assert [m["Body"] for m in got] == ["b0"]
    assert receive(sqs, url, VisibilityTimeout=30) == []
    # Deleting a0 unblocks group a, in order.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a0["ReceiptHandle"])
    [a1] = receive(sqs, url, MaxNumberOfMessages=1, VisibilityTimeout=30)
    assert a1["Body"] == "a1"
    assert receive(sqs, url, VisibilityTimeout=30) == []
    # A message made visible again comes back first, before the rest of its group.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=a1["ReceiptHandle"], VisibilityTimeout=0)
    got = receive(sqs, url, AttributeNames=["ApproximateReceiveCount"])
    assert [m["Body"] for m in got] == ["a1", "a2"]
    assert got[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_send_without_message_group_id_is_missing_parameter(sqs, fifo_queue):
    url = fifo_queue("nogroup", ContentBasedDeduplication="true")
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert error_code(info) == "MissingParameter", info.value.response
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # In a batch too the whole request is refused (test_a_batch_with_an_entry_without_group_is_refused_whole).
    with pytest.raises(ClientError) as info:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "e", "MessageBody": "x"}])
    assert error_code(info) == "MissingParameter", info.value.response


def test_a_send_without_deduplication_id_needs_content_based_deduplication(sqs, fifo_queue):
    url = fifo_queue("nodedup")
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert error_code(info) == "InvalidParameterValue", info.value.response


def test_delay_seconds_on_a_fifo_send_is_refused(sqs, fifo_queue):
    url = fifo_queue("delay", ContentBasedDeduplication="true")
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", DelaySeconds=5)
    assert error_code(info) == "InvalidParameterValue", info.value.response
    assert receive(sqs, url, WaitTimeSeconds=0) == []


def test_deduplication_id_on_a_standard_queue_is_refused(sqs, new_queue):
    # A group is accepted there (SQS's fair queues, see test_sqs.py); a deduplication id is not.
    url = new_queue("std-group")
    with pytest.raises(ClientError) as info:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d")
    assert error_code(info) == "InvalidParameterValue", info.value.response


def test_a_fifo_name_without_fifo_queue_is_refused(sqs):
    name = unique("nofifo") + ".fifo"
    with pytest.raises(ClientError) as info:
        sqs.create_queue(QueueName=name)
    assert error_code(info) == "InvalidParameterValue", info.value.response
    for attributes in ({"FifoQueue": "true"}, {"FifoQueue": "false"}):
        with pytest.raises(ClientError) as info:
            sqs.create_queue(QueueName=unique("plain") + (".fifo" if attributes["FifoQueue"] == "false" else ""),
                             Attributes=attributes)
        assert error_code(info) == "InvalidParameterValue", info.value.response
        assert "must end with .fifo suffix" in info.value.response["Error"]["Message"]
    assert not [u for u in sqs.list_queues(QueueNamePrefix=name[:20]).get("QueueUrls", []) if u.endswith(name)]


def test_a_fifo_queue_with_a_standard_dead_letter_queue_is_refused(sqs, fifo_queue, new_queue):
    standard_arn = arn_of(sqs, new_queue("std-dlq"))
    redrive = json.dumps({"deadLetterTargetArn": standard_arn, "maxReceiveCount": 3})
    name = unique("fifo-std-dlq") + ".fifo"
    with pytest.raises(ClientError) as info:
        sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true", "RedrivePolicy": redrive})
    assert error_code(info) in ("InvalidParameterValue", "InvalidAttributeValue"), info.value.response
    with pytest.raises(ClientError):
        sqs.get_queue_url(QueueName=name)
    # Set later, too; and a FIFO dead-letter queue is taken.
    url = fifo_queue("fifo-src")
    with pytest.raises(ClientError) as info:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": redrive})
    assert error_code(info) in ("InvalidParameterValue", "InvalidAttributeValue"), info.value.response
    fifo_dlq_arn = arn_of(sqs, fifo_queue("fifo-dlq"))
    good = json.dumps({"deadLetterTargetArn": fifo_dlq_arn, "maxReceiveCount": 3})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": good})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(got["RedrivePolicy"])["deadLetterTargetArn"] == fifo_dlq_arn


def test_an_event_source_mapping_gets_each_group_in_order(sqs, lam, stratus_host, fifo_queue):
    url = fifo_queue("esm", VisibilityTimeout=30)
    name = url.rsplit("/", 1)[-1]
    entries = []
    for i in range(10):
        for group in ("x", "y"):
            entries.append({"Id": f"{group}{i}", "MessageBody": f"{group}-{i}", "MessageGroupId": group,
                            "MessageDeduplicationId": f"{group}-{i}"})
    for start in range(0, len(entries), 10):
        assert sqs.send_message_batch(QueueUrl=url, Entries=entries[start:start + 10]).get("Failed", []) == []
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn_of(sqs, url), FunctionName="recorder", BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    try:
        records = wait_for(
            lambda: (lambda r: r if len(r) >= 20 else None)(read_records(stratus_host.project, name)),
            "20 records from the FIFO queue", 60,
        )
        # Deleted, all of them: nothing can come again.
        wait_for(lambda: queue_is_empty(sqs, url), "the FIFO queue to be empty", 30)
        records = read_records(stratus_host.project, name)
        assert len(records) == 20, [r["body"] for r in records]
        for group in ("x", "y"):
            mine = [r for r in records if r["attributes"]["MessageGroupId"] == group]
            assert [r["body"] for r in mine] == [f"{group}-{i}" for i in range(10)]
            assert [r["attributes"]["MessageDeduplicationId"] for r in mine] == [f"{group}-{i}" for i in range(10)]
            sequence = [int(r["attributes"]["SequenceNumber"]) for r in mine]
            assert sequence == sorted(sequence)
            assert all(r["attributes"]["ApproximateReceiveCount"] == "1" for r in mine)
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_fifo_mapping_deletes_what_the_function_does_not_report(sqs, lam, stratus_host, fifo_queue):
    # As Lambda, FIFO or not: a partial batch response deletes every message it does not name, and what it names
    # comes back after the visibility timeout with its receive spent. `recorder` reports the bodies with
    # "poison" and processes the rest, so ok-2, after the failed message in the batch, runs once and is gone.
    dlq_arn = arn_of(sqs, fifo_queue("pdlq"))
    url = fifo_queue("partial", VisibilityTimeout=1, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    name = url.rsplit("/", 1)[-1]
    entries = [{"Id": str(i), "MessageBody": body, "MessageGroupId": "g", "MessageDeduplicationId": body}
               for i, body in enumerate(["ok-0", "poison-1", "ok-2"])]
    assert sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", []) == []
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn_of(sqs, url), FunctionName="recorder", BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    try:
        dlq_url = sqs.get_queue_url(QueueName=dlq_arn.rsplit(":", 1)[-1])["QueueUrl"]
        wait_for(lambda: queue_is_empty(sqs, url), "the poison message to leave the queue", 60)
        dead = receive(sqs, dlq_url)
        assert [m["Body"] for m in dead] == ["poison-1"]
        records = read_records(stratus_host.project, name)
        runs = [(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in records]
        assert runs == [("ok-0", "1"), ("poison-1", "1"), ("ok-2", "1"), ("poison-1", "2")], runs
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_a_fifo_redrive_makes_new_messages_after_what_the_queue_holds(sqs, fifo_queue):
    # SQS: a message moved from a FIFO queue to a FIFO dead-letter queue gets its message id as deduplication id;
    # a redrive gives each message a new id and enqueue time, and the destination takes it after what it holds.
    dlq = fifo_queue("redrive-dlq")
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1})
    src = fifo_queue("redrive-src", VisibilityTimeout=1, RedrivePolicy=policy)
    sent = [sqs.send_message(QueueUrl=src, MessageBody=b, MessageGroupId="g", MessageDeduplicationId="d-" + b)
            for b in ("p", "q")]
    ids = [m["MessageId"] for m in sent]
    assert [m["Body"] for m in receive(sqs, src)] == ["p", "q"]
    wait_for(lambda: not receive(sqs, src) and not queue_is_empty(sqs, dlq), "the messages to be dead-lettered")
    dead = receive(sqs, dlq, VisibilityTimeout=0, AttributeNames=["All"])
    assert [m["MessageId"] for m in dead] == ids
    assert [m["Attributes"]["MessageDeduplicationId"] for m in dead] == ids

    later = sqs.send_message(QueueUrl=src, MessageBody="later", MessageGroupId="g", MessageDeduplicationId="d-later")
    sqs.start_message_move_task(SourceArn=arn_of(sqs, dlq))
    wait_for(lambda: queue_is_empty(sqs, dlq), "the redrive")
    back = receive(sqs, src, AttributeNames=["All"])
    assert [m["Body"] for m in back] == ["later", "p", "q"]
    assert back[0]["MessageId"] == later["MessageId"]
    assert not {m["MessageId"] for m in back[1:]} & set(ids), "a redriven message has a new id"
    assert [m["Attributes"]["MessageDeduplicationId"] for m in back[1:]] == ids
    sequence = [int(m["Attributes"]["SequenceNumber"]) for m in back]
    assert sequence == sorted(sequence) and len(set(sequence)) == 3
    assert all(m["Attributes"]["ApproximateReceiveCount"] == "1" for m in back)


def test_a_batch_with_an_entry_without_group_is_refused_whole(sqs, fifo_queue):
    url = fifo_queue("batch-nogroup")
    with pytest.raises(ClientError) as info:
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "a", "MessageGroupId": "g", "MessageDeduplicationId": "a"},
            {"Id": "b", "MessageBody": "b", "MessageDeduplicationId": "b"}])
    assert error_code(info) == "MissingParameter", info.value.response
    assert queue_is_empty(sqs, url), "nothing of a refused batch is sent"


def test_a_message_dead_lettered_into_a_fifo_queue_is_enqueued_there_anew(sqs, fifo_queue):
    # SQS: for FIFO queues the enqueue time resets when a message moves to the dead-letter queue, so its retention
    # there starts then; it is enqueued after what the dead-letter queue holds.
    dlq = fifo_queue("anew-dlq", MessageRetentionPeriod=60)
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1})
    src = fifo_queue("anew-src", VisibilityTimeout=1, RedrivePolicy=policy)
    sqs.send_message(QueueUrl=src, MessageBody="late", MessageGroupId="g", MessageDeduplicationId="late")
    direct = sqs.send_message(QueueUrl=dlq, MessageBody="direct", MessageGroupId="g", MessageDeduplicationId="direct")
    assert [m["Body"] for m in receive(sqs, src)] == ["late"]
    moving_at = int(time.time() * 1000)  # the move comes once its visibility timeout (1 s) is over

    def dead_lettered():
        assert not receive(sqs, src), "delivered past maxReceiveCount"
        got = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return got["ApproximateNumberOfMessages"] == "2"

    wait_for(dead_lettered, "the message in the dead-letter queue")
    got = receive(sqs, dlq, VisibilityTimeout=0, AttributeNames=["All"])
    assert [m["Body"] for m in got] == ["direct", "late"]
    assert int(got[1]["Attributes"]["SequenceNumber"]) > int(direct["SequenceNumber"])
    assert int(got[1]["Attributes"]["SentTimestamp"]) >= moving_at


def test_sends_answer_the_sequence_number_the_receive_shows(sqs, fifo_queue):
    url = fifo_queue("seqsend")
    one = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="a")
    assert re.fullmatch(r"\d{20}", one["SequenceNumber"]), one
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "b", "MessageBody": "b", "MessageGroupId": "g", "MessageDeduplicationId": "b"},
        {"Id": "c", "MessageBody": "c", "MessageGroupId": "h", "MessageDeduplicationId": "c"},
    ])["Successful"]
    numbers = [one["SequenceNumber"]] + [e["SequenceNumber"] for e in sorted(batch, key=lambda e: e["Id"])]
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers) and len(set(numbers)) == 3, numbers
    # A duplicate within five minutes answers the first message's id and sequence number.
    again = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="a")
    assert (again["MessageId"], again["SequenceNumber"]) == (one["MessageId"], one["SequenceNumber"])
    got = receive(sqs, url, MaxNumberOfMessages=1, MessageSystemAttributeNames=["SequenceNumber"])
    assert got[0]["MessageId"] == one["MessageId"]
    assert got[0]["Attributes"]["SequenceNumber"] == one["SequenceNumber"]


def test_deduplication_scope_message_group_deduplicates_within_a_group(sqs, fifo_queue):
    # High-throughput FIFO: DeduplicationScope=messageGroup, FifoThroughputLimit=perMessageGroupId.
    url = fifo_queue("scope", DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    a = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="a", MessageDeduplicationId="same")
    b = sqs.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="b", MessageDeduplicationId="same")
    again = sqs.send_message(QueueUrl=url, MessageBody="a2", MessageGroupId="a", MessageDeduplicationId="same")
    assert a["MessageId"] != b["MessageId"] and again["MessageId"] == a["MessageId"]
    got = []
    for _ in range(10):
        got += receive(sqs, url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        if len(got) >= 2:
            break
    assert sorted(m["Body"] for m in got) == ["a", "b"]
    # The queue-wide scope (the default) treats the same id in another group as a duplicate.
    queue_wide = fifo_queue("scopeq")
    first = sqs.send_message(QueueUrl=queue_wide, MessageBody="a", MessageGroupId="a", MessageDeduplicationId="same")
    other = sqs.send_message(QueueUrl=queue_wide, MessageBody="b", MessageGroupId="b", MessageDeduplicationId="same")
    assert other["MessageId"] == first["MessageId"]


def test_a_receive_retried_with_its_attempt_id_gets_the_same_messages(sqs, fifo_queue):
    url = fifo_queue("attempt", ContentBasedDeduplication="true")
    for body in ("one", "two", "three"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    first = receive(sqs, url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1", VisibilityTimeout=3)
    assert [m["Body"] for m in first] == ["one", "two"]
    # The answer was lost: the retry with the same attempt id gets the same messages and receipt handles, and
    # their visibility timeout starts again (they stay hidden past the first one's 3 s).
    time.sleep(2)
    again = receive(sqs, url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1", VisibilityTimeout=5)
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in again] == [(m["MessageId"], m["ReceiptHandle"]) for m in first]
    time.sleep(2)
    # Another attempt id is a new receive: the group has messages in flight, so nothing.
    assert receive(sqs, url, ReceiveRequestAttemptId="try-2", WaitTimeSeconds=0) == []
    # Once one of them is deleted, the id no longer replays: a new receive (nothing while "two" is in flight).
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert receive(sqs, url, ReceiveRequestAttemptId="try-1", WaitTimeSeconds=0) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"])
    third = receive(sqs, url, ReceiveRequestAttemptId="try-1")
    assert [m["Body"] for m in third] == ["three"]
    # A visibility change of one of its messages ends a replay too.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=third[0]["ReceiptHandle"], VisibilityTimeout=0)
    fourth = receive(sqs, url, ReceiveRequestAttemptId="try-1")
    assert [m["Body"] for m in fourth] == ["three"] and fourth[0]["ReceiptHandle"] != third[0]["ReceiptHandle"]


def test_an_attempt_id_is_checked_on_fifo_queues_and_ignored_on_standard_ones(sqs, fifo_queue, new_queue):
    url = fifo_queue("attempt-bad")
    for bad in ("", "has space", "x" * 129, "é"):
        with pytest.raises(ClientError) as info:
            sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId=bad, WaitTimeSeconds=0)
        assert error_code(info) == "InvalidParameterValue", bad
    answer = sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="x" * 128, WaitTimeSeconds=0)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200 and "Messages" not in answer
    standard = new_queue("attempt-std")  # a standard queue ignores it, as SQS does
    sqs.send_message(QueueUrl=standard, MessageBody="m")
    assert [m["Body"] for m in receive(sqs, standard, ReceiveRequestAttemptId="has space")] == ["m"]

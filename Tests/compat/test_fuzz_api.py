"""Fuzzing the `/v1` control API with schemathesis, against the OpenAPI document the host serves itself.

A real `stratus serve` runs a project with functions, a consumed queue with its dead-letter queue, a topic
with subscriptions, and a sentinel queue (its name made at run time) holding one message. Schemathesis generates valid and invalid
requests for every operation of `/v1/openapi.json` (the document's examples, boundary values, then random
ones), aimed half of the time at the real objects, and checks each answer: never a 5xx, the status,
content type, headers and body as the document says, invalid requests refused, and no 400 whose own
message contradicts the request. Afterwards the host must still be up with its objects working, and the
sentinel message must still be there.

The run is bounded (`MAX_EXAMPLES` per operation and phase, no shrinking) and repeatable (fixed seed).
"""

import io
import json
import math
import re
import tarfile
import zlib

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fuzz_support import REPO, FUNCTIONS, QUEUES, SENTINEL_QUEUE, TOPICS, ServedHost, make_fuzz_project, wait_until

SEED = 20_260_901
MAX_EXAMPLES = 50
REQUEST_TIMEOUT = 30  # seconds; long polls are capped at LONG_POLL_CAP_MS, so no answer takes near this
LONG_POLL_CAP_MS = 100
SENTINEL_BODY = "sentinel: sent before fuzzing, never touched by it"
# Where any `http` subscription the fuzzer creates is pointed: nothing listens there, and no delivery may leave
# this machine whatever URL the fuzzer made up.
SAFE_HOOK_AUTHORITY = "127.0.0.1:9"


def document_in_source() -> dict:
    """The OpenAPI document as the source tree holds it (`openapi.json`, compiled into the binary).

    The tests are generated from it at collection time, before any host runs; `fuzz_host` then checks that
    the host serves exactly this document, so a stale binary cannot pass for the current one.
    """
    return json.loads((REPO / "Sources" / "StratusServer" / "Control" / "openapi.json").read_text())


def _tar(*members):
    """A tar of (name, bytes or a link target after '->', tar type) members, as GNU tar would write them."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = content
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


_MANIFEST = (b"function.yaml", b"runtime: python\nhandler: app.handler\n", tarfile.REGTYPE)
# What a deploy body is: random bytes, a valid function, and the hostile archives the host must refuse.
TAR_BODIES = st.one_of(
    st.binary(max_size=4096),
    st.sampled_from(
        [
            b"",
            _tar(("function.yaml", _MANIFEST[1], tarfile.REGTYPE), ("app.py", b"def handler(e, c):\n    return 1\n", tarfile.REGTYPE)),
            _tar(("function.yaml", _MANIFEST[1], tarfile.REGTYPE), ("../escape.py", b"x", tarfile.REGTYPE)),
            _tar(("function.yaml", _MANIFEST[1], tarfile.REGTYPE), ("/etc/evil", b"x", tarfile.REGTYPE)),
            _tar(("function.yaml", _MANIFEST[1], tarfile.REGTYPE), ("up", "..", tarfile.SYMTYPE), ("up/x", b"x", tarfile.REGTYPE)),
            _tar(("function.yaml", b"runtime: [python\n", tarfile.REGTYPE)),
        ]
    ),
)
schemathesis.openapi.media_type("application/x-tar", TAR_BODIES)

DOCUMENT = document_in_source()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none", "no-shrink": True},
            "phases": {"stateful": {"enabled": False}},
            "request-timeout": REQUEST_TIMEOUT,
        }
    ),
)


@pytest.fixture(scope="module")
def fuzz_host():
    host = ServedHost(make_fuzz_project).start()
    try:
        served = host.get("/v1/openapi.json")
        assert served.status_code == 200, served.text
        assert served.json() == DOCUMENT, "the host serves another /v1/openapi.json than the source holds: rebuild it"
        created = host.post("/v1/queues", {"name": SENTINEL_QUEUE})
        assert created.status_code == 201, created.text
        sent = host.post(f"/v1/queues/{SENTINEL_QUEUE}/messages", {"body": SENTINEL_BODY})
        assert sent.status_code == 201, sent.text
        host.sentinel_id = sent.json()["messageId"]
    except BaseException:
        host.kill()
        raise
    yield host
    rc = host.stop()
    assert rc == 0, f"stratus exited with {rc} after SIGTERM:\n{host.log()[-4000:]}"


# ------------------------------------------------------------------ a check of our own

INTEGER_BOUNDS = re.compile(r"^'?(?P<key>[A-Za-z]+)'? must be an integer between (?P<lo>-?\d+) and (?P<hi>-?\d+)$")
DURATION_BOUNDS = re.compile(
    r"^'?(?P<key>[A-Za-z]+)'? must be a duration between (?P<lo>\w+) and (?P<hi>\w+)"
    r"( \(such as [^)]*\) or a number of milliseconds)?$"
)
ATTRIBUTE_SHAPE = re.compile(r"^attribute '(?P<name>.*)' must be a string, a number or \{dataType, stringValue\}$")
UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(value, spaces=r"[ \t]*"):
    """The milliseconds of a duration the server documents as valid (`500ms`, `3s`...), or None."""
    if isinstance(value, str):
        m = re.fullmatch(spaces + r"([0-9]{1,18})(ms|s|m|h|d)" + spaces, value)
        return int(m.group(1)) * UNIT_MS[m.group(2)] if m else None
    return None


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@schemathesis.check
def error_agrees_with_request(ctx, response, case):
    """A 400 must not refuse the very value it asks for ("'max' must be an integer between 1 and 10" for max=1)."""
    if response.status_code != 400:
        return None
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return None  # the shape is response_schema_conformance's business
    sent = {}
    if isinstance(case.query, dict):
        # Spaces in a query string travel as `+`, which the server reads as a plus, not a space (RFC 3986 has no
        # such rule): only values without spaces can be compared.
        sent.update({k: v for k, v in case.query.items() if not (isinstance(v, str) and v != v.strip())})
    if isinstance(case.body, dict):
        sent.update(case.body)
    if m := INTEGER_BOUNDS.match(message):
        value = sent.get(m["key"])
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
            value = int(value)  # a query parameter
        if is_number(value) and math.isfinite(value) and value == int(value) and int(m["lo"]) <= value <= int(m["hi"]):
            raise AssertionError(f"{m['key']}={value!r} was refused with: {message}")
    elif m := DURATION_BOUNDS.match(message):
        value = sent.get(m["key"])
        lo, hi = duration_ms(m["lo"]), duration_ms(m["hi"])
        whole = is_number(value) and math.isfinite(value) and value == int(value)
        ms = int(value) if whole and "milliseconds" in message else duration_ms(value)
        if lo is not None and hi is not None and ms is not None and lo <= ms <= hi:
            raise AssertionError(f"{m['key']}={value!r} was refused with: {message}")
    elif m := ATTRIBUTE_SHAPE.match(message):
        attributes = sent.get("attributes")
        value = attributes.get(m["name"]) if isinstance(attributes, dict) else None
        if is_number(value) or (isinstance(value, str) and value):
            raise AssertionError(f"attribute {m['name']!r}={value!r} was refused with: {message}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    error_agrees_with_request,
]


# ------------------------------------------------------------------ aiming and bounding the generated requests


def pick_for(case):
    """Half of the requests are aimed at real objects: which ones follows from the generated request itself, so
    the choice is as repeatable as the generation (Hypothesis strategies cannot be added next to the
    document's examples)."""
    generated = json.dumps([case.path_parameters, case.query, case.body], sort_keys=True, default=repr)
    digest = zlib.crc32(generated.encode("utf-8", "surrogatepass"))
    return None if digest % 2 else digest // 2 % 12


def aim(case, pick):
    """Points the request at a real function, queue or topic when `pick` says so (the fuzzer's own names
    are almost never real), and at real queues and functions inside the body."""
    if pick is None:
        return
    path = case.operation.path
    if isinstance(case.path_parameters, dict) and "name" in case.path_parameters:
        pool = FUNCTIONS if path.startswith("/v1/functions/") else QUEUES if path.startswith("/v1/queues/") else TOPICS
        case.path_parameters["name"] = pool[pick % len(pool)]
    if isinstance(case.body, dict):
        for key, pool in (("queue", QUEUES), ("deadLetterQueue", QUEUES), ("to", QUEUES), ("function", FUNCTIONS)):
            if isinstance(case.body.get(key), str):
                case.body[key] = pool[(pick + len(key)) % len(pool)]


def capped(value):
    """A long-poll `wait` the server would honour, shortened to LONG_POLL_CAP_MS; anything else unchanged."""
    if is_number(value) and math.isfinite(value) and value == int(value) and LONG_POLL_CAP_MS < value <= 20_000:
        return LONG_POLL_CAP_MS
    ms = duration_ms(value)
    if ms is not None and LONG_POLL_CAP_MS < ms <= 20_000:
        return f"{LONG_POLL_CAP_MS}ms"
    return value


def make_safe(case):
    """Keeps the run bounded and on this machine: long polls are capped, HTTP subscriptions point at loopback."""
    if isinstance(case.query, dict) and "wait" in case.query:
        case.query["wait"] = capped(case.query["wait"])
    if isinstance(case.body, dict):
        if "wait" in case.body:
            case.body["wait"] = capped(case.body["wait"])
        hook = case.body.get("http")
        scheme = re.match(r"(\s*https?:)(//)?", hook, re.IGNORECASE) if isinstance(hook, str) else None
        if scheme:
            # Only the host and path change: valid URLs stay valid and invalid ones invalid, for the checks.
            rest = f"//{SAFE_HOOK_AUTHORITY}/fuzz-hook" if scheme.group(2) else SAFE_HOOK_AUTHORITY
            case.body["http"] = scheme.group(1) + rest


# ------------------------------------------------------------------ the fuzz run


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=False,  # the fixed seed makes the run repeatable
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_v1_api(case, fuzz_host):
    aim(case, pick_for(case))
    make_safe(case)
    case.call_and_validate(base_url=fuzz_host.control_url, checks=CHECKS, timeout=REQUEST_TIMEOUT)
    assert fuzz_host.alive(), f"stratus died during {case.operation.label}:\n{fuzz_host.log()[-4000:]}"


# ------------------------------------------------------------------ the exposure rules, fuzzed

OPERATIONS = sorted((method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item)
REAL_NAME = {"/v1/functions/": "hello", "/v1/queues/": "scratch", "/v1/topics/": "orders"}
EXPOSURE_SETTINGS = hypothesis.settings(
    max_examples=40, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


def concrete(path: str) -> str:
    for prefix, name in REAL_NAME.items():
        if path.startswith(prefix):
            return path.replace("{name}", name)
    return path


def refusal(response, status: int, code: str) -> None:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code, response.text


# Origins that are not the control plane's own (`http://127.0.0.1:PORT` as the client names it in `Host`).
foreign_origins = st.one_of(
    st.sampled_from(["null", "http://evil.example", "https://127.0.0.1", "http://localhost", "file://"]),
    st.from_regex(r"\Ahttps?://[a-z0-9.-]{1,30}(:[0-9]{1,5})?\Z"),
)
# Host names that are not loopback, including ones that only look like it.
foreign_hosts = st.one_of(
    st.sampled_from([
        "evil.example", "127.0.0.1.nip.io", "localhost.evil.example", "127.0.0.1@evil.example", "10.0.0.1",
        "192.168.1.1:8081", "[::2]", "[::ffff:7f00:1]", "0.0.0.0", "128.0.0.1", "1127.0.0.1", "127.0.0.1x",
    ]),
    st.from_regex(r"\A[a-z][a-z0-9-]{0,20}\.(com|org|net|example)(:[0-9]{1,5})?\Z"),
)
# Media types that are not JSON (`application/json` or `application/*+json`).
other_media_types = st.one_of(
    st.sampled_from([
        "text/plain", "text/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/jsonx", "application/json-seq", "application/xml",
    ]),
    st.from_regex(r"\A[a-z]{1,12}/[a-z0-9.-]{1,20}\Z").filter(lambda t: t != "application/json"),
)


@EXPOSURE_SETTINGS
@hypothesis.given(operation=st.sampled_from(OPERATIONS), origin=foreign_origins)
def test_foreign_origins_are_refused(fuzz_host, operation, origin):
    method, path = operation
    hypothesis.assume(origin != fuzz_host.control_url)
    answer = fuzz_host.session.request(
        method, fuzz_host.control_url + concrete(path), json={}, headers={"Origin": origin}, timeout=30
    )
    refusal(answer, 403, "ForbiddenOrigin")


@EXPOSURE_SETTINGS
@hypothesis.given(operation=st.sampled_from(OPERATIONS), host=foreign_hosts)
def test_foreign_hosts_are_refused(fuzz_host, operation, host):
    method, path = operation
    answer = fuzz_host.session.request(
        method, fuzz_host.control_url + concrete(path), json={}, headers={"Host": host}, timeout=30
    )
    refusal(answer, 403, "ForbiddenHost")


@EXPOSURE_SETTINGS
@hypothesis.given(
    operation=st.sampled_from([op for op in OPERATIONS if op[0] != "GET"]),
    media_type=st.one_of(st.none(), other_media_types),
)
def test_bodies_that_are_not_json_are_refused(fuzz_host, operation, media_type):
    method, path = operation
    headers = {} if media_type is None else {"Content-Type": media_type}
    answer = fuzz_host.session.request(
        method, fuzz_host.control_url + concrete(path), data=b'{"name": "refused"}', headers=headers, timeout=30
    )
    refusal(answer, 415, "UnsupportedMediaType")


def test_refused_requests_change_nothing(fuzz_host):
    """A page in the browser cannot create a queue (a POST with a foreign Origin, or a form post)."""
    url = fuzz_host.control_url + "/v1/queues"
    page = fuzz_host.session.post(url, json={"name": "from-a-page"}, headers={"Origin": "http://evil.example"})
    refusal(page, 403, "ForbiddenOrigin")
    refusal(fuzz_host.session.post(url, data={"name": "from-a-form"}), 415, "UnsupportedMediaType")
    cross_site = fuzz_host.session.post(url, json={"name": "cross-site"}, headers={"Sec-Fetch-Site": "cross-site"})
    refusal(cross_site, 403, "ForbiddenOrigin")
    names = {q["name"] for q in fuzz_host.get("/v1/queues").json()["queues"]}
    assert not names & {"from-a-page", "from-a-form", "cross-site"}


# ------------------------------------------------------------------ receipt handles the fuzzer cannot make up

VISIBILITY_MAX_MS = 12 * 3_600_000
timeouts = st.one_of(
    st.integers(min_value=-5, max_value=VISIBILITY_MAX_MS + 5),
    st.sampled_from([0, 1, VISIBILITY_MAX_MS, VISIBILITY_MAX_MS + 1, "0s", "12h", "721m", "43200s", "43200001ms"]),
    st.from_regex(r"\A[0-9]{1,20}(ms|s|m|h|d)\Z"),
    st.one_of(st.none(), st.booleans(), st.floats(), st.text(max_size=5)),
)


@hypothesis.settings(max_examples=40, deadline=None, database=None, derandomize=True)
@hypothesis.given(timeout=timeouts)
def test_visibility_change_with_a_current_receipt_handle(fuzz_host, timeout):
    """Visibility changes with real receipt handles: accepted exactly within 0s..12h, and the handle still
    deletes the message afterwards."""
    host = fuzz_host
    assert host.post("/v1/queues", {"name": "visibility-probe"}).status_code in (200, 201)
    assert host.post("/v1/queues/visibility-probe/messages", {"body": "probe"}).status_code == 201
    received = host.post("/v1/queues/visibility-probe/receive", {"max": 1, "visibilityTimeout": "1h"})
    [message] = received.json()["messages"]
    handle = message["receiptHandle"]
    answer = host.post("/v1/queues/visibility-probe/visibility", {"receiptHandle": handle, "timeout": timeout})
    ms = duration_ms(timeout) if isinstance(timeout, str) else timeout if is_number(timeout) else None
    valid = ms is not None and math.isfinite(ms) and ms == int(ms) and 0 <= ms <= VISIBILITY_MAX_MS
    if valid:
        assert (answer.status_code, answer.json()) == (200, {"changed": True}), f"timeout={timeout!r}: {answer.text}"
    else:
        assert answer.status_code == 400, f"timeout={timeout!r}: {answer.status_code} {answer.text}"
        assert answer.json()["error"]["code"] == "InvalidParameter", answer.text
    deleted = host.post("/v1/queues/visibility-probe/delete", {"receiptHandles": [handle]})
    assert (deleted.status_code, deleted.json()) == (200, {"deleted": 1}), deleted.text


# ------------------------------------------------------------------ defects the fuzz run found, pinned down
# Each of these failed when it was written; they stay as the exact reproductions the fuzz run reduces to.


def test_log_and_event_timestamps_name_their_time_zone(fuzz_host):
    """`start` and `time` are ISO 8601 without an offset ("2026-11-29T21:18:52.012"): not RFC 3339 date-times
    (what the document promises), and ambiguous for a client in another zone. UTC should say `Z`."""
    assert fuzz_host.post("/v1/functions/hello/invoke", {"name": "tz"}).status_code == 200
    [record] = fuzz_host.get("/v1/logs", params={"function": "hello", "limit": 1}).json()["invocations"]
    [event] = fuzz_host.get("/v1/events", params={"limit": 1}).json()["events"] or [{"time": None}]
    for value in (record["start"], event["time"]):
        if value is not None:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value), value


def test_sns_envelope_timestamp_is_utc(fuzz_host):
    """The SNS envelope's `Timestamp` is "2026-11-29T21:13:50.102"; SNS sends "...Z" (the builder's own doc
    comment says `2021-02-16T21:41:19.978Z`)."""
    assert fuzz_host.post("/v1/topics", {"name": "tz-probe"}).status_code == 201
    assert fuzz_host.post("/v1/queues", {"name": "tz-probe"}).status_code in (200, 201)
    assert fuzz_host.post("/v1/topics/tz-probe/subscriptions", {"queue": "tz-probe"}).status_code == 201
    assert fuzz_host.post("/v1/topics/tz-probe/publish", {"message": "when"}).status_code == 201
    [message] = fuzz_host.post("/v1/queues/tz-probe/receive", {"max": 10}).json()["messages"]
    timestamp = json.loads(message["body"])["Timestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", timestamp), timestamp


@pytest.mark.parametrize("scope", ["AAA", {}, 1])
def test_subscription_refuses_an_unknown_filter_scope(fuzz_host, scope):
    """Any `filterScope` but "body" silently means message attributes."""
    body = {"queue": "scratch", "filter": {"type": ["created"]}, "filterScope": scope}
    answer = fuzz_host.post("/v1/topics/orders/subscriptions", body)
    assert answer.status_code == 400, f"{body} -> {answer.status_code} {answer.text}"


def test_subscription_filter_scope_message_body_is_not_turned_into_attributes(fuzz_host):
    """Trigger files take `filterScope: MessageBody` (SNS's own name) for the body; the API takes it for the
    attributes. Refusing it or honouring it are both fine; turning it into the opposite is not."""
    body = {"queue": "scratch", "filter": {"kind": ["x"]}, "filterScope": "MessageBody"}
    answer = fuzz_host.post("/v1/topics/orders/subscriptions", body)
    if answer.status_code == 400:
        return
    assert answer.status_code == 201, answer.text
    [listed] = [
        s for t in fuzz_host.get("/v1/topics").json()["topics"] for s in t["subscriptions"]
        if s["id"] == answer.json()["subscriptionId"]
    ]
    assert listed["filterScope"] == "MessageBody", listed


@pytest.mark.parametrize(
    "body",
    [
        {"queue": "scratch", "http": ""},
        {"queue": "scratch", "http": {}},
        {"function": "hello", "queue": "no-such-queue"},
        {"function": "hello", "queue": "scratch"},
    ],
)
def test_subscription_names_exactly_one_endpoint(fuzz_host, body):
    """The first of function/queue/http wins and the others are dropped unchecked (trigger files refuse this
    with "expected exactly one of function:, queue: or http:")."""
    answer = fuzz_host.post("/v1/topics/orders/subscriptions", body)
    assert answer.status_code == 400, f"{body} -> {answer.status_code} {answer.text}"


@pytest.mark.parametrize("url", ["https:x", "http:127.0.0.1:9", "http://"])
def test_subscription_http_endpoint_needs_a_host(fuzz_host, url):
    """The API checks only the scheme, so `https:x` is subscribed (and every delivery to it fails);
    trigger files also require a host."""
    answer = fuzz_host.post("/v1/topics/orders/subscriptions", {"http": url})
    assert answer.status_code == 400, f"http={url!r} -> {answer.status_code} {answer.text}"


@pytest.mark.parametrize("name", [["x"], 5, None, {"a": 1}])
def test_queue_update_refuses_a_name_that_is_not_a_string(fuzz_host, name):
    """PATCH compares `name` only when it is a string; any other value is let through."""
    answer = fuzz_host.patch("/v1/queues/scratch", {"name": name})
    assert answer.status_code == 400, f"name={name!r} -> {answer.status_code} {answer.text}"


# ------------------------------------------------------------------ after the run: still alive, objects intact


def test_host_survives_the_fuzz_run(fuzz_host):
    host = fuzz_host
    assert host.alive(), f"stratus is gone:\n{host.log()[-4000:]}"
    health = host.get("/v1/health")
    assert (health.status_code, health.text) == (200, "ok")

    # The sentinel message is still there, untouched.
    queues = {q["name"]: q for q in host.get("/v1/queues").json()["queues"]}
    assert queues[SENTINEL_QUEUE]["counts"] == {"visible": 1, "inFlight": 0, "delayed": 0}, queues[SENTINEL_QUEUE]
    received = host.post(f"/v1/queues/{SENTINEL_QUEUE}/receive", {"max": 10, "visibilityTimeout": "0s"})
    assert received.status_code == 200, received.text
    [message] = received.json()["messages"]
    assert (message["id"], message["body"]) == (host.sentinel_id, SENTINEL_BODY)

    # A function: its breaker may have opened under the fuzzer's payloads; reset, then it answers.
    reset = host.post("/v1/functions/hello/breaker/reset")
    assert reset.status_code == 200, reset.text
    invoked = host.post("/v1/functions/hello/invoke", {"name": "after-fuzz"})
    assert invoked.status_code == 200, invoked.text
    assert (invoked.json()["status"], invoked.json()["result"]) == ("ok", {"message": "Hello, after-fuzz!"})

    # The consumed queue: the fuzzer may have changed its settings; put them back, then its consumer runs.
    restored = host.patch(
        "/v1/queues/billing",
        {"visibilityTimeout": "30s", "delay": "0s", "retention": "4d", "maxReceiveCount": 3,
         "deadLetterQueue": "billing-dlq"},
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["consumer"] == "charge"
    for function in ("hello", "charge", "notify"):
        host.post(f"/v1/functions/{function}/breaker/reset")
    sent = host.post("/v1/queues/billing/messages", {"body": "after-fuzz-charge"})
    assert sent.status_code == 201, sent.text
    wait_until(
        lambda: any('"after-fuzz-charge"' in r["output"] for r in logs(host, "charge")),
        deadline=30, what="charge to consume the message sent to billing after the fuzz run",
    )

    # The topic fans out to its function subscription (filtered on type=created) and its queue.
    order = {"message": "after-fuzz-order", "attributes": {"type": "created"}}
    published = host.post("/v1/topics/orders/publish", order)
    assert published.status_code == 201, published.text
    wait_until(
        lambda: any('"after-fuzz-order"' in r["output"] for r in logs(host, "notify")),
        deadline=30, what="notify to get the message published to orders after the fuzz run",
    )
    wait_until(
        lambda: any("after-fuzz-order" in r["output"] for r in logs(host, "charge")),
        deadline=30, what="charge to get, through billing, the message published to orders",
    )


def logs(host, function):
    answer = host.get("/v1/logs", params={"function": function, "limit": 1000})
    assert answer.status_code == 200, answer.text
    return answer.json()["invocations"]

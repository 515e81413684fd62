"""Fuzzing `stratus validate` with hostile `function.yaml` and `triggers/*.yaml` files.

Hypothesis writes documents that look like real manifests (the right keys, mostly) but carry hostile values:
durations and integers that overflow, negative or fractional numbers, YAML's other integer spellings (hex,
octal, sexagesimal), wrong types, unicode and control characters, deep nesting, anchors and aliases,
duplicate and unknown keys. For each project, `stratus validate DIR` must:

- end with 0 (all valid) or 65 (some invalid), never a crash, a signal or a hang;
- print one line per function or error and a summary, nothing on stderr;
- locate every error as `file:line: key: what was expected` (or `file: ...` / `file:line: ...` for problems
  of a whole file), with a line inside the file, a key the file names, and a message that says what was
  expected rather than an internal description.

`--json` gives the same errors as fields; both outputs are checked against each other.
"""

import copy
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import hypothesis
import pytest
from hypothesis import HealthCheck, strategies as st

from fuzz_support import STRATUS_BIN

VALIDATE_DEADLINE = 15.0  # seconds for one `stratus validate` of a handful of small files (it takes ~0.1 s)
SEED = 20_261_129
# A fixed seed rather than `derandomize`: as repeatable, and its examples are more varied. No shrinking: a
# failure shows the files it was found with, and CI time stays bounded.
SETTINGS = dict(
    deadline=None, database=None, derandomize=False, phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    suppress_health_check=list(HealthCheck),
)


# ------------------------------------------------------------------ YAML documents, written by hand


class Flow:
    """A mapping or sequence rendered in flow style (`{a: 1}`, `[1, 2]`)."""

    def __init__(self, node):
        self.node = node


class Mapping(list):
    """(key, value) pairs in order; duplicates allowed. Keys and scalar values are YAML text already."""


class Sequence(list):
    pass


def render(node, indent: int = 0) -> list:
    pad = " " * indent
    lines = []
    if isinstance(node, Mapping):
        if not node:
            return [pad + "{}"]
        for key, value in node:
            if isinstance(value, str):
                lines.append(f"{pad}{key}: {value}")
            elif isinstance(value, Flow):
                lines.append(f"{pad}{key}: {flow(value.node)}")
            else:
                lines.append(f"{pad}{key}:")
                lines.extend(render(value, indent + 2))
    elif isinstance(node, Sequence):
        if not node:
            return [pad + "[]"]
        for item in node:
            if isinstance(item, str):
                lines.append(f"{pad}- {item}")
            elif isinstance(item, Flow):
                lines.append(f"{pad}- {flow(item.node)}")
            else:
                lines.append(f"{pad}-")
                lines.extend(render(item, indent + 2))
    elif isinstance(node, Flow):
        lines.append(pad + flow(node.node))
    else:
        lines.append(pad + node)
    return lines


def flow(node) -> str:
    if isinstance(node, Mapping):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in node) + "}"
    if isinstance(node, Sequence):
        return "[" + ", ".join(flow(v) for v in node) + "]"
    if isinstance(node, Flow):
        return flow(node.node)
    return node


def document(node) -> str:
    return "\n".join(render(node)) + "\n"


# ------------------------------------------------------------------ hostile values

DURATIONS = [
    "3s", "500ms", "0s", "0ms", "1ms", "15m", "16m", "900s", "900001ms", "2m", "6h", "7h", "4d", "3650d", "3651d",
    "999999999999999d", "9223372036854775807ms", "9223372036854775808ms", "99999999999999999999999s",
    "000000000000000000001s", "-1s", "1.5s", "3 s", "3S", "3sec", "s", "ms", "1e3s", "0x10s", "\uff13s", "1_000ms",
    '"3s"', "'30s'", '" 3s "', '"3s\\t"', '"3s\\n"',
]
INTEGERS = [
    "0", "1", "-1", "16", "10240", "10241", "1000", "1001", "10000", "10001", "999999999999999999999",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "0x7fffffffffffffff",
    "0xffffffffffffffffffff", "-0x8000000000000000", "0o777", "017", "09", "0b1010", "0b" + "1" * 70, "1_000",
    "1.0", "1.5", "1e3", "1e400", ".inf", "-.inf", ".nan", "+5", "'5'", '"5"',
    "1:30", "190:20:30", "-1:30", "1:1:1:1:1:1:1:1:1:1:1:1", "59:59:59:59:59:59:59:59:59:59:59",
    "-1:0:0:0:0:0:0:0:0:0:0:0", "9223372036854775807:0",
]
# YAML 1.1's base-60 integers: Yams multiplies them out without checking for overflow.
SEXAGESIMAL = ["1:1:1:1:1:1:1:1:1:1:1:1", "59:59:59:59:59:59:59:59:59:59:59", "-1:0:0:0:0:0:0:0:0:0:0:0",
               "9223372036854775807:0", "190:20:30", "1:30"]
BOOLS = ["true", "false", "yes", "no", "on", "off", "True", "TRUE", "y", "n", "'true'", "1", "0"]
NULLS = ["~", "null", "Null", "''", '""']
PLAIN_HOSTILE = [
    "\u65e5\u672c\u8a9e", "\U0001f642", "\u202ertl", "caf\u00e9", "'a: b'", "*undefined", "&anchor value",
    "!!binary aGVsbG8=", "!!str 5", "!!int 5", "!!float 5", "!!bool yes", "!!null ''", "!!int 0x7fffffffffffffff",
    "!!int 1:1:1:1:1:1:1:1:1:1:1:1", "!!timestamp 2001-12-14", "!custom x", "'%'", "'@x'", "'`x'", "|", ">",
    "'#not a comment'", "x # comment", "'\u0000'", '"\\0"', '"\\e[2J"', '"a\\nb"', '"a\\rb"', '"\\u2028"',
    '"' + "x" * 5000 + '"',
]


def quoted_text():
    """Any unicode text, as a double-quoted YAML scalar (JSON's string syntax is YAML's)."""
    return st.text(max_size=40).map(lambda s: json.dumps(s, ensure_ascii=False))


def nested(depth_max: int = 40):
    return st.tuples(st.integers(1, depth_max), st.sampled_from(["[", "{a: "]), st.sampled_from(["1", "3s", "x"])).map(
        lambda t: (t[1] * t[0]) + t[2] + ("]" if t[1] == "[" else "}") * t[0]
    )


hostile = st.one_of(
    st.sampled_from(DURATIONS),
    st.sampled_from(INTEGERS),
    st.sampled_from(BOOLS),
    st.sampled_from(NULLS),
    st.sampled_from(PLAIN_HOSTILE),
    quoted_text(),
    nested(),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.from_regex(r"\A-?[0-9]{1,25}(ms|s|m|h|d)\Z"),
)


def keys(known):
    """A key that is not one of `known`: misspelled, unknown, or not a string at all."""
    return st.one_of(
        st.sampled_from(known).map(lambda k: k.upper()),
        st.sampled_from(known).map(lambda k: k + "s"),
        st.sampled_from(["unknown", "time-out", "\u00e9t\u00e9", "\U0001f642", "'quoted key'", "''", "[1, 2]",
                         "{a: 1}", "1", "true", "~", "<<", "!!binary aGVsbG8="]),
    )


# ------------------------------------------------------------------ valid documents (then made hostile)


def numbers(lo: int, hi: int):
    return st.one_of(st.sampled_from([str(lo), str(hi)]), st.integers(lo, hi).map(str))


def durations(*valid):
    return st.sampled_from(valid)


BOOL_VALUES = st.sampled_from(["true", "false"])


def mapping(spec, required=(), flow_style=True):
    """A valid mapping: the `required` keys of `spec` (key -> value strategy) and some others, in any order,
    now and then in flow style."""
    optional = [k for k in spec if k not in required]

    @st.composite
    def build(draw):
        chosen = list(required)
        chosen += draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional))) if optional else []
        pairs = Mapping((k, draw(spec[k])) for k in draw(st.permutations(chosen)))
        if flow_style and draw(st.integers(0, 4)) == 0:
            return Flow(pairs)
        return pairs

    return build()


function_spec = {
    "runtime": st.sampled_from(["python", "node", "provided"]),
    "handler": st.sampled_from(["app.handler", "index.handler", "pkg.mod.handler"]),
    "timeout": durations("3s", "500ms", "1ms", "15m", "900s", "2s", "900000ms"),
    "memory": numbers(16, 10240),
    "environment": mapping({"GREETING": st.sampled_from(["hello", "''", "'x: y'", "\u00e9t\u00e9"]),
                            "LEVEL": st.sampled_from(["'1'", "debug", "'true'"])}),
    "scaling": mapping({
        "min": numbers(0, 3), "max": numbers(3, 1000), "idle": durations("100ms", "2m", "1d"),
        "reserved": numbers(0, 3), "queue": numbers(0, 100_000), "maxWait": durations("0s", "5s", "15m"),
        "prewarm": BOOL_VALUES,
    }),
    "async": mapping({
        "retries": numbers(0, 10), "maxEventAge": durations("1s", "6h", "60s"),
        "retryBase": durations("1ms", "1s", "1h"), "retryCap": durations("30s", "1h"),
        "onFailure": st.sampled_from([Flow(Mapping([("queue", "dlq")])), Flow(Mapping([("topic", "orders")]))]),
    }),
    "circuitBreaker": st.one_of(
        st.sampled_from(["off", "false"]),
        mapping({
            "failureRate": numbers(1, 100), "minimumCalls": numbers(1, 10_000), "window": numbers(1, 10_000),
            "cooldown": durations("100ms", "30s", "1d"), "halfOpenCalls": numbers(1, 1000),
        }),
    ),
}

VALID_FILTERS = [
    Flow(Mapping([("type", "[created]")])),
    Flow(Mapping([("amount", '[{numeric: [">", 5, "<=", 10]}]')])),
    Flow(Mapping([("store", '[{prefix: "a"}, {anything-but: [b]}]')])),
    Flow(Mapping([("$or", "[{a: [x]}, {b: [{exists: true}]}]")])),
]


@st.composite
def subscription(draw):
    endpoint = draw(st.sampled_from([
        ("function", st.sampled_from(["hello", "worker"])),
        ("queue", st.just("dlq")),
        ("http", st.just("http://127.0.0.1:9/hook")),
    ]))
    return draw(mapping({
        endpoint[0]: endpoint[1],
        "filter": st.sampled_from(VALID_FILTERS),
        "filterScope": st.sampled_from(["body", "attributes", "MessageBody", "MessageAttributes"]),
        "raw": BOOL_VALUES,
        "deadLetterQueue": st.just("dlq"),
    }, required=(endpoint[0], "filter") if draw(st.booleans()) else (endpoint[0],)))


queue_settings = mapping({
    "visibilityTimeout": durations("30s", "2s", "12h", "43200s"),
    "maxReceiveCount": numbers(1, 1000),
    "deadLetterQueue": st.just("dlq"),
    "retention": durations("60s", "4d", "14d"),
    "delay": durations("0s", "15m", "900s"),
    "consumer": mapping({
        "function": st.sampled_from(["hello", "worker"]), "batchSize": numbers(1, 10),
        "batchWindow": durations("0s", "1s", "300s"), "maxConcurrency": numbers(1, 1000),
    }, required=("function",)),
})


@st.composite
def named(draw, values, always=(), prefix="n"):
    pairs = Mapping(always)
    for index in range(draw(st.integers(0, 3))):
        pairs.append((f"{prefix}{index}", draw(values)))
    return pairs


@st.composite
def http_routes(draw, prefix):
    items = Sequence()
    for index in range(draw(st.integers(0, 3))):
        items.append(draw(mapping({
            "route": st.just(f"GET /{prefix}{index}/{{id}}"),
            "function": st.sampled_from(["hello", "worker"]),
            "cors": mapping({
                "allowOrigins": st.just(Flow(Sequence(['"*"']))), "allowMethods": st.just("[GET]"),
                "maxAge": numbers(0, 86_400), "allowCredentials": BOOL_VALUES,
            }),
            "auth": mapping({"apiKeys": st.sampled_from(["[k1, k2]", "[env:HOME]"])}),
        }, required=("route", "function"), flow_style=False)))
    return items


@st.composite
def trigger_document(draw, index: int):
    """A valid trigger file. The first declares the queue `dlq` and the topic `orders` (with a subscription)
    that the others refer to; names and routes carry the file's index so that files do not collide."""
    topics = named(
        st.one_of(mapping({"subscriptions": st.lists(subscription(), max_size=3).map(Sequence)}), st.just("~")),
        prefix=f"t{index}-",
    )
    pairs = Mapping([
        ("queues", draw(named(st.one_of(queue_settings, st.just("{}"), st.just("~")), prefix=f"q{index}-"))),
        ("topics", draw(topics)),
        ("http", draw(http_routes(f"f{index}-"))),
    ])
    if index == 0:
        pairs[0][1].insert(0, ("dlq", "{}"))
        orders = Mapping([("subscriptions", draw(st.lists(subscription(), min_size=1, max_size=3).map(Sequence)))])
        pairs[1][1].insert(0, ("orders", orders))
    return Mapping(draw(st.permutations([p for p in pairs if p[1] or p[0] == "queues"])))


# ------------------------------------------------------------------ making them hostile

INTEGER_KEYS = {"memory", "min", "max", "reserved", "queue", "retries", "failureRate", "minimumCalls", "window",
                "halfOpenCalls", "maxReceiveCount", "batchSize", "maxConcurrency", "maxAge"}
DURATION_KEYS = {"timeout", "idle", "maxWait", "maxEventAge", "retryBase", "retryCap", "cooldown",
                 "visibilityTimeout", "retention", "delay", "batchWindow"}
BOOL_KEYS = {"prewarm", "raw", "allowCredentials"}
TYPED_KEYS = INTEGER_KEYS | DURATION_KEYS | BOOL_KEYS | {"filter", "route"}

filter_value = st.recursive(
    st.one_of(
        st.sampled_from(["created", "'x'", "1", "-1.5", "true", "~", "1e400", "0x10", "1:1:1:1:1:1:1:1:1:1:1:1",
                         "99999999999999999999", ".nan"]),
        quoted_text(),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda xs: Flow(Sequence(xs))),
        st.lists(st.tuples(st.sampled_from(["prefix", "numeric", "anything-but", "exists", "suffix",
                                            "equals-ignore-case", "cidr", "$or", "type", "a"]), children),
                 max_size=3).map(lambda kv: Flow(Mapping(kv))),
    ),
    max_leaves=12,
)


@st.composite
def alias_bomb(draw):
    """Anchors and aliases: each level repeats the one before nine times (depth 1..7: up to 43 million)."""
    depth = draw(st.integers(1, 7))
    return alias_levels(depth)


def alias_levels(depth: int) -> Mapping:
    pairs = Mapping([("l0", '&l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]')])
    for level in range(1, depth + 1):
        pairs.append((f"l{level}", f"&l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]"))
    return pairs


def hostile_for(key):
    """A hostile value for `key`: mostly of the kind the key expects (other integers for an integer), else anything."""
    if key in INTEGER_KEYS:
        specific = st.one_of(
            st.sampled_from(SEXAGESIMAL), st.sampled_from(INTEGERS), st.integers(-(2**70), 2**70).map(str)
        )
    elif key in DURATION_KEYS:
        specific = st.one_of(st.sampled_from(DURATIONS), st.from_regex(r"\A-?[0-9]{1,25}(ms|s|m|h|d)\Z"))
    elif key in BOOL_KEYS:
        specific = st.sampled_from(BOOLS)
    elif key == "filter":
        specific = st.one_of(
            alias_bomb(),
            alias_bomb(),
            st.lists(st.tuples(st.sampled_from(["type", "amount", "$or", "\u00e9"]), filter_value), max_size=3)
            .map(lambda kv: Mapping(kv)),
        )
    elif key == "route":
        specific = st.one_of(
            st.sampled_from([
                "GET /a0/{id}", "POST /items", "ANY /node/{proxy+}", "$default", "get /lower", "FOO /x", "GET x",
                "GET /{a+}/b", "GET /{}", "GET /{a", "GET  /two-spaces", "GET", "/no-method", "GET /caf\u00e9",
                "'GET /a b'",
            ]),
            st.from_regex(r"\A(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|ANY) /[a-z{}+/]{0,15}\Z"),
        )
    elif key in ("http", "function", "queue", "deadLetterQueue", "runtime", "handler", "filterScope"):
        specific = st.one_of(
            st.sampled_from(["https://example.invalid/x", "ftp://x", "http://", "not a url", "http:/x", "'http://[::1'",
                             "missing-fn", "UPPER", "dlq2", "ruby", "Python", "app", ".handler", "Body", "x" * 300]),
            quoted_text(),
        )
    else:
        specific = hostile
    return st.one_of(specific, specific, hostile)


def positions(node, key=""):
    """Every place a value sits in a document: (container, index, the key it belongs to)."""
    if isinstance(node, Flow):
        node = node.node
    if isinstance(node, Mapping):
        for index, (k, value) in enumerate(node):
            yield node, index, k
            yield from positions(value, k)
    elif isinstance(node, Sequence):
        for index, value in enumerate(node):
            yield node, index, key
            yield from positions(value, key)


@st.composite
def hostile_document(draw, valid):
    """A valid document with one to four things made hostile: a value, a key, a duplicate or an unknown key."""
    root = copy.deepcopy(draw(valid))
    for _ in range(draw(st.integers(1, 4))):
        places = list(positions(root))
        if not places:
            root = Mapping([(draw(keys(["runtime"])), draw(hostile))])
            continue
        typed = [p for p in places if p[2] in TYPED_KEYS]
        container, index, key = draw(st.sampled_from(typed if typed and draw(st.integers(0, 2)) else places))
        action = draw(st.sampled_from(["value", "value", "value", "value", "key", "duplicate", "unknown"]))
        if isinstance(container, Sequence) or action == "value":
            value = draw(hostile_for(key))
            container[index] = value if isinstance(container, Sequence) else (container[index][0], value)
        elif action == "key":
            container[index] = (draw(keys([key])), container[index][1])
        elif action == "duplicate":
            container.insert(draw(st.integers(0, len(container))), (key, draw(hostile_for(key))))
        else:
            container.insert(draw(st.integers(0, len(container))), (draw(keys([key])), draw(hostile)))
    return root


# Mostly valid names: a directory with an invalid name is reported without its manifest being read.
function_names = st.one_of(
    *[st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,20}\Z")] * 9,
    st.sampled_from(["UPPER", "a_b", "x" * 65, "-lead", "caf\u00e9", "a:b", "a b", "\U0001f642"]),
)

BROKEN_FUNCTION_FILES = [
    "", "---\n", "[]\n", "- runtime: python\n", "just a string\n", "~\n", "runtime: python\n---\nruntime: node\n",
    "runtime: [python\n", "\t- x\n", "%YAML 9.9\n---\nruntime: python\n", "runtime: *nope\n",
    "runtime: python\nhandler: app.handler\nmemory: &m 128\nscaling: {max: *m}\n",
]
BROKEN_TRIGGER_FILES = [
    "", "[]\n", "http: ~\n", "queues:\n  q: {}\n---\nqueues: {}\n", "queues: [\n", "\ufeffqueues: {}\n",
]


@st.composite
def function_files(draw):
    """The text of a function.yaml: a valid one made hostile, now and then something else entirely."""
    if draw(st.integers(0, 15)) == 0:
        return draw(st.sampled_from(BROKEN_FUNCTION_FILES))
    return document(draw(hostile_document(mapping(function_spec, required=("runtime", "handler")))))


@st.composite
def trigger_files(draw, index: int = 0):
    if draw(st.integers(0, 15)) == 0:
        return draw(st.sampled_from(BROKEN_TRIGGER_FILES))
    return document(draw(hostile_document(trigger_document(index))))


# ------------------------------------------------------------------ running `stratus validate` and reading it

HELLO = ("hello", "runtime: python\nhandler: app.handler\ntimeout: 2s\n")
WORKER = ("worker", "runtime: node\nhandler: index.handler\n")
SUMMARY = re.compile(r"^(\d+) valid, (\d+) invalid$")
OK_LINE = re.compile(r"^ok       (\S+) \((python|node|provided)\)$")
# File-level problems: no key to name.
FILE_LEVEL = re.compile(
    r"^(invalid YAML: |missing or unreadable$|unreadable$|expected a mapping$|expected string keys$|"
    r"runtime 'provided' needs |functions/.*/bootstrap is not executable|function directory name )"
)
SAYS_WHAT_WAS_EXPECTED = re.compile(
    r"expected|must|missing|unknown|defined twice|collides|cannot|more than|is not set|invalid|shorter than|needs"
)
INTERNALS = re.compile(r"Optional\(|Swift\.|Yams\.|YamlError|Foundation\.|NSError|\bError\(|DecodingError")


def write_project(root: Path, functions: list, triggers: list) -> None:
    for name, text in functions:
        fdir = root / "functions" / name
        fdir.mkdir(parents=True, exist_ok=True)
        (fdir / "function.yaml").write_bytes(text.encode("utf-8", "surrogatepass"))
        (fdir / "app.py").write_text("def handler(event, context):\n    return event\n")
        (fdir / "index.js").write_text("exports.handler = async (event) => event;\n")
    (root / "triggers").mkdir(exist_ok=True)
    for index, text in enumerate(triggers):
        (root / "triggers" / f"t{index}.yaml").write_bytes(text.encode("utf-8", "surrogatepass"))


def run_validate(root: Path, *flags: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [STRATUS_BIN, "validate", *flags, str(root)], capture_output=True, timeout=VALIDATE_DEADLINE,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"stratus validate {' '.join(flags)} did not finish within {VALIDATE_DEADLINE}s")


def crash_report(stderr: bytes) -> str:
    """The part of a Swift crash report that says where: the crash line and the crashed thread's frames."""
    text = stderr.decode("utf-8", "replace")
    lines = text.splitlines()
    picked = [line for line in lines if "Program crashed" in line or "Fatal error" in line]
    for index, line in enumerate(lines):
        if line.endswith("crashed:"):
            picked += lines[index : index + 16]
            break
    return "\n".join(picked) if picked else text[-3000:]


def describe(error: dict) -> str:
    """How the text output prints one error (`ManifestError.description`)."""
    location = error["file"] if error["line"] is None else f"{error['file']}:{error['line']}"
    return f"{location}: {error['message']}" if not error["key"] else f"{location}: {error['key']}: {error['message']}"


def check_validate(root: Path) -> None:
    files = {str(p.relative_to(root)): p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*.yaml")}
    try:
        check_outputs(root, files)
    except AssertionError as failure:
        shown = "\n".join(f"--- {name}\n{text}" for name, text in sorted(files.items()))
        raise AssertionError(f"{failure}\n\nthe project's files:\n{shown[:8000]}") from None


def check_outputs(root: Path, files: dict) -> None:
    text_run = run_validate(root)
    json_run = run_validate(root, "--json")
    for run in (text_run, json_run):
        command = " ".join(["stratus", *run.args[1:-1]])
        assert run.returncode in (0, 65), (
            f"{command} ended with {run.returncode} (negative: killed by signal {-run.returncode}):\n"
            f"{crash_report(run.stderr)}"
        )
        assert run.stderr == b"", f"{command} wrote to stderr:\n{run.stderr.decode('utf-8', 'replace')[-3000:]}"
    assert text_run.returncode == json_run.returncode

    result = json.loads(json_run.stdout)
    errors = result["errors"]
    assert (text_run.returncode == 65) == bool(errors), f"exit {text_run.returncode} with errors {errors}"

    # The text output: one line per loaded function and per error, then the summary.
    lines = text_run.stdout.decode("utf-8").split("\n")
    assert lines[-1] == "", "output does not end with a newline"
    *body, summary = lines[:-1]
    assert SUMMARY.match(summary), f"last line is not the summary: {summary!r}"
    for error in errors:
        line = describe(error)
        assert not re.search(r"[\n\r\x85\u2028\u2029]", line), f"error breaks the one-line-per-error output: {line!r}"
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", line), (
            f"error prints raw control characters from the file (a terminal would interpret them): {line!r}"
        )
    assert [line for line in body if line.startswith("invalid  ")] == [f"invalid  {describe(e)}" for e in errors]
    for line in body:
        assert line.startswith("invalid  ") or OK_LINE.match(line), f"unexpected output line: {line!r}"
    ok_count = sum(1 for line in body if OK_LINE.match(line))
    assert SUMMARY.match(summary).groups() == (str(ok_count), str(len(errors))), summary

    # Every error: file, line within it, key, and what was expected.
    for error in errors:
        where = describe(error)
        assert error["file"] in files or error["file"].startswith("functions/"), f"unknown file in: {where}"
        text = files.get(error["file"])
        if error["line"] is not None and text is not None:
            assert 1 <= error["line"] <= text.count("\n") + 1, f"line outside the file: {where}"
        message = error["message"]
        assert message, f"empty message: {where}"
        assert not INTERNALS.search(message), f"message shows internals, not what was expected: {where}"
        if not error["key"]:
            # File-level problems have no key; nor has an unknown key that is the empty string (`'': 1`).
            assert FILE_LEVEL.match(message) or message.startswith(("unknown key", "key defined twice")), (
                f"error names no key: {where}"
            )
        else:
            assert SAYS_WHAT_WAS_EXPECTED.search(message), f"message does not say what was expected: {where}"
        if error["key"] and text is not None and not message.startswith("missing"):
            for part in error["key"].split(", "):
                last = re.sub(r"\[\d+\]$", "", part).rsplit(".", 1)[-1]
                assert last in text, f"the key {error['key']!r} is not in the file: {where}"


# ------------------------------------------------------------------ the tests


@st.composite
def function_projects(draw):
    """One to five function directories, each with its own hostile manifest (a bad one never stops the others
    from being read, so each is checked), and sometimes a valid `hello`."""
    names = draw(st.lists(function_names, min_size=1, max_size=5, unique=True))
    functions = [(name, draw(function_files())) for name in names if name != HELLO[0]]
    if draw(st.booleans()):
        functions.append(HELLO)
    return functions


@hypothesis.seed(SEED)
@hypothesis.settings(max_examples=80, **SETTINGS)
@hypothesis.given(functions=function_projects())
def test_validate_function_manifests(functions):
    with tempfile.TemporaryDirectory(prefix="stratus-fuzz-manifest-") as tmp:
        root = Path(tmp)
        write_project(root, functions, [])
        check_validate(root)


@st.composite
def trigger_projects(draw):
    """One to three trigger files, each with its own hostile entries."""
    return [draw(trigger_files(index)) for index in range(draw(st.integers(1, 3)))]


@hypothesis.seed(SEED)
@hypothesis.settings(max_examples=70, **SETTINGS)
@hypothesis.given(texts=trigger_projects())
def test_validate_trigger_files(texts):
    with tempfile.TemporaryDirectory(prefix="stratus-fuzz-manifest-") as tmp:
        root = Path(tmp)
        write_project(root, [HELLO, WORKER], texts)
        check_validate(root)


# ------------------------------------------------------------------ defects the fuzz run found, pinned down
# Each of these failed when it was written; they are the exact reproductions the fuzz run's failures reduce to.

PYTHON_FUNCTION = "runtime: python\nhandler: app.handler\n"


def validate_files(functions: dict, triggers: dict):
    """`stratus validate` of a project with these function.yaml texts and trigger files; the checks above, and
    the JSON errors for a closer look."""
    with tempfile.TemporaryDirectory(prefix="stratus-fuzz-manifest-") as tmp:
        root = Path(tmp)
        write_project(root, list(functions.items()), [])
        for name, text in triggers.items():
            (root / "triggers" / name).write_text(text)
        check_validate(root)
        return json.loads(run_validate(root, "--json").stdout)["errors"]


@pytest.mark.parametrize("value", ["1:1:1:1:1:1:1:1:1:1:1:1", "-1:0:0:0:0:0:0:0:0:0:0:0", "9223372036854775807:0"])
def test_base_60_integers_that_overflow_are_an_error_not_a_crash(value):
    """YAML 1.1 reads `1:30` as 90; Yams multiplies the parts out with trapping arithmetic, so
    `memory: 1:1:1:1:1:1:1:1:1:1:1:1` (60^11 > Int64.max) kills `stratus validate` (and `serve`) with SIGILL
    in `String.sexagesimal()` (Yams Constructor.swift:703), called from `YAMLValue.int(in:)`."""
    [error] = validate_files({"a": PYTHON_FUNCTION + f"memory: {value}\n"}, {})
    assert (error["line"], error["key"]) == (3, "memory"), error


@pytest.mark.parametrize("value", ["n", "~", "''", "5", "1:1:1:1:1:1:1:1:1:1:1:1"])
def test_a_filter_that_is_not_a_mapping_is_an_error_not_a_crash(value):
    """`filter: n` (or null, or a number) in a trigger file kills `stratus validate` (and `serve`) with SIGILL:
    `JSONSerialization.data(withJSONObject:options: [.sortedKeys])` traps on a top-level scalar
    (TriggerFile.swift, parseTopic; `try?` cannot catch a trap)."""
    topic = "topics:\n  t:\n    subscriptions:\n      - queue: q\n        filter: " + value + "\n"
    triggers = {"t.yaml": "queues:\n  q: {}\n" + topic}
    [error] = validate_files({"hello": PYTHON_FUNCTION}, triggers)
    assert (error["line"], error["key"]) == (7, "topics.t.subscriptions[0].filter"), error


def test_anchors_and_aliases_cannot_make_validate_hang():
    """A 9-line filter of anchors, each repeating the one before nine times: `YAMLValue.jsonValue` expands
    every alias, so depth 6 takes ~10 s and 1 GB, depth 7 ~90 s and ~9 GB, depth 8 does not end. (A
    filter policy has at most 150 combinations: anything this large can be refused early.)"""
    lines = ["queues:", "  q: {}", "topics:", "  t:", "    subscriptions:", "      - queue: q", "        filter:"]
    lines += ["          " + line for line in render(alias_levels(7))]
    validate_files({"hello": PYTHON_FUNCTION}, {"t.yaml": "\n".join(lines) + "\n"})


@pytest.mark.parametrize("value", ['"py\\nthon"', '"py\\rthon"', '"\\e[31mred"', '"\\u2028"'])
def test_errors_do_not_print_raw_control_characters(value):
    """Errors echo the value they got as it is: a newline splits the error over two lines (the second
    without file or key), and an escape sequence reaches the terminal."""
    validate_files({"a": f"runtime: {value}\nhandler: app.handler\n"}, {})


def test_invalid_yaml_is_located_on_one_line():
    """A reader error (a C1 control character in a quoted string) prints `file: invalid YAML: 2:7: error:
    reader: control characters are not allowed:` then the offending line and a caret on two more lines:
    the location belongs before the message, as for the parser's errors (`file:2: invalid YAML: ...`)."""
    errors = validate_files({"hello": PYTHON_FUNCTION}, {"t.yaml": 'queues:\n  q: "\u0080x"\n'})
    assert [e["line"] for e in errors] == [2], errors


def test_duplicate_keys_that_are_not_strings_are_named_as_written():
    """`[1, 2]: a` twice is reported as `<uncovertable>: key defined twice` (Yams' placeholder)."""
    validate_files({"a": PYTHON_FUNCTION + "[1, 2]: a\n[1, 2]: b\n"}, {})


def test_validate_binary_is_there():
    assert os.access(STRATUS_BIN, os.X_OK), f"stratus binary not found or not executable: {STRATUS_BIN}"

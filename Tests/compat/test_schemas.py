"""The committed JSON Schemas as an editor reads them: a standard draft 2020-12 validator (`jsonschema_rs`, or
`jsonschema`) on YAML converted to JSON (PyYAML), against `stratus validate` on the same files.

- the schemas are valid draft 2020-12 schemas, and the example project's files satisfy them;
- at every integer and duration setting, at its bounds, one past them and with malformed values, and at every
  enum member and a non-member, the editor and the host agree on what is valid.

YAML spellings that YAML 1.2 (editors) and Stratus read differently (`0x10`, `1.0`, `yes`, quoted numbers)
are left out on purpose: the README lists them.
"""

import glob
import json
import subprocess
import tempfile
from pathlib import Path


from fuzz_support import REPO, STRATUS_BIN

import jsonschema_rs  # the Makefile installs it (and PyYAML) into the venv
import yaml


def make_validator(schema):
    assert jsonschema_rs.meta.is_valid(schema), "not a valid JSON Schema"
    validator = jsonschema_rs.Draft202012Validator(schema)
    return lambda instance: [error.message for error in validator.iter_errors(instance)]


def schema(name: str) -> dict:
    return json.loads((REPO / "schemas" / f"{name}.schema.json").read_text())


FUNCTION = make_validator(schema("function"))
TRIGGERS = make_validator(schema("triggers"))

INTEGERS = ["-1", "0", "1", "2", "10", "11", "16", "99", "100", "101", "1000", "1001", "10000", "10001", "10240",
            "10241", "86400", "86401", "100000", "100001", "99999999999999999999999", "abc", "1.5", "-5"]
DURATIONS = ["0ms", "1ms", "99ms", "100ms", "999ms", "1s", "59s", "60s", "30s", "5m", "15m", "16m", "900s", "901s",
             "900001ms", "1h", "6h", "7h", "12h", "13h", "1d", "2d", "14d", "15d", "3650d", "3651d", "30", "3 s",
             "1.5s", "-1s", "s", "000000000000000000001s", "00000000000000001s", "99999999999999999999s", "'3s'"]


def settings(node: dict, path: tuple = ()):
    """(key path, kind, values) for every integer, duration, boolean and enum setting under `node`, with
    the values to try at each."""
    for key, child in sorted(node.get("properties", {}).items()):
        here = path + (key,)
        kinds = child.get("type")
        if kinds == "integer":
            bounds = [child["minimum"] - 1, child["minimum"], child["maximum"], child["maximum"] + 1]
            yield here, "integer", sorted(set(INTEGERS + [str(b) for b in bounds]))
        elif kinds == "string" and "Expected: a duration" in child.get("description", ""):
            yield here, "duration", DURATIONS
        elif kinds == "boolean":
            yield here, "boolean", ["true", "false", "maybe"]
        elif "enum" in child:
            yield here, "enum", [json.dumps(v) if not isinstance(v, str) else v for v in child["enum"]] + ["other"]
        yield from settings(child, here)
        for option in child.get("anyOf", []):
            yield from settings(option, here)


def nested(path: tuple, value: str) -> str:
    """`a:\n  b: value` for the key path (a, b)."""
    lines = [("  " * depth) + f"{key}:" for depth, key in enumerate(path[:-1])]
    lines.append(("  " * (len(path) - 1)) + f"{path[-1]}: {value}")
    return "\n".join(lines) + "\n"


def run_validate(root: Path) -> dict:
    """The files `stratus validate --json` finds fault with."""
    run = subprocess.run([STRATUS_BIN, "validate", "--json", str(root)], capture_output=True, timeout=60,
                         stdin=subprocess.DEVNULL)
    assert run.returncode in (0, 65), run.stderr.decode()
    return {error["file"]: error for error in json.loads(run.stdout)["errors"]}


def test_the_schemas_are_draft_2020_12_with_ids():
    for name in ("function", "triggers"):
        document = schema(name)
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert document["$id"].endswith(f"{name}.schema.json")


def test_the_example_files_satisfy_the_schemas():
    files = [(FUNCTION, path) for path in glob.glob(str(REPO / "functions" / "*" / "function.yaml"))]
    files += [(TRIGGERS, path) for path in glob.glob(str(REPO / "triggers" / "*.yaml"))]
    assert len(files) >= 8
    for validate, path in files:
        text = Path(path).read_text()
        assert text.startswith("# yaml-language-server: $schema="), path
        assert validate(yaml.safe_load(text) or {}) == [], path


def test_editor_and_host_agree_on_every_function_setting():
    cases = []
    for path, kind, values in settings(schema("function")):
        if path == ("handler",) or path[0] == "runtime":
            continue
        for value in values:
            text = nested(path, value)
            if path[0] == "scaling" and path[1] != "max":
                # What only the host checks: min and reserved not above max (whose default is 10).
                text = text.replace("scaling:\n", "scaling:\n  max: 1000\n")
            cases.append((path, value, "runtime: python\nhandler: app.handler\n" + text))
    # (provided needs an executable ./bootstrap: a check of the directory, not of the file.)
    for value in ("python", "node", "ruby"):
        cases.append((("runtime",), value, f"runtime: {value}\nhandler: app.handler\n"))
    assert len(cases) > 300
    with tempfile.TemporaryDirectory(prefix="stratus-schemas-") as tmp:
        root = Path(tmp)
        for index, (_, _, text) in enumerate(cases):
            directory = root / "functions" / f"f{index}"
            directory.mkdir(parents=True)
            (directory / "function.yaml").write_text(text)
        refused = run_validate(root)
    disagreements = []
    for index, (path, value, text) in enumerate(cases):
        host = f"functions/f{index}/function.yaml" not in refused
        editor = FUNCTION(yaml.safe_load(text)) == []
        if host != editor:
            disagreements.append(f"{'.'.join(path)}: {value!r}: host {'accepts' if host else 'refuses'}, "
                                 f"editor {'accepts' if editor else 'refuses'}")
    assert not disagreements, "\n".join(disagreements)


def trigger_document(index: int, path: tuple, value: str) -> str:
    """A trigger file that puts `value` at `path`, with names of its own so that files do not collide."""
    section, rest = path[0], path[1:]
    if section == "queues":
        # queues.<name>.setting, or queues.<name>.consumer.setting
        queue = f"q{index}"
        if rest[1:2] == ("consumer",):
            if rest[-1] == "batchSize":
                return ""
            return f"queues:\n  {queue}:\n    consumer:\n      function: hello\n      {rest[-1]}: {value}\n"
        return f"queues:\n  {queue}:\n    {rest[-1]}: {value}\n"
    if section == "http":
        # http[].setting, or http[].group.setting
        inner = "".join("    " + line + "\n" for line in nested(rest[1:], value).splitlines())
        return f"http:\n  - route: GET /r{index}\n    function: hello\n" + inner
    if section == "topics":
        return (f"queues:\n  q{index}: {{}}\ntopics:\n  t{index}:\n    subscriptions:\n      - queue: q{index}\n"
                f"        {rest[-1]}: {value}\n")
    return ""


def json_settings(node: dict, path: tuple = ()):
    """`settings`, descending into maps (`additionalProperties`) and lists (`items`) too."""
    for key, child in sorted(node.get("properties", {}).items()):
        here = path + (key,)
        for inner_path, kind, values in settings({"properties": {key: child}}, path):
            yield inner_path, kind, values
        for inner in (child.get("additionalProperties"), child.get("items")):
            if isinstance(inner, dict):
                yield from json_settings(inner, here + ("*",))


def test_editor_and_host_agree_on_every_trigger_setting():
    cases = []
    for path, kind, values in json_settings(schema("triggers")):
        for value in values:
            text = trigger_document(len(cases), path, value)
            if text:
                cases.append((path, value, text))
    assert len(cases) > 150
    with tempfile.TemporaryDirectory(prefix="stratus-schemas-") as tmp:
        root = Path(tmp)
        directory = root / "functions" / "hello"
        directory.mkdir(parents=True)
        (directory / "function.yaml").write_text("runtime: python\nhandler: app.handler\n")
        (root / "triggers").mkdir()
        for index, (_, _, text) in enumerate(cases):
            (root / "triggers" / f"t{index:04}.yaml").write_text(text)
        refused = run_validate(root)
    disagreements = []
    for index, (path, value, text) in enumerate(cases):
        host = f"triggers/t{index:04}.yaml" not in refused
        editor = TRIGGERS(yaml.safe_load(text)) == []
        if host != editor:
            disagreements.append(f"{'.'.join(path)}: {value!r}: host {'accepts' if host else 'refuses'}, "
                                 f"editor {'accepts' if editor else 'refuses'}\n{text}")
    assert not disagreements, "\n".join(disagreements)

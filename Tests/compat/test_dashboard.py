"""The dashboard at `/` on the control port, in a real headless Chromium: what a user sees after a few
invocations, a click on one of them, and what the page refuses to do."""

import json
import shutil
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from browser import Browser
from conftest import REPO, _write_function, start_host, stop_host

# Where the screenshot goes (git-ignored); the test prints the path.
OUTPUT = REPO / ".build" / "test-output"

HELLO = textwrap.dedent(
    """\
    def handler(event, context):
        print("hello-line", event.get("n"))
        return {"ok": True}
    """
)

# Prints markup, to check that the page shows function output as text and never runs it.
FLAKY = textwrap.dedent(
    """\
    def handler(event, context):
        print('flaky-line <b id="injected">bold</b><img src=x onerror="window.pwned=1">')
        raise RuntimeError("flaky failed")
    """
)

TRIGGERS = textwrap.dedent(
    """\
    queues:
      jobs:
        consumer: {function: hello, batchSize: 1}
    """
)


def _get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def _logs(host, query: str) -> list:
    status, _, body = _get(f"{host.control_url}/v1/logs?{query}")
    assert status == 200, body
    return json.loads(body)["invocations"]


@pytest.fixture(scope="module")
def dashboard_host(aws_env):
    tmp = Path(tempfile.mkdtemp(prefix="stratus-dashboard-"))
    project, state = tmp / "project", tmp / "state"
    project.mkdir()
    state.mkdir()
    _write_function(project, "hello", "runtime: python\nhandler: app.handler\ntimeout: 5s\n", {"app.py": HELLO})
    _write_function(
        project,
        "flaky",
        "runtime: python\nhandler: app.handler\ntimeout: 5s\n"
        "async: {retries: 1, retryBase: 10ms, retryCap: 10ms}\n"
        "circuitBreaker: {failureRate: 50, minimumCalls: 2, window: 4, cooldown: 1h}\n",
        {"app.py": FLAKY},
    )
    (project / "triggers").mkdir()
    (project / "triggers" / "jobs.yaml").write_text(TRIGGERS)
    host = start_host(project, state)
    try:
        yield host
    finally:
        stop_host(host)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def browser():
    browser = Browser(width=1400, height=1600)
    try:
        yield browser
    finally:
        browser.close()


def test_dashboard_shows_functions_queues_breakers_and_invocations(dashboard_host, browser):
    host = dashboard_host
    for n in range(5):
        _post(f"{host.control_url}/v1/functions/hello/invoke", {"n": n})
    _post(f"{host.control_url}/v1/queues/jobs/messages", {"body": json.dumps({"n": "from-queue"})})
    event_id = _post(f"{host.control_url}/v1/functions/flaky/invoke?async=true", {})["eventId"]
    # Two failing attempts open flaky's breaker (2 calls, 100 % failed).
    deadline = time.monotonic() + 30
    while len(_logs(host, f"event={event_id}")) < 2 or not _logs(host, "function=hello&limit=10&status=ok"):
        assert time.monotonic() < deadline, "the async event was not retried within 30 s"
        time.sleep(0.2)

    browser.navigate(host.control_url + "/")
    browser.wait_for("document.querySelectorAll('.card.function').length === 2", what="two function cards")
    names = browser.evaluate("[...document.querySelectorAll('.card.function b')].map(b => b.textContent)")
    assert sorted(names) == ["flaky", "hello"]

    # hello's invocations are plotted: bars in its invocations plot, a p50/p99 line, its totals.
    hello = "document.querySelector('.card.function[data-function=hello]')"
    browser.wait_for(f"{hello}.querySelectorAll('svg.plot.invocations rect').length > 0", what="invocation bars")
    assert browser.evaluate(f"{hello}.querySelectorAll('svg.plot.duration path').length") == 2
    totals = browser.evaluate(f"{hello}.querySelector('.totals').textContent")
    assert "15 min: 6 invocations" in totals, totals  # 5 direct calls and one from the queue
    assert browser.evaluate(f"{hello}.querySelectorAll('svg.plot').length") == 4
    # Every plot shares the time axis: the duration line ends where the last invocation bar does.
    aligned = browser.evaluate(
        f"""(() => {{
            const card = {hello};
            const bars = [...card.querySelectorAll('svg.plot.invocations rect')];
            const bar = bars[bars.length - 1];
            const step = 360 / 90;
            const barEnd = parseFloat(bar.getAttribute('x')) - 0.5 + step;
            const d = card.querySelector('svg.plot.duration path').getAttribute('d');
            const xs = [...d.matchAll(/[ML]([0-9.]+) /g)].map(m => parseFloat(m[1]));
            return Math.abs(Math.max(...xs) - barEnd) < 0.2;
        }})()"""
    )
    assert aligned, "the p50/p99 line and the invocation bars disagree on where 'now' is"

    # The queue and its depth plot; flaky's breaker is open with its transition.
    assert browser.evaluate("!!document.querySelector('.card.queue[data-queue=jobs] svg.plot.depth')")
    breaker = browser.wait_for(
        "document.querySelector('tr.breaker[data-function=flaky]')?.textContent", what="flaky's breaker row"
    )
    assert "OPEN" in breaker, breaker
    assert "OPEN" in browser.evaluate(
        "document.querySelector('tr.breaker[data-function=flaky] td.transitions').textContent"
    )

    # Recent invocations: hello's rows (queue-triggered among them) and flaky's two attempts.
    rows = browser.wait_for(
        "(() => { const rows = [...document.querySelectorAll('tr.invocation')].map(r => r.textContent);"
        " return rows.filter(t => t.includes('flaky')).length >= 2 && rows; })()",
        what="flaky's attempts in the recent invocations",
    )
    assert any("hello" in row and "queue jobs" in row for row in rows), rows
    assert any("flaky" in row and "async" in row and "error" in row for row in rows), rows

    # A click on flaky's invocation shows its log lines (as text) and the chain of both attempts.
    attempt = _logs(host, f"event={event_id}")[-1]
    browser.evaluate(f"document.querySelector('tr.invocation[data-id=\"{attempt['id']}\"]').click()")
    browser.wait_for("document.querySelectorAll('#detail .attempt').length === 2", what="two attempts in the chain")
    detail = browser.evaluate("document.getElementById('detail').textContent")
    assert event_id in detail and "flaky failed" in detail and "attempt 1" in detail and "attempt 2" in detail
    assert 'flaky-line <b id="injected">bold</b>' in detail
    assert browser.evaluate("document.getElementById('injected') === null && window.pwned === undefined")
    assert browser.evaluate("location.hash") == f"#invocation={attempt['id']}"

    # The list reads records without their output; a click reads the one record whole.
    status, _, body = _get(f"{host.control_url}/v1/logs?id={attempt['id']}&brief=true")
    brief = json.loads(body)["invocations"]
    assert status == 200 and [r["id"] for r in brief] == [attempt["id"]] and brief[0]["output"] == ""
    assert "flaky-line" in _logs(host, f"id={attempt['id']}")[0]["output"]

    # Live: a new invocation appears without reloading the page.
    _post(f"{host.control_url}/v1/functions/hello/invoke", {"n": "live"})
    live = _logs(host, "function=hello&limit=1")[-1]
    browser.wait_for(f"!!document.querySelector('tr.invocation[data-id=\"{live['id']}\"]')", what="the new invocation")

    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = OUTPUT / "dashboard.png"
    data = browser.screenshot(shot)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    print(f"dashboard screenshot: {shot}")
    assert browser.errors() == []


def test_page_loads_offline_and_allows_nothing_foreign(dashboard_host):
    status, headers, body = _get(dashboard_host.control_url + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    # Everything it loads comes from the binary: no other host is named.
    page = body.decode()
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    status, headers, script = _get(dashboard_host.control_url + "/dashboard.js")
    assert status == 200 and "javascript" in headers["Content-Type"]
    assert "https://" not in script.decode() and "http://" not in script.decode().replace("http://www.w3.org", "")
    # A link from another origin may open the page (it holds no data; its CSP forbids framing)...
    status, _, _ = _get(dashboard_host.control_url + "/", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert status == 200
    # ...but another origin's page cannot read the data.
    status, _, body = _get(dashboard_host.control_url + "/v1/dashboard", {"Origin": "http://evil.example"})
    assert status == 403 and json.loads(body)["error"]["code"] == "ForbiddenOrigin"
    status, _, body = _get(dashboard_host.control_url + "/v1/dashboard", {"Sec-Fetch-Site": "cross-site"})
    assert status == 403


def test_dashboard_with_a_token_asks_for_it(aws_env, tmp_path, browser):
    project = tmp_path / "project"
    project.mkdir()
    _write_function(project, "hello", "runtime: python\nhandler: app.handler\n", {"app.py": HELLO})
    host = start_host(project, tmp_path / "state", extra=["--token", "s3cret-token-for-tests"])
    try:
        status, _, _ = _get(host.control_url + "/")
        assert status == 200  # the page itself holds no data
        status, _, _ = _get(host.control_url + "/v1/dashboard")
        assert status == 401
        browser.navigate(host.control_url + "/")
        browser.wait_for("getComputedStyle(document.getElementById('token')).display === 'block'", what="token form")
        browser.evaluate(
            "document.getElementById('token-value').value = 's3cret-token-for-tests';"
            "document.getElementById('token').requestSubmit()"
        )
        browser.wait_for("document.querySelectorAll('.card.function').length === 1", what="hello's card after the token")
        assert browser.evaluate("document.getElementById('token').style.display") == "none"
    finally:
        stop_host(host)

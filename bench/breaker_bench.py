#!/usr/bin/env python3
"""What the circuit breaker saves during an outage (stdlib only, 127.0.0.1 only, bounded time).

Two identical queue-consuming Python functions, one with a breaker and one with `circuitBreaker: off`,
each fed 200 messages while their "database" is down (a flag file) for OUTAGE seconds. Printed:
wasted attempts (failed invocations) during the outage with and without the breaker, and the time from
the fix to each queue being drained.
"""
import argparse, json, os, shutil, tempfile, time

from benchlib import call, start_host

HANDLER = """import os
def handler(event, context):
    if os.path.exists(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "..", "..", "broken")):
        raise ConnectionError("database down")
"""


def depth(port, queue):
    q = next(q for q in call(port, "GET", "/v1/queues")["queues"] if q["name"] == queue)
    return sum(q["counts"].values())


def failures(port, function):
    count, after = 0, 0
    while True:  # pages of 1000 (the API's limit), oldest first after a sequence number
        records = call(port, "GET", f"/v1/logs?function={function}&limit=1000&after={after}")["invocations"]
        count += sum(1 for r in records if r["status"] in ("error", "timeout", "crashed"))
        if len(records) < 1000:
            return count
        after = records[-1]["sequence"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stratus", default=".build/release/stratus")
    parser.add_argument("--outage", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    project = tempfile.mkdtemp(prefix="stratus-breaker-")
    breakers = {"with-breaker": "circuitBreaker: {failureRate: 50, minimumCalls: 5, window: 10, cooldown: 2s, halfOpenCalls: 1}",
                "without-breaker": "circuitBreaker: off"}
    queues = ""
    for name, breaker in breakers.items():
        os.makedirs(f"{project}/functions/{name}")
        open(f"{project}/functions/{name}/function.yaml", "w").write(f"runtime: python\nhandler: app.handler\ntimeout: 1s\n{breaker}\n")
        open(f"{project}/functions/{name}/app.py", "w").write(HANDLER)
        queues += f"  q-{name}:\n    visibilityTimeout: 1s\n    maxReceiveCount: 1000\n    consumer: {{function: {name}, batchSize: 10, maxConcurrency: 2}}\n"
    os.makedirs(f"{project}/triggers")
    open(f"{project}/triggers/q.yaml", "w").write("queues:\n" + queues)
    open(f"{project}/broken", "w").write("down")
    host = start_host(args.stratus, project)
    port = host.control_port
    out = {}
    try:
        for name in breakers:
            for n in range(200):
                call(port, "POST", f"/v1/queues/q-{name}/messages", {"body": f"job {n}"})
        time.sleep(args.outage)  # the outage itself
        for name in breakers:
            out[f"{name}_wasted_attempts"] = failures(port, name)
        os.remove(f"{project}/broken")
        fixed = time.perf_counter()
        pending = set(breakers)
        deadline = fixed + 60
        while pending and time.perf_counter() < deadline:
            for name in list(pending):
                if depth(port, f"q-{name}") == 0:
                    out[f"{name}_drain_after_fix_s"] = time.perf_counter() - fixed
                    pending.discard(name)
            time.sleep(0.02)
    finally:
        host.stop(timeout=30)
        shutil.rmtree(project, ignore_errors=True)
    if args.json:
        return print(json.dumps(out))
    print(f"Stratus breaker bench: 200 queued jobs per function, {args.outage:.0f} s outage, batch 10, 2 pollers, 1 s visibility")
    for name in breakers:
        drain = out.get(f"{name}_drain_after_fix_s")
        print(f"  {name:16} wasted attempts during the outage: {out[f'{name}_wasted_attempts']:4}   "
              f"fix -> queue drained: {'%.2f s' % drain if drain is not None else 'not within 60 s'}")


if __name__ == "__main__":
    main()

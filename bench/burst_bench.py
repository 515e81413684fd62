#!/usr/bin/env python3
"""Burst and ceiling figures for worker pools (stdlib only, 127.0.0.1 only, bounded time).

1. Burst: 32 concurrent calls of a 100 ms Python function on a cold pool (min 0, max 32): time until
   all 32 are answered, measured from the burst's start, and the cold starts it took. Target: <= 0.5 s.
2. Ceiling: the same function with max 8 under 32 concurrent callers for 5 s: requests/s (the ceiling
   allows at most 8 / 0.1 s = 80/s) and how many calls were throttled.
"""
import argparse, http.client, json, os, shutil, tempfile, threading, time

from benchlib import call, start_host

HANDLER = "import time\ndef handler(event, context):\n    time.sleep(0.1)\n    return {'ok': True}\n"


def invoke(port, name, results):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.perf_counter()
    conn.request("POST", f"/2015-03-31/functions/{name}/invocations", body=b"{}")
    response = conn.getresponse()
    response.read()
    results.append((time.perf_counter() - start, response.status))
    conn.close()


def status(port, name):
    return next(f for f in call(port, "GET", "/v1/status")["functions"] if f["name"] == name)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stratus", default=".build/release/stratus")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    project = tempfile.mkdtemp(prefix="stratus-burst-")
    for name, scaling in [("burst", "{min: 0, max: 32, prewarm: false}"), ("ceiling", "{min: 0, max: 8, queue: 64, maxWait: 10s}")]:
        os.makedirs(f"{project}/functions/{name}")
        open(f"{project}/functions/{name}/function.yaml", "w").write(f"runtime: python\nhandler: app.handler\nscaling: {scaling}\n")
        open(f"{project}/functions/{name}/app.py", "w").write(HANDLER)
    host = start_host(args.stratus, project)
    port = host.control_port
    out = {}
    try:
        results = []
        threads = [threading.Thread(target=invoke, args=(port, "burst", results)) for _ in range(32)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out["burst_all_answered_s"] = time.perf_counter() - start
        out["burst_ok"] = sum(1 for _, s in results if s == 200)
        out["burst_cold_starts"] = status(port, "burst")["coldStarts"]

        stop_at = time.perf_counter() + 5
        counts = {"ok": 0, "throttled": 0}
        lock = threading.Lock()

        def caller():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while time.perf_counter() < stop_at:
                conn.request("POST", "/2015-03-31/functions/ceiling/invocations", body=b"{}")
                r = conn.getresponse()
                r.read()
                with lock:
                    counts["ok" if r.status == 200 else "throttled"] += 1

        callers = [threading.Thread(target=caller) for _ in range(32)]
        begin = time.perf_counter()
        for t in callers:
            t.start()
        for t in callers:
            t.join()
        elapsed = time.perf_counter() - begin
        out["ceiling_requests_per_s"] = counts["ok"] / elapsed
        out["ceiling_throttled"] = counts["throttled"]
        out["ceiling_workers"] = status(port, "ceiling")["workers"]
    finally:
        host.stop(timeout=30)
        shutil.rmtree(project, ignore_errors=True)
    if args.json:
        print(json.dumps(out))
        return
    print("Stratus pool bench (100 ms Python function)")
    print(f"  burst 0 -> 32 concurrent: all answered after {out['burst_all_answered_s']*1000:.0f} ms "
          f"({out['burst_ok']}/32 ok, {out['burst_cold_starts']} cold starts)   target <= 350 ms: "
          f"{'MET' if out['burst_all_answered_s'] <= 0.35 else 'MISSED'}")
    print(f"  ceiling max 8, 32 callers, 5 s: {out['ceiling_requests_per_s']:.1f} req/s "
          f"(ideal 80/s), {out['ceiling_throttled']} throttled, {out['ceiling_workers']} workers")


if __name__ == "__main__":
    main()

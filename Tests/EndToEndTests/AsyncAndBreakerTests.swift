import Foundation
import StratusCore
import StratusTesting
import Testing

/// Event invokes with retries and destinations, and the circuit breaker, through the built binary.
@Suite(.serialized, .timeLimit(.minutes(2))) struct AsyncAndBreakerTests {
    /// Fails its first two calls, then succeeds; the count lives in a file.
    static let flaky = """
        import os
        def handler(event, context):
            path = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "count")
            n = int(open(path).read()) if os.path.exists(path) else 0
            open(path, "w").write(str(n + 1))
            if n < 2:
                raise RuntimeError(f"failure {n + 1}")
            return {"succeeded_on": n + 1}
        """

    static let doomed = "def handler(event, context):\n    raise ValueError('always')\n"

    /// Fails while the flag file `broken` exists in the project.
    static let fragile = """
        import os
        def handler(event, context):
            if os.path.exists(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "..", "..", "broken")):
                raise ConnectionError("database down")
            return {"ok": True}
        """

    func records(_ host: ServeProcess, _ arguments: [String]) throws -> [[String: Any]] {
        try host.cli(["logs", "--json", "--limit", "100"] + arguments).stdout.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func queue(_ host: ServeProcess, _ name: String) throws -> [String: Int] {
        let object =
            try JSONSerialization.jsonObject(with: Data(try host.cli(["queues", "--json"]).stdout.utf8))
            as? [String: Any]
        let entry = (object?["queues"] as? [[String: Any]])?.first { $0["name"] as? String == name }
        return entry?["counts"] as? [String: Int] ?? [:]
    }

    @Test func retriesLinkAttemptsAndExhaustedEventsReachTheDestination() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let fast = "async: {retries: 2, retryBase: 100ms, retryCap: 200ms}\ncircuitBreaker: off\n"
        try project.addPython("flaky", code: Self.flaky, manifest: fast)
        try project.addPython(
            "doomed", code: Self.doomed,
            manifest:
                "async: {retries: 1, retryBase: 100ms, retryCap: 200ms, onFailure: {queue: failures}}\ncircuitBreaker: off\n"
        )
        try project.write("triggers/q.yaml", "queues:\n  failures: {}\n")
        let host = try await ServeProcess(project: project.path)

        let accepted = try host.cli(["invoke", "flaky", "--async", "--data", #"{"n":1}"#])
        #expect(accepted.status == 0)
        let eventId = accepted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(eventId.count == 36)
        #expect(await waitUntil(timeout: .seconds(20)) { (try? self.records(host, ["--event", eventId]).count) == 3 })
        let chain = try records(host, ["--event", eventId])
        #expect(chain.map { $0["status"] as? String } == ["error", "error", "ok"])
        #expect(chain.map { $0["attempt"] as? Int } == [1, 2, 3])
        #expect(chain.allSatisfy { $0["trigger"] as? String == "async" && $0["eventId"] as? String == eventId })

        // Lambda's Invoke API: Event answers 202 once committed.
        let accepted202 = try await HTTP.request(
            "POST", "\(host.controlURL)/2015-03-31/functions/doomed/invocations",
            headers: ["X-Amz-Invocation-Type": "Event"],
            body: Data(#"{"order":7}"#.utf8))
        #expect(accepted202.status == 202)
        #expect(await waitUntil(timeout: .seconds(20)) { (try? self.queue(host, "failures"))?["visible"] == 1 })
        let received = try await receive(host, "failures")
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data((received["body"] as? String ?? "").utf8)) as? [String: Any])
        let context = try #require(record["requestContext"] as? [String: Any])
        #expect(context["condition"] as? String == "RetriesExhausted")
        #expect(context["approximateInvokeCount"] as? Int == 2, "retries + 1 attempts")
        #expect(
            context["functionArn"] as? String == "arn:aws:lambda:\(AWS.region):000000000000:function:doomed:$LATEST")
        #expect(record["requestPayload"] as? [String: Int] == ["order": 7])
        #expect((record["responseContext"] as? [String: Any])?["functionError"] as? String == "Unhandled")
        #expect((record["responsePayload"] as? [String: Any])?["errorType"] as? String == "ValueError")
        #expect(try records(host, ["doomed"]).count == 2)

        // /metrics counts every attempt's outcome: flaky retried twice then delivered, doomed retried once then
        // went to its destination.
        let metrics = String(decoding: try await HTTP.get(host.controlURL + "/metrics").body, as: UTF8.self)
        #expect(metrics.contains(#"stratus_deliveries_total{target="function",outcome="retried"} 3"#), "\(metrics)")
        #expect(metrics.contains(#"stratus_deliveries_total{target="function",outcome="delivered"} 1"#))
        #expect(metrics.contains(#"stratus_deliveries_total{target="function",outcome="dead_lettered"} 1"#))
        #expect(metrics.contains(#"stratus_invocations_total{function="doomed",status="error"} 2"#))
        #expect(await host.stop() == 0)
    }

    @Test func openBreakerFailsFastPausesTheQueueAndRecovers() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "fragile", code: Self.fragile,
            manifest: """
                timeout: 1s
                circuitBreaker: {failureRate: 50, minimumCalls: 3, window: 5, cooldown: 8s, halfOpenCalls: 1}
                """)
        try project.write(
            "triggers/q.yaml",
            """
            queues:
              jobs:
                visibilityTimeout: 1s
                maxReceiveCount: 2
                deadLetterQueue: jobs-dlq
                consumer: {function: fragile, batchSize: 10}
              jobs-dlq: {}
            """)
        try project.write("broken", "yes")
        let host = try await ServeProcess(project: project.path)
        for _ in 0..<3 { #expect(try host.cli(["invoke", "fragile"]).status == 1) }

        // Open: sync calls are answered at once, without running the function.
        let http = try await HTTP.request(
            "POST", "\(host.controlURL)/2015-03-31/functions/fragile/invocations", body: Data("{}".utf8))
        #expect(http.status == 429)
        #expect(http.header("x-amzn-ErrorType") == "TooManyRequestsException")
        #expect(Int(http.header("Retry-After") ?? "") != nil)
        #expect(try records(host, ["fragile", "--status", "rejected"]).count == 1)
        let status = try host.cli(["status"]).stdout
        #expect(status.contains("OPEN"))
        let metrics = String(decoding: try await HTTP.get(host.controlURL + "/metrics").body, as: UTF8.self)
        #expect(metrics.contains(#"stratus_breaker_state{function="fragile"} 2.0"#))
        #expect(metrics.contains(#"stratus_rejections_total{function="fragile"} 1"#))
        #expect(metrics.contains(#"stratus_host_events_total{function="fragile",kind="BREAKER_OPEN"} 1"#))

        // Messages sent while it is open stay put: not received, so no receive count is spent.
        for n in 0..<5 { #expect(try host.cli(["send", "jobs", "--data", "job \(n)"]).status == 0) }
        try await Task.sleep(for: .milliseconds(1500))  // the outage, not a wait for a condition
        #expect(try queue(host, "jobs") == ["visible": 5, "inFlight": 0, "delayed": 0])

        // Fixed: after the cooldown the half-open probe succeeds, the breaker closes, the queue drains.
        try FileManager.default.removeItem(atPath: project.path + "/broken")
        #expect(
            await waitUntil(timeout: .seconds(30)) {
                (try? self.queue(host, "jobs")) == ["visible": 0, "inFlight": 0, "delayed": 0]
            })
        #expect(try queue(host, "jobs-dlq")["visible"] == 0, "nothing dead-lettered")
        let events = try host.cli(["logs", "--events", "--limit", "100"]).stdout
        #expect(events.contains("BREAKER_OPEN fragile: 3 of 3 calls failed"))
        #expect(events.contains("BREAKER_HALF_OPEN fragile"))
        #expect(events.contains("BREAKER_CLOSED fragile"))
        #expect(try host.cli(["invoke", "fragile"]).status == 0)
        #expect(try host.cli(["breaker", "reset", "fragile"]).status == 0)
        #expect(await host.stop() == 0)
    }

    func receive(_ host: ServeProcess, _ queue: String) async throws -> [String: Any] {
        let answer = try await HTTP.post("\(host.controlURL)/v1/queues/\(queue)/receive", json: ["max": 1])
        return (answer.json?["messages"] as? [[String: Any]])?.first ?? [:]
    }
}

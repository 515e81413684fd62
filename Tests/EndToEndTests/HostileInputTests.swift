import Foundation
import StratusTesting
import Testing

/// Bad, absurd and hostile requests, each answered with a 4xx in its protocol's own error shape; the host
/// stays up and its data intact afterwards.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileInputTests {
    static let echo = "def handler(event, context):\n    return event\n"

    /// One bad request and what it must get.
    struct Case: Sendable, CustomStringConvertible {
        var method = "POST"
        var path: String
        var headers: [String: String] = ["Content-Type": "application/json"]
        var body: String? = nil
        var status: Int
        /// The `/v1` error code (`{"error":{"code":…}}`), or Lambda's `x-amzn-ErrorType`.
        var code: String

        var description: String { "\(method) \(path) \(body?.prefix(80) ?? "")" }
    }

    static let cases: [Case] = [
        // Durations that overflow, go negative or exceed AWS's limits, in queries and bodies.
        Case(method: "GET", path: "/v1/logs?since=999999999999999d", status: 400, code: "InvalidParameter"),
        Case(method: "GET", path: "/v1/events?since=999999999999999d", status: 400, code: "InvalidParameter"),
        Case(method: "GET", path: "/v1/logs?since=99999999999999999999999999s", status: 400, code: "InvalidParameter"),
        Case(method: "GET", path: "/v1/logs?since=-5s", status: 400, code: "InvalidParameter"),
        Case(method: "GET", path: "/v1/logs?limit=0", status: 400, code: "InvalidParameter"),
        Case(method: "GET", path: "/v1/logs?limit=1001", status: 400, code: "InvalidParameter"),
        Case(method: "GET", path: "/v1/logs?limit=99999999999999999999", status: 400, code: "InvalidParameter"),
        Case(method: "GET", path: "/v1/logs?after=-1", status: 400, code: "InvalidParameter"),
        Case(method: "GET", path: "/v1/logs?wait=21s", status: 400, code: "InvalidParameter"),
        Case(method: "GET", path: "/v1/logs?status=exploded", status: 400, code: "InvalidParameter"),
        Case(
            path: "/v1/queues", body: #"{"name":"q1","visibilityTimeout":"999999999999999d"}"#, status: 400,
            code: "InvalidParameter"),
        Case(
            path: "/v1/queues", body: #"{"name":"q1","visibilityTimeout":1e300}"#, status: 400, code: "InvalidParameter"
        ),
        Case(path: "/v1/queues", body: #"{"name":"q1","visibilityTimeout":-1}"#, status: 400, code: "InvalidParameter"),
        Case(
            path: "/v1/queues", body: #"{"name":"q1","visibilityTimeout":"13h"}"#, status: 400, code: "InvalidParameter"
        ),
        Case(path: "/v1/queues", body: #"{"name":"q1","retention":"0s"}"#, status: 400, code: "InvalidParameter"),
        Case(path: "/v1/queues", body: #"{"name":"q1","retention":"15d"}"#, status: 400, code: "InvalidParameter"),
        Case(path: "/v1/queues", body: #"{"name":"q1","delay":"16m"}"#, status: 400, code: "InvalidParameter"),
        Case(path: "/v1/queues", body: #"{"name":"q1","maxReceiveCount":0}"#, status: 400, code: "InvalidParameter"),
        Case(path: "/v1/queues", body: #"{"name":"q1","maxReceiveCount":true}"#, status: 400, code: "InvalidParameter"),
        Case(path: "/v1/queues", body: #"{"name":"q1","maxReceiveCount":1.5}"#, status: 400, code: "InvalidParameter"),
        Case(
            path: "/v1/queues", body: #"{"name":"q1","deadLetterQueue":"q1"}"#, status: 404, code: "QueueDoesNotExist"),
        Case(path: "/v1/queues", body: #"{"name":"q1","colour":"blue"}"#, status: 400, code: "InvalidParameter"),
        Case(path: "/v1/queues", body: #"{"name":"no spaces!"}"#, status: 400, code: "InvalidParameterValue"),
        Case(path: "/v1/queues", body: #"{"name":5}"#, status: 400, code: "InvalidParameter"),
        Case(
            path: "/v1/queues/jobs/messages", body: #"{"body":"x","delay":"999999999999d"}"#, status: 400,
            code: "InvalidParameter"),
        Case(
            path: "/v1/queues/jobs/messages", body: #"{"body":"x","delay":-1}"#, status: 400, code: "InvalidParameter"),
        Case(
            path: "/v1/queues/jobs/messages",
            body:
                #"{"body":"x","attributes":{"a1":"1","a2":"2","a3":"3","a4":"4","a5":"5","a6":"6","a7":"7","a8":"8","a9":"9","a10":"10","a11":"11"}}"#,
            status: 400, code: "InvalidParameter"),
        Case(
            path: "/v1/queues/jobs/messages",
            body: #"{"body":"x","attributes":{"n":{"dataType":"Number","stringValue":"abc"}}}"#, status: 400,
            code: "InvalidParameter"),
        Case(
            path: "/v1/queues/jobs/messages", body: #"{"body":"x","attributes":{"AWS.x":"y"}}"#, status: 400,
            code: "InvalidParameter"),
        Case(path: "/v1/queues/jobs/messages", body: #"{"body":42}"#, status: 400, code: "InvalidParameter"),
        Case(path: "/v1/queues/nope/messages", body: #"{"body":"x"}"#, status: 404, code: "QueueDoesNotExist"),
        Case(path: "/v1/queues/jobs/receive", body: #"{"wait":"21s"}"#, status: 400, code: "InvalidParameter"),
        Case(
            path: "/v1/queues/jobs/receive", body: #"{"wait":"99999999999999999999s"}"#, status: 400,
            code: "InvalidParameter"),
        Case(path: "/v1/queues/jobs/receive", body: #"{"max":11}"#, status: 400, code: "InvalidParameter"),
        Case(path: "/v1/queues/jobs/receive", body: #"{"max":-3}"#, status: 400, code: "InvalidParameter"),
        Case(
            path: "/v1/queues/jobs/receive", body: #"{"visibilityTimeout":"13h"}"#, status: 400,
            code: "InvalidParameter"),
        Case(
            path: "/v1/queues/jobs/visibility", body: #"{"receiptHandle":"x.1","timeout":"999999999d"}"#, status: 400,
            code: "InvalidParameter"),
        Case(path: "/v1/queues/jobs/delete", body: #"{"receiptHandles":"x"}"#, status: 400, code: "InvalidParameter"),
        Case(
            path: "/v1/topics/news/publish",
            body: #"{"message":"x","attributes":{"n":{"dataType":"Blob","stringValue":"1"}}}"#, status: 400,
            code: "InvalidParameter"),
        Case(
            path: "/v1/topics/news/subscriptions", body: #"{"http":"file:///etc/passwd"}"#, status: 400,
            code: "InvalidParameter"),
        Case(
            path: "/v1/topics/news/subscriptions", body: #"{"queue":"jobs","filter":{"a":[{"numeric":[">","x"]}]}}"#,
            status: 400, code: "InvalidParameter"),
        Case(path: "/v1/topics/nope/publish", body: #"{"message":"x"}"#, status: 404, code: "TopicNotFound"),
        // Malformed JSON and wrong content types.
        Case(path: "/v1/queues", body: #"{"name":"#, status: 400, code: "InvalidParameter"),
        Case(path: "/v1/queues", body: "[1,2,3]", status: 400, code: "InvalidParameter"),
        Case(
            path: "/v1/queues", headers: ["Content-Type": "text/plain"], body: #"{"name":"q2"}"#, status: 415,
            code: "UnsupportedMediaType"),
        Case(
            path: "/v1/functions/echo/invoke", headers: ["Content-Type": "text/plain"], body: "{}", status: 415,
            code: "UnsupportedMediaType"),
        Case(path: "/v1/queues/jobs/purge", headers: [:], body: nil, status: 415, code: "UnsupportedMediaType"),
        Case(
            path: "//v1/topics", headers: ["Content-Type": "text/plain"], body: #"{"name":"evil"}"#, status: 415,
            code: "UnsupportedMediaType"),
        Case(
            path: "/v1/topics/news/subscriptions", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: "http=x", status: 415, code: "UnsupportedMediaType"),
        // A web page in the user's browser, and DNS rebinding.
        Case(
            path: "/v1/functions/echo/invoke",
            headers: ["Content-Type": "application/json", "Origin": "http://evil.example"], body: "{}", status: 403,
            code: "ForbiddenOrigin"),
        Case(
            path: "/v1/queues/jobs/purge", headers: ["Content-Type": "application/json", "Origin": "null"], body: "{}",
            status: 403, code: "ForbiddenOrigin"),
        Case(
            method: "GET", path: "/v1/logs", headers: ["Sec-Fetch-Site": "cross-site"], status: 403,
            code: "ForbiddenOrigin"),
        Case(
            method: "GET", path: "/v1/logs", headers: ["Host": "rebind.example:8081"], status: 403,
            code: "ForbiddenHost"),
        Case(
            path: "/2015-03-31/functions/echo/invocations", headers: ["Origin": "http://evil.example"], body: "{}",
            status: 403, code: "AccessDeniedException"),
        Case(
            method: "GET", path: "/metrics", headers: ["Host": "attacker.example"], status: 403, code: "ForbiddenHost"),
        // Oversized bodies.
        Case(
            path: "/v1/queues/jobs/messages", body: #"{"body":""# + String(repeating: "x", count: 3 << 20) + #""}"#,
            status: 413, code: "RequestTooLarge"),
        Case(
            path: "/v1/functions/echo/invoke", body: #"{"a":""# + String(repeating: "x", count: 7 << 20) + #""}"#,
            status: 413, code: "RequestTooLarge"),
        Case(
            path: "/v1/functions/echo/invoke?async=true",
            body: #"{"a":""# + String(repeating: "x", count: 2 << 20) + #""}"#, status: 413, code: "RequestTooLarge"),
        Case(
            path: "/2015-03-31/functions/echo/invocations", headers: [:],
            body: #"{"a":""# + String(repeating: "x", count: 7 << 20) + #""}"#, status: 413,
            code: "RequestTooLargeException"),
        // Unknown functions and queues.
        Case(path: "/v1/functions/nope/invoke", body: "{}", status: 404, code: "FunctionNotFound"),
        Case(
            path: "/2015-03-31/functions/nope/invocations", headers: [:], body: "{}", status: 404,
            code: "ResourceNotFoundException"),
    ]

    @Test func badRequestsGetProtocolErrorsAndChangeNothing() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("echo", code: Self.echo)
        try project.write(
            "triggers/t.yaml",
            """
            http:
              - route: ANY /echo
                function: echo
            queues:
              jobs: {}
            topics:
              news:
                subscriptions:
                  - queue: jobs
            """)
        let host = try await ServeProcess(project: project.path)
        let control = host.controlURL
        #expect(try host.cli(["send", "jobs", "--data", "keep me"]).status == 0)

        for bad in Self.cases {
            let answer = try await HTTP.request(
                bad.method, control + bad.path, headers: bad.headers, body: bad.body.map { Data($0.utf8) })
            #expect(answer.status == bad.status, "\(bad): \(answer.status) \(answer.text.prefix(200))")
            if bad.path.hasPrefix("/2015-03-31/") {
                #expect(answer.header("x-amzn-ErrorType") == bad.code, "\(bad)")
            } else {
                let error = answer.json?["error"] as? [String: Any]
                #expect(error?["code"] as? String == bad.code, "\(bad): \(answer.text.prefix(200))")
                #expect((error?["message"] as? String)?.isEmpty == false, "\(bad): the error says what is wrong")
            }
        }

        // The gateway: a body over API Gateway's limit, and its own error shape.
        let big = try await HTTP.request("POST", host.gatewayURL + "/echo", body: Data(count: 7 << 20))
        #expect(big.status == 413)
        #expect(big.json?["message"] as? String == "Request Entity Too Large")

        // Still up, nothing changed: the message is there, the queue settings and subscription too.
        #expect(try await HTTP.get(control + "/v1/health").status == 200)
        let received = try await HTTP.post(control + "/v1/queues/jobs/receive", json: ["max": 10])
        let bodies = (received.json?["messages"] as? [[String: Any]])?.compactMap { $0["body"] as? String }
        #expect(bodies == ["keep me"])
        #expect(try host.cli(["invoke", "echo", "--data", #"{"still":"here"}"#]).stdout.contains("here"))
        let queues = try host.cli(["queues", "--json"]).stdout
        #expect(!queues.contains("\"q1\"") && !queues.contains("\"q2\""), "no bad request created a queue")
        #expect(await host.stop() == 0)
    }

    @Test func recreatingAQueueNeverReplacesIt() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("echo", code: Self.echo, manifest: "timeout: 2s\n")
        try project.write(
            "triggers/t.yaml",
            """
            queues:
              orders:
                visibilityTimeout: 30s
                maxReceiveCount: 3
                deadLetterQueue: orders-dlq
                consumer: {function: echo}
              orders-dlq: {}
              parked: {}
            """)
        let host = try await ServeProcess(project: project.path)
        let control = host.controlURL
        #expect(try host.cli(["send", "parked", "--data", "one"]).status == 0)

        // The same settings: a no-op (SQS answers with the queue as it is).
        let same = try await HTTP.post(
            control + "/v1/queues",
            json: ["name": "orders", "visibilityTimeout": "30s", "maxReceiveCount": 3, "deadLetterQueue": "orders-dlq"])
        #expect(same.status == 200)
        // Other settings: refused, nothing changed.
        for other: [String: Any] in [
            ["name": "orders"], ["name": "parked", "retention": "60s"], ["name": "orders", "visibilityTimeout": "40s"],
        ] {
            let answer = try await HTTP.post(control + "/v1/queues", json: other)
            #expect(answer.status == 409, "\(other)")
            #expect((answer.json?["error"] as? [String: Any])?["code"] as? String == "QueueAlreadyExists")
        }
        let orders = try host.queues()["orders"]
        #expect(orders?["deadLetterQueue"] as? String == "orders-dlq")
        #expect(orders?["consumer"] as? String == "echo")
        #expect(orders?["visibilityTimeoutMs"] as? Int == 30_000)

        // Changes go through an update, which keeps the consumer, the dead-letter queue and the messages.
        let update = try await HTTP.request(
            "PATCH", control + "/v1/queues/parked", json: ["retention": "1h", "delay": "1s"])
        #expect(update.status == 200, "\(update.text)")
        #expect(update.json?["retentionMs"] as? Int == 3_600_000)
        let tooShort = try await HTTP.request("PATCH", control + "/v1/queues/orders", json: ["visibilityTimeout": "1s"])
        #expect(tooShort.status == 400, "shorter than the consumer's timeout: messages would run twice")
        let changed = try await HTTP.request("PATCH", control + "/v1/queues/orders", json: ["visibilityTimeout": "45s"])
        #expect(changed.status == 200)
        #expect(changed.json?["consumer"] as? String == "echo")
        #expect(changed.json?["deadLetterQueue"] as? String == "orders-dlq")
        let received = try await HTTP.post(control + "/v1/queues/parked/receive", json: ["max": 10])
        #expect((received.json?["messages"] as? [[String: Any]])?.first?["body"] as? String == "one")
        #expect(try await HTTP.request("PATCH", control + "/v1/queues/nope", json: ["delay": "1s"]).status == 404)

        // Sixteen clients creating the same queue with different settings at once: exactly one wins.
        let statuses = await withTaskGroup(of: Int.self) { group in
            for n in 0..<16 {
                group.addTask {
                    (try? await HTTP.post(
                        control + "/v1/queues", json: ["name": "contended", "visibilityTimeout": "\(n + 1)s"]
                    ).status) ?? 0
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 201 }.count == 1, "\(statuses)")
        #expect(statuses.filter { $0 == 409 }.count == 15, "\(statuses)")
        #expect(await host.stop() == 0)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StratusCore
import StratusServer
import Testing

/// `/v1` at the router: the typed contracts the CLI reads, the one error shape, and the exposure rules.
@Suite(.timeLimit(.minutes(2))) struct ControlAPITests {
    @Test func queuesAreCreatedOnceUpdatedAndRefusedWhenTheyDiffer() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                let created = try await client.execute(
                    uri: "/v1/queues", method: .post, headers: .json,
                    body: .json(#"{"name":"jobs","visibilityTimeout":"45s"}"#))
                #expect(created.status == .created)
                #expect(try created.decoded(V1.QueueName.self).queue == "jobs")

                let again = try await client.execute(
                    uri: "/v1/queues", method: .post, headers: .json,
                    body: .json(#"{"name":"jobs","visibilityTimeout":"45s"}"#))
                #expect(again.status == .ok, "re-creating with the same settings is idempotent, as in SQS")

                let differs = try await client.execute(
                    uri: "/v1/queues", method: .post, headers: .json,
                    body: .json(#"{"name":"jobs","visibilityTimeout":"10s"}"#))
                #expect(differs.status == .conflict)
                #expect(try differs.decoded(V1.ErrorBody.self).error.code == "QueueAlreadyExists")

                let updated = try await client.execute(
                    uri: "/v1/queues/jobs", method: .patch, headers: .json, body: .json(#"{"visibilityTimeout":"10s"}"#)
                )
                #expect(updated.status == .ok)
                #expect(try updated.decoded(V1.QueueSettingsAnswer.self).visibilityTimeoutMs == 10_000)

                let list = try await client.execute(uri: "/v1/queues", method: .get)
                let names = try list.decoded(V1.QueueList.self).queues.map(\.name)
                #expect(names.contains("jobs") && names.contains("orders-copy"))
            }
        }
    }

    @Test func messagesGoRoundTripThroughAQueue() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                let sent = try await client.execute(
                    uri: "/v1/queues/orders-copy/messages", method: .post, headers: .json,
                    body: .json(#"{"body":"hello","attributes":{"kind":"created","n":3}}"#))
                #expect(sent.status == .created)
                let id = try sent.decoded(V1.MessageId.self).messageId

                let received = try await client.execute(
                    uri: "/v1/queues/orders-copy/receive", method: .post, headers: .json, body: .json(#"{"max":10}"#))
                let messages = try received.decoded(V1.Messages.self).messages
                #expect(messages.map(\.id) == [id])
                #expect(messages.first?.body == "hello")
                #expect(messages.first?.attributes["n"] == MessageAttribute(dataType: "Number", stringValue: "3"))

                let handle = try #require(messages.first?.receiptHandle)
                let deleted = try await client.execute(
                    uri: "/v1/queues/orders-copy/delete", method: .post, headers: .json,
                    body: .json(#"{"receiptHandles":["\#(handle)"]}"#))
                #expect(deleted.status == .ok)
                #expect(deleted.json["deleted"] as? Int == 1)
            }
        }
    }

    @Test func aPublishIsFilteredIntoTheSubscribedQueue() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                for kind in ["created", "cancelled"] {
                    let published = try await client.execute(
                        uri: "/v1/topics/orders/publish", method: .post, headers: .json,
                        body: .json(#"{"message":"order","attributes":{"kind":"\#(kind)"}}"#))
                    #expect(published.status == .created)
                    #expect(try !published.decoded(V1.MessageId.self).messageId.isEmpty)
                }
                let received = try await client.execute(
                    uri: "/v1/queues/orders-copy/receive", method: .post, headers: .json, body: .json(#"{"max":10}"#))
                let messages = try received.decoded(V1.Messages.self).messages
                #expect(messages.count == 1, "only the 'created' publish passes the filter policy")
                #expect(messages.first?.body.contains(#""Message":"order""#) == true, "delivered in the SNS envelope")
            }
        }
    }

    @Test func aFunctionIsInvokedAndItsRecordLogged() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                let invoked = try await client.execute(
                    uri: "/v1/functions/echo/invoke", method: .post, headers: .json, body: .json(#"{"n":1}"#))
                #expect(invoked.status == .ok)
                let answer = try invoked.decoded(V1.InvokeAnswer.self)
                #expect(answer.status == .ok)
                guard case .object(let result) = answer.result else {
                    Issue.record("result is not an object: \(answer.result)")
                    return
                }
                #expect(result["event"] == .object(["n": .number(1)]))
                #expect(answer.logs.contains("echo \(answer.invocationId)"))

                let logs = try await client.execute(uri: "/v1/logs?function=echo", method: .get)
                let records = try logs.decoded(V1.Invocations.self).invocations
                #expect(records.map(\.id).contains(answer.invocationId))

                let accepted = try await client.execute(
                    uri: "/v1/functions/echo/invoke?async=true", method: .post, headers: .json, body: .json("{}"))
                #expect(accepted.status == .accepted)
                #expect(try !accepted.decoded(V1.AsyncAccepted.self).eventId.isEmpty)
            }
        }
    }

    @Test func metricsCountWhatHappenedInPrometheusFormat() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                for _ in 0..<3 {
                    let ok = try await client.execute(
                        uri: "/v1/functions/echo/invoke", method: .post, headers: .json, body: .json("{}"))
                    #expect(ok.status == .ok)
                }
                let failed = try await client.execute(
                    uri: "/v1/functions/raises/invoke", method: .post, headers: .json, body: .json("{}"))
                #expect(failed.status == .ok)
                let published = try await client.execute(
                    uri: "/v1/queues/orders-copy/messages", method: .post, headers: .json, body: .json(#"{"body":"x"}"#)
                )
                #expect(published.status == .created)

                let scrape = try await client.execute(uri: "/metrics", method: .get)
                #expect(scrape.status == .ok)
                #expect(scrape.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: scrape.body)
                let lines = text.split(separator: "\n").map(String.init)
                #expect(lines.contains(#"stratus_invocations_total{function="echo",status="ok"} 3"#))
                #expect(lines.contains(#"stratus_invocations_total{function="raises",status="error"} 1"#))
                func value(_ series: String) -> Double? {
                    lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
                }
                // The first call started a worker; a later one may have too (while the pre-warmed one started).
                let coldStarts = value(#"stratus_cold_starts_total{function="echo"}"#)
                #expect((1...3).contains(coldStarts ?? 0))
                #expect(value(#"stratus_init_duration_seconds_count{function="echo"}"#) == coldStarts)
                #expect(lines.contains(#"stratus_invocation_duration_seconds_count{function="echo"} 3"#))
                // Lambda-like buckets from 1 ms to 15 minutes.
                #expect(
                    lines.contains {
                        $0.hasPrefix(#"stratus_invocation_duration_seconds_bucket{function="echo",le="0.001"}"#)
                    })
                #expect(lines.contains(#"stratus_invocation_duration_seconds_bucket{function="echo",le="900.0"} 3"#))
                #expect(lines.contains(#"stratus_invocation_duration_seconds_bucket{function="echo",le="+Inf"} 3"#))
                #expect(lines.contains(#"stratus_queue_messages{queue="orders-copy",state="visible"} 1.0"#))
                #expect(lines.contains(#"stratus_workers{function="echo",state="busy"} 0.0"#))
                #expect(
                    lines.contains {
                        $0.hasPrefix(#"stratus_workers{function="echo",state="idle"} "#) && !$0.hasSuffix(" 0.0")
                    })
                #expect(lines.contains { $0.hasPrefix(#"stratus_host_events_total{function="echo",kind="SCALE_UP"}"#) })
                #expect(lines.contains { $0.hasPrefix("stratus_process_resident_memory_bytes ") })
                #expect(lines.contains { $0.hasPrefix("stratus_process_open_fds ") })

                // Every family has HELP and TYPE, and every sample belongs to a declared family.
                var declared: Set<String> = []
                for line in lines where line.hasPrefix("# TYPE ") {
                    let name = String(line.split(separator: " ")[2])
                    declared.insert(name)
                    #expect(
                        lines.contains { $0.hasPrefix("# HELP \(name) ") && $0.count > "# HELP \(name) ".count + 10 },
                        "\(name) has no HELP")
                }
                let expected: Set = [
                    "stratus_invocations_total", "stratus_invocation_duration_seconds", "stratus_init_duration_seconds",
                    "stratus_cold_starts_total", "stratus_throttles_total", "stratus_rejections_total",
                    "stratus_host_events_total", "stratus_workers", "stratus_callers_waiting", "stratus_breaker_state",
                    "stratus_queue_messages", "stratus_process_resident_memory_bytes", "stratus_process_open_fds",
                ]
                #expect(expected.subtracting(declared).isEmpty, "missing: \(expected.subtracting(declared).sorted())")
                for line in lines where !line.hasPrefix("#") {
                    let name = String(line.prefix { $0 != "{" && $0 != " " })
                    let family = ["_bucket", "_sum", "_count"].reduce(name) { name, suffix in
                        name.hasSuffix(suffix) && declared.contains(String(name.dropLast(suffix.count)))
                            ? String(name.dropLast(suffix.count)) : name
                    }
                    #expect(declared.contains(family), "\(line) has no TYPE")
                }
            }
        }
    }

    @Test func badRequestsGetTheErrorShapeAndChangeNothing() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                let cases: [(String, HTTPRequest.Method, String?, HTTPResponse.Status, String)] = [
                    ("/v1/queues", .post, "{not json", .badRequest, "InvalidParameter"),
                    ("/v1/queues", .post, #"{"name":"q","visibiltyTimeout":"5s"}"#, .badRequest, "InvalidParameter"),
                    ("/v1/queues", .post, #"{"name":"q","retention":null}"#, .badRequest, "InvalidParameter"),
                    (
                        "/v1/queues", .post, #"{"name":"q","visibilityTimeout":"99999999999999999999h"}"#, .badRequest,
                        "InvalidParameter"
                    ),
                    ("/v1/queues/nope/messages", .post, #"{"body":"x"}"#, .notFound, "QueueDoesNotExist"),
                    ("/v1/queues/orders-copy/receive", .post, #"{"max":11}"#, .badRequest, "InvalidParameter"),
                    ("/v1/topics/nope/publish", .post, #"{"message":"x"}"#, .notFound, "TopicNotFound"),
                    ("/v1/functions/nope/invoke", .post, "{}", .notFound, "FunctionNotFound"),
                    ("/v1/nothing-here", .get, nil, .notFound, "NotFound"),
                ]
                for (uri, method, body, status, code) in cases {
                    let response = try await client.execute(
                        uri: uri, method: method, headers: .json, body: body.map(ByteBuffer.json))
                    #expect(response.status == status, "\(method) \(uri) \(body ?? "")")
                    #expect((try? response.decoded(V1.ErrorBody.self))?.error.code == code, "\(uri): \(response.text)")
                }
                let list = try await client.execute(uri: "/v1/queues", method: .get)
                #expect(
                    try list.decoded(V1.QueueList.self).queues.map(\.name) == ["orders-copy"], "nothing was created")
            }
        }
    }

    @Test(arguments: [
        ("/", false), ("/v1/topics", false), ("/v1/topics/orders", false), ("//v1/topics", true),
        ("/v1//topics", true), ("/v1/topics/", true), ("v1/topics", true), ("", true),
    ])
    func pathsWithEmptySegmentsAreNormalisedAsTheRouterReadsThem(path: String, empty: Bool) {
        #expect(ControlExposure.hasEmptySegments(path) == empty)
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("127.255.0.9", true), ("localhost", true), ("LOCALHOST", true), ("a.localhost", true),
        ("[::1]", true), ("::1", true), ("128.0.0.1", false), ("127.0.0.256", false), ("127.0.0", false),
        ("evil.com", false), ("localhost.evil.com", false), ("[", false), ("", false),
    ])
    func loopbackHostsAreKnownFromOthers(host: String, loopback: Bool) {
        #expect(ControlExposure.isLoopback(host) == loopback)
    }

    @Test func webPagesAndForeignHostsAreRefused() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                let fromPage = try await client.execute(
                    uri: "/v1/queues", method: .post,
                    headers: [.contentType: "application/json", .origin: "http://evil.example"],
                    body: .json(#"{"name":"evil"}"#))
                #expect(fromPage.status == .forbidden)
                #expect(try fromPage.decoded(V1.ErrorBody.self).error.code == "ForbiddenOrigin")

                let form = try await client.execute(
                    uri: "/v1/queues", method: .post, headers: [.contentType: "text/plain"],
                    body: .json(#"{"name":"evil"}"#))
                #expect(form.status == .unsupportedMediaType)

                let lambdaFromPage = try await client.execute(
                    uri: "/2015-03-31/functions/echo/invocations", method: .post,
                    headers: [.secFetchSite: "cross-site"],
                    body: .json("{}"))
                #expect(lambdaFromPage.status == .forbidden)
                #expect(lambdaFromPage.headers[HTTPField.Name("X-Amzn-ErrorType")!] == "AccessDeniedException")

                let list = try await client.execute(uri: "/v1/queues", method: .get)
                #expect(try !list.decoded(V1.QueueList.self).queues.map(\.name).contains("evil"))
            }
            try await fixture.control(exposure: ControlExposure(token: "0123456789abcdef-token")) { client in
                let anonymous = try await client.execute(uri: "/v1/status", method: .get)
                #expect(anonymous.status == .unauthorized)
                #expect(try anonymous.decoded(V1.ErrorBody.self).error.code == "MissingToken")
                let health = try await client.execute(uri: "/v1/health", method: .get)
                #expect(health.status == .ok, "health needs no token")
                let authorized = try await client.execute(
                    uri: "/v1/status", method: .get, headers: [.authorization: "Bearer 0123456789abcdef-token"])
                #expect(try authorized.decoded(V1.Status.self).functions.map(\.name) == ["echo", "raises", "sleepy"])
            }
        }
    }
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}

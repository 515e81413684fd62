import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StratusCore
import Testing

/// The API Gateway (HTTP API, payload 2.0) at the responder: the event a function receives, its answer mapped
/// back, and API Gateway's own answers for what never reaches a function.
@Suite(.timeLimit(.minutes(2))) struct GatewayTests {
    @Test func aRouteInvokesItsFunctionWithAVersion2Event() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.gateway { client in
                let response = try await client.execute(
                    uri: "/echo/ada?x=1&x=2", method: .post,
                    headers: [.contentType: "application/json", .cookie: "a=1; b=2"],
                    body: ByteBuffer(string: #"{"hello":"world"}"#))
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[HTTPField.Name("apigw-requestid")!]?.isEmpty == false)
                // The echo function returns an object without `statusCode`: the whole object is the JSON body.
                let event = try #require(response.json["event"] as? [String: Any])
                #expect(event["version"] as? String == "2.0")
                #expect(event["routeKey"] as? String == "POST /echo/{name}")
                #expect(event["rawPath"] as? String == "/echo/ada")
                #expect(event["rawQueryString"] as? String == "x=1&x=2")
                #expect((event["queryStringParameters"] as? [String: String])?["x"] == "1,2")
                #expect((event["pathParameters"] as? [String: String])?["name"] == "ada")
                #expect(event["cookies"] as? [String] == ["a=1", "b=2"])
                #expect(event["body"] as? String == #"{"hello":"world"}"#)
                #expect(event["isBase64Encoded"] as? Bool == false)
                let http = try #require((event["requestContext"] as? [String: Any])?["http"] as? [String: Any])
                #expect(http["method"] as? String == "POST")
                #expect(http["path"] as? String == "/echo/ada")
                // What API Gateway adds to the headers.
                let headers = try #require(event["headers"] as? [String: String])
                #expect(headers["x-forwarded-for"] == "127.0.0.1" && headers["x-forwarded-proto"] == "http")
                #expect(headers["x-forwarded-port"].flatMap { Int($0) } != nil)
                #expect(headers["x-amzn-trace-id"]?.wholeMatch(of: /Root=1-[0-9a-f]{8}-[0-9a-f]{24}/) != nil)
            }
        }
    }

    @Test func whatNoRouteOrKeyAllowsNeverReachesAFunction() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.gateway { client in
                let unknown = try await client.execute(uri: "/nowhere", method: .get)
                #expect(unknown.status == .notFound)
                #expect(unknown.json["message"] as? String == "Not Found")

                let wrongMethod = try await client.execute(uri: "/echo/ada", method: .get)
                #expect(wrongMethod.status == .notFound)

                let noKey = try await client.execute(uri: "/keyed", method: .get)
                #expect(noKey.status == .unauthorized)
                let wrongKey = try await client.execute(
                    uri: "/keyed", method: .get, headers: [HTTPField.Name("x-api-key")!: "guess"])
                #expect(wrongKey.status == .forbidden)
                let rightKey = try await client.execute(
                    uri: "/keyed", method: .get, headers: [HTTPField.Name("x-api-key")!: "secret-key"])
                #expect(rightKey.status == .ok)
            }
            #expect(try await fixture.host.log.invocations(matching: .init()).count == 1, "only the keyed call ran")
        }
    }

    /// HTTP API waits at most its integration timeout (30 s, shortened here) for a function whose own timeout is
    /// longer: then the caller gets 503 and the invocation goes on; a function that times out first is a 502.
    @Test func aCallerWaitsNoLongerThanTheIntegrationTimeout() async throws {
        try await ServerFixture.with { fixture in
            // Warm first: a cold start on a loaded machine must not count against the short timeout below.
            try await fixture.gateway { client in
                let warm = try await client.execute(uri: "/sleep/0", method: .get)
                #expect(warm.status == .ok)
            }
            try await fixture.gateway(integrationTimeout: .seconds(2)) { client in
                let quick = try await client.execute(uri: "/sleep/0", method: .get)
                #expect(quick.status == .ok && quick.json["slept"] as? Double == 0)
                let slow = try await client.execute(uri: "/sleep/3.5", method: .get)
                #expect(slow.status == .serviceUnavailable)
                #expect(String(buffer: slow.body) == #"{"message":"Service Unavailable"}"#)
            }
            // The invocation went on to its end: its record says it ran its 3.5 s and succeeded.
            var slept: [InvocationRecord] = []
            for _ in 0..<100 where slept.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                slept = try await fixture.control { client in
                    try await client.execute(uri: "/v1/logs?function=sleepy", method: .get)
                        .decoded(V1.Invocations.self).invocations.filter { $0.durationMs >= 3500 }
                }
            }
            #expect(slept.count == 1 && slept.first?.status == .ok)
            try await fixture.gateway { client in
                // Its own timeout (5 s) passes first: a function error to HTTP API.
                let timedOut = try await client.execute(uri: "/sleep/6", method: .get)
                #expect(timedOut.status == .badGateway)
                #expect(String(buffer: timedOut.body) == #"{"message":"Internal Server Error"}"#)
            }
        }
    }
}

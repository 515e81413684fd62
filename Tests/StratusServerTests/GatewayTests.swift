import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
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
}

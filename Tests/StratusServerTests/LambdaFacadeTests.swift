import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Lambda's Invoke API at the router: what the `aws` CLI and boto3 read back (payload, headers, error shapes).
@Suite(.timeLimit(.minutes(2))) struct LambdaFacadeTests {
    static let errorType = HTTPField.Name("X-Amzn-ErrorType")!
    static let functionError = HTTPField.Name("X-Amz-Function-Error")!
    static let invocationType = HTTPField.Name("X-Amz-Invocation-Type")!
    static let executedVersion = HTTPField.Name("X-Amz-Executed-Version")!

    @Test func aSynchronousInvokeAnswersThePayload() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                let arn = "arn:aws:lambda:us-east-1:000000000000:function:echo"
                for name in ["echo", "echo:$LATEST", arn.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!]
                {
                    let response = try await client.execute(
                        uri: "/2015-03-31/functions/\(name)/invocations", method: .post,
                        body: ByteBuffer(string: #"{"k":"v"}"#))
                    #expect(response.status == .ok, "\(name)")
                    #expect(response.headers[Self.executedVersion] == "$LATEST")
                    #expect(response.headers[Self.functionError] == nil)
                    #expect((response.json["event"] as? [String: String]) == ["k": "v"])
                    #expect(response.json["arn"] as? String == arn)
                }
            }
        }
    }

    @Test func errorsAndAsyncInvokesAnswerAsLambdaDoes() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                let missing = try await client.execute(uri: "/2015-03-31/functions/nope/invocations", method: .post)
                #expect(missing.status == .notFound)
                #expect(missing.headers[Self.errorType] == "ResourceNotFoundException")
                #expect(
                    (missing.json["Message"] as? String ?? missing.json["message"] as? String)?.contains(
                        "function:nope") == true)

                let raised = try await client.execute(uri: "/2015-03-31/functions/raises/invocations", method: .post)
                #expect(raised.status == .ok, "a function error is a 200 with X-Amz-Function-Error")
                #expect(raised.headers[Self.functionError] == "Unhandled")
                #expect(raised.json["errorType"] as? String == "ValueError")
                #expect(raised.json["errorMessage"] as? String == "boom")

                let version = try await client.execute(
                    uri: "/2015-03-31/functions/echo/invocations?Qualifier=7", method: .post)
                #expect(version.status == .notFound, "only $LATEST exists")

                let notJSON = try await client.execute(
                    uri: "/2015-03-31/functions/echo/invocations", method: .post, body: ByteBuffer(string: "not json"))
                #expect(notJSON.status == .badRequest)
                #expect(notJSON.headers[Self.errorType] == "InvalidRequestContentException")

                let dryRun = try await client.execute(
                    uri: "/2015-03-31/functions/echo/invocations", method: .post,
                    headers: [Self.invocationType: "DryRun"])
                #expect(dryRun.status == .noContent)

                let event = try await client.execute(
                    uri: "/2015-03-31/functions/echo/invocations", method: .post,
                    headers: [Self.invocationType: "Event"],
                    body: ByteBuffer(string: "{}"))
                #expect(event.status == .accepted)
                #expect(event.body.readableBytes == 0)

                let unsupported = try await client.execute(
                    uri: "/2015-03-31/functions/echo/invocations", method: .post,
                    headers: [Self.invocationType: "Later"])
                #expect(unsupported.status == .badRequest)
                #expect(unsupported.headers[Self.errorType] == "InvalidParameterValueException")
            }
        }
    }
}

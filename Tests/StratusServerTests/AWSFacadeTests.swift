import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StratusCore
import Testing

@testable import StratusServer

/// SQS and SNS at the router: protocol detection, the query protocol's flattened parameters, error shapes,
/// and what files declare staying owned by the files. (Tests/compat drives the same with boto3 and the CLI.)
@Suite(.timeLimit(.minutes(2))) struct AWSFacadeTests {
    static let target = HTTPField.Name("X-Amz-Target")!
    static let queryError = HTTPField.Name("x-amzn-query-error")!

    @Test func digestsAreSQSs() {
        #expect(MessageDigest.body("hello") == "5d41402abc4b2a76b9719d911017c592")
        let attributes = [
            "a": MessageAttribute(dataType: "String", stringValue: "x"),
            "n": MessageAttribute(dataType: "Number", stringValue: "1"),
        ]
        #expect(MessageDigest.attributes(attributes) == "618202fa27f8e532aefa8b897822714f")
        #expect(MessageDigest.attributes([:]) == nil)
        // Binary values are hashed as their bytes (01 02), with transport byte 2: the spec's layout, computed
        // independently with Python's struct and hashlib.
        let binary = MessageDigest.attributes(["b": MessageAttribute(dataType: "Binary", stringValue: "AQI=")])
        #expect(binary == "e3e69c978daf8c19115edab8f17d3a4d")
    }

    @Test func queryParametersBecomeTheJSONProtocolsShape() throws {
        let form =
            "Action=SendMessageBatch&QueueUrl=http%3A%2F%2Fh%2F000000000000%2Fq"
            + "&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=two+words"
            + "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=one"
            + "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=k"
            + "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String"
            + "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=v"
            + "&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=10&AttributeName.1=All"
        let input = try SQSFacade.input(from: QueryParameters(Substring(form)))
        #expect(try input.string("QueueUrl") == "http://h/000000000000/q")
        let entries = try input.objects("Entries")
        #expect(try entries.map { try $0.string("Id") } == ["a", "b"])
        #expect(try entries.map { try $0.string("MessageBody") } == ["one", "two words"])
        #expect(try entries[0].object("MessageAttributes")?.object("k")?.string("StringValue") == "v")
        #expect(try input.stringMap("Attributes") == ["VisibilityTimeout": "10"])
        #expect(try input.strings("AttributeNames") == ["All"])
    }

    @Test(arguments: [
        ("plain", "plain"), ("a+b", "a b"), ("%41%42", "AB"), ("%e2%82%AC", "€"), ("100%25", "100%"), ("", ""),
    ])
    func formValuesDecode(encoded: String, decoded: String) {
        #expect(QueryParameters.decode(Substring(encoded)) == decoded)
    }

    @Test(arguments: ["%", "%4", "%zz", "%ff%fe", "a%G1"])
    func badFormEscapesAreRefused(encoded: String) {
        #expect(QueryParameters.decode(Substring(encoded)) == nil)
        #expect(QueryParameters(Substring("k=\(encoded)")).undecodable == "k")
    }

    @Test(arguments: [
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20261130/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=x",
            ["AKID", "20261130", "eu-west-1", "sqs", "aws4_request"]
        ),
        ("AWS4-HMAC-SHA256 Credential=a//b", ["a", "", "b"]),
        ("Credential=", [""]),
        ("AWS4-HMAC-SHA256 Credential", nil),
        ("", nil),
        ("Bearer abc", nil),
    ])
    func theCredentialScopeIsReadFromTheAuthorization(header: String, parts: [String]?) {
        let scope = AWSRequestInfo.credentialScope(header)
        #expect(scope?.map { String(decoding: $0, as: UTF8.self) } == parts)
    }

    @Test func bothSQSProtocolsAnswerInTheirOwnShape() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                let json = try await client.execute(
                    uri: "/", method: .post,
                    headers: [Self.target: "AmazonSQS.GetQueueUrl", .contentType: "application/x-amz-json-1.0"],
                    body: ByteBuffer(string: #"{"QueueName":"nope"}"#))
                #expect(json.status == .badRequest)
                #expect(json.headers[Self.queryError] == "AWS.SimpleQueueService.NonExistentQueue;Sender")
                #expect(json.json["__type"] as? String == "com.amazonaws.sqs#QueueDoesNotExist")

                let query = try await client.execute(
                    uri: "/", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "Action=GetQueueUrl&Version=2012-11-05&QueueName=orders-copy"))
                #expect(query.status == .ok)
                let body = String(buffer: query.body)
                #expect(body.contains("<GetQueueUrlResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"))
                #expect(body.contains("/000000000000/orders-copy</QueueUrl>"))

                // Posted to the queue URL itself, as older SDKs do.
                let send = try await client.execute(
                    uri: "/000000000000/orders-copy", method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "Action=SendMessage&MessageBody=hello"))
                #expect(String(buffer: send.body).contains("<MD5OfMessageBody>5d41402abc4b2a76b9719d911017c592<"))
            }
        }
    }

    @Test func declaredQueuesAndTopicsAreOwnedByTheirFiles() async throws {
        try await ServerFixture.with { fixture in
            try await fixture.control { client in
                let delete = try await client.execute(
                    uri: "/", method: .post,
                    headers: [Self.target: "AmazonSQS.DeleteQueue", .contentType: "application/x-amz-json-1.0"],
                    body: ByteBuffer(string: #"{"QueueUrl":"http://localhost/000000000000/orders-copy"}"#))
                #expect(delete.status == .badRequest)
                #expect(delete.json["__type"] as? String == "com.amazonaws.sqs#UnsupportedOperation")
                #expect((delete.json["message"] as? String)?.contains("triggers/main.yaml") == true)

                let topic = try await client.execute(
                    uri: "/", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(
                        string:
                            "Action=DeleteTopic&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aorders"
                    ))
                #expect(topic.status == .badRequest)
                #expect(String(buffer: topic.body).contains("<Code>InvalidParameter</Code>"))
                #expect(fixture.host.topics.all()["orders"] != nil)
                #expect(fixture.host.queues.config("orders-copy") != nil)
            }
        }
    }
}

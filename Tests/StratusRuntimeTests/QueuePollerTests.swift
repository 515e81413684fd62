import Foundation
import NIOCore
import StratusCore
import Testing

@testable import StratusRuntime

/// How a consumer reads its function's answer and sizes its batches.
@Suite struct QueuePollerTests {
    static let batch = ["a", "b", "c"].map {
        QueueMessage(
            id: $0, queue: "q", body: "body \($0)", attributes: [:], sentAtMs: 0, firstReceivedAtMs: 0, receiveCount: 1,
            receiptHandle: "h.\($0)")
    }

    @Test(
        arguments: [
            (#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#, Set(["b"])),
            (
                "  \n {\"batchItemFailures\": [{\"itemIdentifier\": \"a\"}, {\"itemIdentifier\": \"c\"}]}",
                Set(["a", "c"])
            ),
            (#"{"batchItemFailures":[]}"#, Set<String>()),
            (#"{"batchItemFailures":null}"#, Set<String>()),
            (#"{"other":1}"#, Set<String>()),
            ("null", Set<String>()),
            (#""done""#, Set<String>()),
            ("", Set<String>()),
            ("[1,2]", Set<String>()),
        ] as [(String, Set<String>?)])
    func batchItemFailuresAreReadAsJSON(response: String, failed: Set<String>?) {
        #expect(QueuePoller.failedItems(in: ByteBuffer(string: response), batch: Self.batch) == failed)
    }

    @Test(arguments: [
        #"{"batchItemFailures":[{"itemIdentifier":"zzz"}]}"#,
        #"{"batchItemFailures":[{"itemIdentifier":5}]}"#,
        #"{"batchItemFailures":["a"]}"#,
        #"{"batchItemFailures":"a"}"#,
        "not json", #"{"batchItemFailures": ["#,
    ])
    func malformedFailuresFailTheWholeBatch(response: String) {
        #expect(QueuePoller.failedItems(in: ByteBuffer(string: response), batch: Self.batch) == nil)
    }

    @Test func eventFiltersLookInsideAJSONBodyAndAtTheRecord() throws {
        func message(_ body: String, _ attributes: [String: MessageAttribute] = [:]) -> QueueMessage {
            QueueMessage(
                id: "m", queue: "q", body: body, attributes: attributes, sentAtMs: 0, firstReceivedAtMs: 0,
                receiveCount: 1, receiptHandle: "h")
        }
        let filter = try EventFilter(patterns: [
            #"{"body": {"kind": ["order"], "total": [{"numeric": [">", 100]}]}}"#,
            #"{"body": [{"prefix": "urgent:"}]}"#,
            #"{"messageAttributes": {"tier": {"stringValue": ["gold"]}}}"#,
        ])
        #expect(filter.keeps(message(#"{"kind": "order", "total": 150}"#)))
        #expect(!filter.keeps(message(#"{"kind": "order", "total": 50}"#)), "the numeric condition fails")
        #expect(!filter.keeps(message(#"{"kind": "refund", "total": 150}"#)))
        #expect(filter.keeps(message("urgent: call back")), "a body that is not JSON is a string")
        #expect(!filter.keeps(message("later: call back")))
        #expect(filter.keeps(message("x", ["tier": MessageAttribute(dataType: "String", stringValue: "gold")])))
        #expect(EventFilter().keeps(message("anything")), "no patterns keep everything")
        #expect(throws: EventFilter.Invalid.self) { try EventFilter(patterns: ["not json"]) }
        #expect(throws: EventFilter.Invalid.self) { try EventFilter(patterns: Array(repeating: "{}", count: 6)) }
        #expect(throws: EventFilter.Invalid.self) {
            try EventFilter(patterns: [#"{"body": ["# + String(repeating: "1,", count: 2100) + "1]}"])
        }
    }

    @Test func batchesStayUnderTheInvocationPayloadLimit() {
        let big = (0..<10).map {
            QueueMessage(
                id: "m\($0)", queue: "q", body: String(repeating: "x", count: 1_000_000), attributes: [:], sentAtMs: 0,
                firstReceivedAtMs: 0, receiveCount: 1, receiptHandle: "h.\($0)")
        }
        let (fitting, rest) = QueuePoller.split(big, limit: Limits.syncPayloadBytes)
        #expect(!fitting.isEmpty && fitting.count + rest.count == 10)
        #expect(MessagingEvents.sqsEvent(fitting).count <= Limits.syncPayloadBytes)
        #expect(fitting.map(\.id) + rest.map(\.id) == big.map(\.id), "order kept")
        let (one, none) = QueuePoller.split(Array(big.prefix(1)), limit: 10)
        #expect(one.count == 1 && none.isEmpty, "a single message always goes")
    }
}

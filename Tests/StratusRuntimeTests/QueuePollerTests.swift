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

    @Test func eventFiltersLookInsideAJSONBodyOrAtAPlainOne() throws {
        func message(_ body: String) -> QueueMessage {
            QueueMessage(
                id: "m", queue: "q", body: body, attributes: [:], sentAtMs: 0, firstReceivedAtMs: 0, receiveCount: 1,
                receiptHandle: "h")
        }
        let filter = try EventFilter(patterns: [
            #"{"body": {"kind": ["order"], "total": [{"numeric": [">", 100]}]}}"#,
            #"{"body": [{"prefix": "urgent:"}]}"#,
        ])
        let bodies = [
            #"{"kind": "order", "total": 150}"#, #"{"kind": "order", "total": 50}"#,
            #"{"kind": "refund", "total": 150}"#,
            "urgent: call back", "later: call back",
        ]
        #expect(filter.keeps(bodies.map(message)) == [true, false, false, true, false])
        #expect(EventFilter().keeps([message("anything")]) == [true], "no patterns keep everything")
        // Lambda's own limits, not SNS's: 10 x 10 values in one pattern is fine, a sixth pattern or 4,097
        // characters are not; and SQS mappings filter on `body` only.
        let wide = (0..<10).map(String.init).joined(separator: ",")
        _ = try EventFilter(patterns: [#"{"body": {"a": [\#(wide)], "b": [\#(wide)]}}"#])
        _ = try EventFilter(patterns: Array(repeating: #"{"body": ["x"]}"#, count: 5))
        #expect(throws: EventFilter.Invalid.self) {
            try EventFilter(patterns: Array(repeating: #"{"body": ["x"]}"#, count: 6))
        }
        let filler = String(repeating: "x", count: 4096 - #"{"body": [""]}"#.count)
        _ = try EventFilter(patterns: [#"{"body": [""# + filler + #""]}"#])
        #expect(throws: EventFilter.Invalid.self) { try EventFilter(patterns: [#"{"body": [""# + filler + #"x"]}"#]) }
        for bad in ["not json", #"["a"]"#, #"{"messageAttributes": {"tier": {"stringValue": ["gold"]}}}"#] {
            #expect(throws: EventFilter.Invalid.self) { try EventFilter(patterns: [bad]) }
        }
    }

    @Test func aConsumerDeclaredInAFileTakesAnAnswerThatIsNotJSONAsSuccess() {
        #expect(QueuePoller.failedItems(in: ByteBuffer(string: "ok"), batch: Self.batch, strict: false) == [])
        #expect(QueuePoller.failedItems(in: ByteBuffer(string: "ok"), batch: Self.batch, strict: true) == nil)
        #expect(QueuePoller.failedItems(in: ByteBuffer(string: " \n"), batch: Self.batch, strict: true) == [])
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

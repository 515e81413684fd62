import Foundation
import StratusCore
import Testing

/// Values from outside never trap and always meet their limits.
@Suite struct LimitsTests {
    @Test(arguments: [
        "999999999999999d", "9223372036854775807ms", "9223372036854775808s", "99999999999999999999999999s",
        "106751991167301d", "3651d", "-5s", "5 s", "s", "", "1.5s", "1e9s", "٣s",
    ])
    func absurdDurationsAreRefusedWithoutTrapping(text: String) {
        #expect(DurationParser.parse(text) == nil)
    }

    @Test func durationsUpToTheMaximumParse() {
        #expect(DurationParser.parse("3650d") == .seconds(3650 * 86_400))
        #expect(DurationParser.parse("0ms") == .zero)
        #expect(DurationParser.parse(" 12h ") == .seconds(12 * 3600))
    }

    @Test func rangeErrorsSayWhatWasExpected() throws {
        guard case .failure(let error) = DurationParser.parse("13h", in: Limits.visibilityTimeout) else {
            Issue.record("13h is above SQS's 12 h")
            return
        }
        #expect(
            error.description == "expected a duration between 0ms and 12h, such as 500ms, 3s, 2m, 6h or 4d (got '13h')")
        #expect(try DurationParser.parse("12h", in: Limits.visibilityTimeout).get() == .seconds(43_200))
        #expect((try? DurationParser.parse("59s", in: Limits.retention).get()) == nil, "SQS retention starts at 60 s")
    }

    @Test func millisecondsAndEpochArithmeticSaturate() {
        #expect(Duration.seconds(Int64.max).milliseconds == .max)
        #expect(Duration.seconds(Int64.min).milliseconds == .min)
        #expect(Int64.max.saturatingAdd(1) == .max)
        #expect(Int64.min.saturatingAdd(-1) == .min)
        #expect(Int64(0).saturatingSubtract(.min) == .max)
        #expect(Int64(5).saturatingSubtract(7) == -2)
    }

    @Test(
        arguments: [
            (["a": MessageAttribute(dataType: "String", stringValue: "x")], nil),
            (["n": MessageAttribute(dataType: "Number.float", stringValue: "1.5")], nil),
            (
                ["n": MessageAttribute(dataType: "Number", stringValue: "abc")],
                "message attribute 'n' is a Number but its value 'abc' is not a decimal number between -10^126 and 10^126"
            ),
            (
                ["b": MessageAttribute(dataType: "Blob", stringValue: "x")],
                "message attribute 'b' has data type 'Blob'; expected String, Number or Binary"
            ),
            (
                ["AWS.trace": MessageAttribute(dataType: "String", stringValue: "x")],
                "invalid message attribute name 'AWS.trace'; expected 1-256 letters, digits, '-', '_' or '.'"
            ),
            (
                ["a b": MessageAttribute(dataType: "String", stringValue: "x")],
                "invalid message attribute name 'a b'; expected 1-256 letters, digits, '-', '_' or '.'"
            ),
            (["e": MessageAttribute(dataType: "String", stringValue: "")], "message attribute 'e' has an empty value"),
        ] as [([String: MessageAttribute], String?)])
    func messageAttributesAreCheckedAsSQSChecksThem(attributes: [String: MessageAttribute], problem: String?) {
        #expect(MessageAttribute.problem(in: attributes) == problem)
    }

    @Test func atMostTenAttributes() {
        let ten = Dictionary(
            uniqueKeysWithValues: (0..<10).map { ("a\($0)", MessageAttribute(dataType: "String", stringValue: "v")) })
        #expect(MessageAttribute.problem(in: ten) == nil)
        var eleven = ten
        eleven["a10"] = MessageAttribute(dataType: "String", stringValue: "v")
        #expect(
            MessageAttribute.problem(in: eleven)
                == "Number of message attributes [11] exceeds the allowed maximum [10].")
    }

    @Test func storedQueueSettingsArePinnedIntoTheirLimits() {
        var queue = QueueConfig(name: "old")
        queue.visibilityTimeoutMs = .max
        queue.retentionMs = 0
        queue.delayMs = -5
        queue.maxReceiveCount = 5000
        let pinned = queue.clamped()
        #expect(pinned.visibilityTimeoutMs == 43_200_000)
        #expect(pinned.retentionMs == 60_000)
        #expect(pinned.delayMs == 0)
        #expect(pinned.maxReceiveCount == 1000)
        #expect(QueueConfig(name: "fine").clamped() == QueueConfig(name: "fine"))
    }

    func triggers(_ yaml: String, timeouts: [String: Duration] = ["work": .seconds(30)]) throws(ManifestError)
        -> Triggers
    {
        var triggers = Triggers()
        try triggers.merge(
            yaml: yaml, file: "triggers/t.yaml", functions: Set(timeouts.keys), timeouts: timeouts, environment: [:])
        return triggers
    }

    @Test func aConsumerNeedsAVisibilityTimeoutAtLeastItsFunctionsTimeout() throws {
        #expect(throws: ManifestError.self) {
            try triggers("queues:\n  q:\n    visibilityTimeout: 29s\n    consumer: {function: work}\n")
        }
        #expect(
            try triggers("queues:\n  q:\n    visibilityTimeout: 30s\n    consumer: {function: work}\n").queues.count
                == 1)
        #expect(try triggers("queues:\n  q:\n    consumer: {function: work}\n").queues.count == 1, "default 30s")
    }

    @Test func largeBatchesNeedABatchWindow() throws {
        #expect(
            throws: ManifestError(
                file: "triggers/t.yaml", line: 3, key: "queues.q.consumer",
                message: "batchSize 100 needs a batchWindow of at least 1s (as Lambda requires above 10)")
        ) {
            try triggers("queues:\n  q:\n    consumer: {function: work, batchSize: 100}\n")
        }
        #expect(
            try triggers("queues:\n  q:\n    consumer: {function: work, batchSize: 100, batchWindow: 1s}\n").queues[0]
                .consumer?.batchSize == 100)
    }

    @Test func consumerFiltersAreCheckedWhereTheyAreWritten() throws {
        let yaml = """
            queues:
              q:
                consumer:
                  function: work
                  filters:
                    - body: {kind: [order]}
                    - body:
                        total: [{numeric: ['>', 100]}]

            """
        let consumer = try #require(try triggers(yaml).queues[0].consumer)
        #expect(
            consumer.filterPatterns == [
                #"{"body":{"kind":["order"]}}"#, #"{"body":{"total":[{"numeric":[">",100]}]}}"#,
            ])
        #expect(
            throws: ManifestError(
                file: "triggers/t.yaml", line: 7, key: "queues.q.consumer.filters[1]",
                message:
                    #"invalid filter pattern: "body.kind": must be an object or an array (got "order"); write ["order"]"#
            )
        ) {
            try triggers(
                "queues:\n  q:\n    consumer:\n      function: work\n      filters:\n        - body: {kind: [a]}\n        - body: {kind: order}\n"
            )
        }
        let five = String(repeating: "        - body: {kind: [a]}\n", count: 5)
        #expect(
            try triggers("queues:\n  q:\n    consumer:\n      function: work\n      filters:\n" + five).queues.count
                == 1)
        #expect(throws: ManifestError.self) {
            try triggers(
                "queues:\n  q:\n    consumer:\n      function: work\n      filters:\n" + five
                    + "        - body: {kind: [b]}\n")
        }
    }

    @Test func aFIFOConsumerTakesTenAtMostAndNoWindow() throws {
        #expect(
            try triggers("queues:\n  q.fifo:\n    fifo: true\n    consumer: {function: work, batchSize: 10}\n")
                .queues[0].consumer?.batchSize == 10)
        for consumer in ["{function: work, batchSize: 11, batchWindow: 1s}", "{function: work, batchWindow: 1s}"] {
            #expect(throws: ManifestError.self) {
                try triggers("queues:\n  q.fifo:\n    fifo: true\n    consumer: \(consumer)\n")
            }
        }
    }

    @Test func hugeQueueDurationsInFilesNameTheirLine() {
        #expect(
            throws: ManifestError(
                file: "triggers/t.yaml", line: 3, key: "queues.q.visibilityTimeout",
                message:
                    "expected a duration between 0ms and 12h, such as 500ms, 3s, 2m, 6h or 4d (got '999999999999999d')")
        ) {
            try triggers("queues:\n  q:\n    visibilityTimeout: 999999999999999d\n")
        }
        #expect(throws: ManifestError.self) { try triggers("queues:\n  q:\n    retention: 0s\n") }
        #expect(throws: ManifestError.self) { try triggers("queues:\n  q:\n    deadLetterQueue: q\n") }
    }
}

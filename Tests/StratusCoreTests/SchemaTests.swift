import Foundation
import StratusCore
import Testing

@Suite struct SchemaTests {
    /// The repository root: this file is `Tests/StratusCoreTests/SchemaTests.swift`.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test(arguments: [
        ("function", Schemas.functionJSON), ("triggers", Schemas.triggersJSON),
    ])
    func committedSchemasAreWhatTheCodeWrites(name: String, generated: String) throws {
        let path = Self.root.appendingPathComponent("schemas/\(name).schema.json")
        let committed = try String(contentsOf: path, encoding: .utf8)
        #expect(
            committed == generated,
            "schemas/\(name).schema.json is stale: run `stratus schema \(name) > schemas/\(name).schema.json`")
    }

    @Test func schemasAreJSONWithTheirDialectAndID() throws {
        for (text, id) in [(Schemas.functionJSON, Schemas.functionID), (Schemas.triggersJSON, Schemas.triggersID)] {
            let object = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(object["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
            #expect(object["$id"] as? String == id)
            #expect(object["title"] is String)
            #expect(
                Schemas.functionJSON
                    == Schemas.function.jsonText(id: Schemas.functionID, title: "Stratus function.yaml"))
        }
    }

    @Test func theExampleProjectValidates() throws {
        let functions = Self.root.appendingPathComponent("functions")
        var names: Set<String> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: functions.path).sorted() {
            let file = functions.appendingPathComponent("\(name)/function.yaml")
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            #expect(text.hasPrefix("# yaml-language-server: $schema=../../schemas/function.schema.json\n"))
            try Schemas.function.validate(YAMLValue.parse(text, file: file.path))
            _ = try FunctionConfig.parse(yaml: text, name: name, file: file.path)
            names.insert(name)
        }
        #expect(names.count >= 6)
        var triggers = Triggers()
        let directory = Self.root.appendingPathComponent("triggers")
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".yaml") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect(text.hasPrefix("# yaml-language-server: $schema=../schemas/triggers.schema.json\n"))
            try triggers.merge(yaml: text, file: name, functions: names, environment: [:])
        }
        try triggers.validateReferences()
        #expect(!triggers.routes.isEmpty && !triggers.queues.isEmpty && !triggers.topics.isEmpty)
    }

    // MARK: Patterns: the JSON side of durations and routes, against the parsers' own rules

    @Test func integerRangePatternsMatchExactlyTheirRange() throws {
        let ranges: [ClosedRange<Int64>] = [
            0...0, 0...9, 1...1000, 7...93, 60...1_209_600, 100...86_400_000, 999...1001,
        ]
        for range in ranges {
            var cache = try PatternProbe(pattern: "^(?:" + SchemaPattern.integers(range) + ")$")
            let fixed: [Int64] = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 1_000_000, 86_400_001]
            let bounds: [Int64] = [range.lowerBound, range.upperBound].flatMap { [$0 - 1, $0, $0 + 1] }
            let random: [Int64] = (0..<200).map { _ in Int64.random(in: 0...(range.upperBound * 2 + 10)) }
            let probes = Set(fixed + bounds + random)
            for value in probes where value >= 0 {
                #expect(cache.matches(String(value)) == range.contains(value), "\(value) in \(range)")
            }
        }
    }

    @Test func durationPatternsAcceptWhatDurationParserAccepts() throws {
        let ranges = [
            Limits.timeout, Limits.idle, Limits.maxWait, Limits.maxEventAge, Limits.retryDelay, Limits.cooldown,
            Limits.visibilityTimeout, Limits.messageDelay, Limits.retention, Limits.batchWindow,
        ]
        for range in ranges {
            var probe = try PatternProbe(pattern: SchemaPattern.duration(range))
            let low = range.lowerBound.milliseconds
            let high = range.upperBound.milliseconds
            var texts = [
                "3s", "500ms", "0s", "0ms", "1ms", "15m", "16m", "6h", "7h", "4d", "3650d", "3651d", "30", "s", "-1s",
                "1.5s", "3 s", "3S", "1e3s", "0x10s", "\u{ff13}s", "999999999999999d", "9223372036854775807ms",
                "000000000000000000001s", "00000000000000001s", " 3s ", "3s\t", "3s\n", "\u{a0}3s", "3s\u{3000}",
                DurationParser.format(range.lowerBound), DurationParser.format(range.upperBound),
                "\(high)ms", "\(high + 1)ms", "\(max(0, low - 1))ms", "\(low)ms",
            ]
            texts += ["s", "m", "h", "d"].flatMap { unit in
                (0..<40).map { _ in "\(Int.random(in: 0...100_000))\(unit)" }
            }
            for text in texts {
                let parsed = if case .success = DurationParser.parse(text, in: range) { true } else { false }
                #expect(probe.matches(text) == parsed, "'\(text)' in \(range)")
            }
        }
    }

    @Test func routePatternMatchesTheRouteRules() throws {
        var triggers = Triggers()
        let accepted = [
            "GET /a", "get /a/{id}", "ANY /node/{proxy+}", "$default", "POST /", "  PUT   /a//b/  ", "DELETE /{a}/{b}",
            "OPTIONS /a{b}c", "HEAD /{+}", "PATCH /x/{p+}/", "GET /{}}",
        ]
        let rejected = [
            "FETCH /a", "GET", "/a", "GET a", "GET /a /b", "GET\t/a", "$default ", " $default", "GET /{p+}/x",
            "GET /{}",
            "GET /{x", "GET /x}", "GET /{", "GET /a/{+}/b", "", "get/a",
        ]
        for (index, route) in (accepted + rejected).enumerated() {
            let yaml = "http:\n  - route: '\(route)'\n    function: f\n"
            let ok =
                (try? triggers.merge(yaml: yaml, file: "t\(index).yaml", functions: ["f"], environment: [:])) != nil
            #expect(ok == accepted.contains(route), "\(route)")
        }
    }

    // MARK: Drift: every property of both schemas at its boundaries, through the validator and the parsers

    @Test func functionSchemaAndParserAgreeAtEveryBoundary() throws {
        let companions = ["scaling": [("max", "\(Limits.scalingMax.upperBound)")]]
        let cases = SchemaCases(companions: companions).cases(Schemas.function, path: [], name: nil)
        try check(cases, schema: Schemas.function) { text throws(ManifestError) in
            String(describing: try FunctionConfig.parse(yaml: text, name: "fn", file: "functions/fn/function.yaml"))
        }
    }

    @Test func triggersSchemaAndParserAgreeAtEveryBoundary() throws {
        // The parser's own checks that a boundary value of one key would trip over another's default.
        let companions = [
            "queues.work.consumer": [("batchWindow", DurationParser.format(Limits.largeBatchWindow))]
        ]
        let cases = SchemaCases(companions: companions).cases(Schemas.triggers, path: [], name: nil).map { test in
            var test = test
            test.document = SchemaCases.declaringQueueQ(test.document)
            return test
        }
        // A rule only the parser checks: `groupFrom` is for a subscription of a FIFO queue (declared elsewhere).
        let hostOnly: Set<String> = ["topics.t.subscriptions.groupFrom"]
        try check(cases, schema: Schemas.triggers, hostOnly: hostOnly) { text throws(ManifestError) in
            var triggers = Triggers()
            try triggers.merge(yaml: text, file: "triggers/t.yaml", functions: ["hello"], environment: [:])
            try triggers.validateReferences()
            return "\(triggers.routes) \(triggers.queues) \(triggers.topics.sorted { $0.key < $1.key })"
        }
    }

    private func check(
        _ cases: [SchemaCases.Case], schema: Schema, hostOnly: Set<String> = [],
        parse: (String) throws(ManifestError) -> String
    ) throws {
        #expect(cases.count > 100)
        var changed: Set<String> = []
        for test in cases {
            let rendered = SchemaCases.render(test.document)
            let file = rendered.text
            var schemaError: ManifestError?
            do { try schema.validate(YAMLValue.parse(file, file: "f")) } catch { schemaError = error }
            if let expected = test.accepted {
                #expect(
                    (schemaError == nil) == expected,
                    "\(test.what): schema says \(schemaError?.description ?? "ok")\n\(file)")
            }
            do {
                let parsed = try parse(file)
                #expect(schemaError == nil, "\(test.what): the parser accepts what the schema refuses\n\(file)")
                if test.mustBeRead, parsed != (try? parse(SchemaCases.render(test.base).text)) {
                    changed.insert(test.property)
                }
            } catch {
                guard let schemaError else {
                    if hostOnly.contains(test.property) { continue }
                    Issue.record("\(test.what): the schema accepts what the parser refuses: \(error)\n\(file)")
                    continue
                }
                #expect(error.message == schemaError.message && error.key == schemaError.key, "\(test.what)")
                guard let where_ = test.errorAt else { continue }
                #expect(error.key == where_.key, "\(test.what): \(error)\n\(file)")
                let line = where_.linePath.flatMap { rendered.lines[$0] }
                #expect(
                    error.line == line,
                    "\(test.what): \(error) should be at line \(line.map(String.init) ?? "nil")\n\(file)")
            }
        }
        let readable = Set(cases.filter(\.mustBeRead).map(\.property))
        #expect(
            readable.subtracting(changed).isEmpty, "never read by the parser: \(readable.subtracting(changed).sorted())"
        )
    }
}

/// Whole-text matching of one pattern, as `Schema.validate` and JSON Schema do it.
struct PatternProbe {
    let expression: NSRegularExpression

    init(pattern: String) throws {
        expression = try NSRegularExpression(pattern: pattern)
    }

    mutating func matches(_ text: String) -> Bool {
        let whole = NSRange(text.startIndex..., in: text)
        return expression.firstMatch(in: text, range: whole)?.range == whole
    }
}

extension SchemaTests {
    @Test func fifoQueuesParse() throws {
        var triggers = Triggers()
        try triggers.merge(
            yaml: """
                queues:
                  orders.fifo:
                    fifo: true
                    contentBasedDeduplication: true
                    deadLetterQueue: orders-dlq.fifo
                  orders-dlq.fifo: {fifo: true}
                """, file: "triggers/t.yaml", functions: [], environment: [:])
        let queue = try #require(triggers.queues.first)
        #expect(queue.fifo && queue.contentBasedDeduplication && queue.deadLetterQueue == "orders-dlq.fifo")
        for (yaml, message) in [
            ("queues:\n  work:\n    fifo: true\n", "a FIFO queue's name ends in .fifo"),
            ("queues:\n  work.fifo:\n    fifo: false\n", "fifo: true, as SQS's FifoQueue"),
            ("queues:\n  work.fifo: {}\n", "fifo: true, as SQS's FifoQueue"),
            ("queues:\n  work:\n    contentBasedDeduplication: true\n", "unknown key"),
            ("queues:\n  a.fifo:\n    fifo: true\n    deadLetterQueue: b\n  b: {}\n", "must be FIFO too"),
        ] {
            var other = Triggers()
            do {
                try other.merge(yaml: yaml, file: "triggers/t.yaml", functions: [], environment: [:])
                Issue.record("accepted: \(yaml)")
            } catch {
                let text: String = error.message
                #expect(text.contains(message), "\(text)")
            }
        }
    }
}

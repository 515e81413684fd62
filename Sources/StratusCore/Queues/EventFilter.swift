/// Lambda's event filtering for an SQS event source mapping (`FilterCriteria`): a message goes to the function
/// when any pattern matches it, and is deleted from the queue unseen when none does.
///
/// As for SQS in Lambda, patterns filter on the record's `body` key only: a body that is JSON is matched by its
/// value, so `{"body": {"kind": ["order"]}}` looks inside it; a body that is not JSON is a string
/// (`{"body": [{"prefix": "urgent"}]}`). The pattern language is the one SNS filter policies use in body scope
/// (exact values, `prefix`, `suffix`, `anything-but`, `numeric`, `exists`, `equals-ignore-case`), without SNS's
/// key and combination limits.
package struct EventFilter: Sendable {
    /// At most this many patterns per mapping, as Lambda's default quota.
    package static let maximumPatterns = 5
    /// The longest pattern Lambda takes, in characters.
    package static let maximumPatternLength = 4096

    /// A pattern Lambda would refuse: which one and why.
    package struct Invalid: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    private let policies: [FilterPolicy]

    /// No patterns: every message goes to the function.
    package init() {
        policies = []
    }

    /// Parses `patterns`, each one JSON object.
    package init(patterns: [String]) throws(Invalid) {
        guard patterns.count <= Self.maximumPatterns else {
            throw Invalid(description: "at most \(Self.maximumPatterns) filters are allowed (got \(patterns.count))")
        }
        var policies: [FilterPolicy] = []
        for (index, pattern) in patterns.enumerated() {
            do {
                policies.append(try Self.policy(pattern))
            } catch {
                throw Invalid(description: "filter \(index + 1): \(error.description)")
            }
        }
        self.policies = policies
    }

    /// Checks one pattern: its length, its keys and its language.
    package static func check(_ pattern: String) throws(Invalid) {
        _ = try policy(pattern)
    }

    private static func policy(_ pattern: String) throws(Invalid) -> FilterPolicy {
        guard pattern.count <= maximumPatternLength else {
            throw Invalid(description: "the pattern is \(pattern.count) characters; at most \(maximumPatternLength)")
        }
        guard case .object(let object)? = JSONValue.parse(pattern.utf8) else {
            throw Invalid(description: #"a pattern is a JSON object such as {"body": {"kind": ["order"]}}"#)
        }
        if let other = object.keys.sorted().first(where: { $0 != "body" }) {
            throw Invalid(
                description: "SQS event source mappings filter on the body key only (found '\(other.prefix(80))')")
        }
        do {
            return try FilterPolicy(jsonText: pattern, scope: .messageBody, snsLimits: false)
        } catch {
            throw Invalid(description: error.message)
        }
    }

    /// Which of `messages` go to the function: all without patterns.
    package func keeps(_ messages: [QueueMessage]) -> [Bool] {
        guard !policies.isEmpty else { return messages.map { _ in true } }
        return messages.map { message in policies.contains { $0.matches(recordBody: message.body) } }
    }
}

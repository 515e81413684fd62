/// Lambda's event filtering for an SQS event source mapping (`FilterCriteria`): a message goes to the function
/// when any pattern matches its record, and is deleted from the queue unseen when none does.
///
/// A pattern is matched against the record as the function would get it (`body`, `attributes`,
/// `messageAttributes`...), with a body that is JSON seen as its value, so `{"body": {"kind": ["order"]}}` looks
/// inside it; a body that is not JSON is a string. The pattern language is the one SNS filter policies use in
/// body scope (exact values, `prefix`, `suffix`, `anything-but`, `numeric`, `exists`, `equals-ignore-case`).
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

    /// Checks one pattern: its length and its language.
    package static func check(_ pattern: String) throws(Invalid) {
        _ = try policy(pattern)
    }

    private static func policy(_ pattern: String) throws(Invalid) -> FilterPolicy {
        guard pattern.count <= maximumPatternLength else {
            throw Invalid(description: "the pattern is \(pattern.count) characters; at most \(maximumPatternLength)")
        }
        do {
            return try FilterPolicy(jsonText: pattern, scope: .messageBody)
        } catch {
            throw Invalid(description: error.message)
        }
    }

    /// Whether `message` goes to the function: always without patterns.
    package func keeps(_ message: QueueMessage) -> Bool {
        guard !policies.isEmpty else { return true }
        var json = JSONWriter(capacity: 512 + message.body.utf8.count)
        MessagingEvents.sqsRecord(message, into: &json, bodyAsJSON: true)
        let record = String(decoding: json.bytes, as: UTF8.self)
        return policies.contains { $0.matches(body: record) }
    }
}

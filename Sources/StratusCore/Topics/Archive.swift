import Foundation

/// A message published to a topic with `archive:`, kept for replay.
package struct ArchivedMessage: Sendable, Equatable {
    /// Position in the archive: publish order.
    package var seq: Int64
    package var topic: String
    package var messageId: String
    package var message: String
    package var subject: String?
    package var attributes: [String: MessageAttribute]
    /// The message per protocol of a `MessageStructure: json` publish.
    package var perProtocol: [String: String]
    package var publishedAtMs: Int64

    package init(
        seq: Int64 = 0, topic: String, messageId: String, message: String, subject: String?,
        attributes: [String: MessageAttribute], perProtocol: [String: String] = [:], publishedAtMs: Int64
    ) {
        self.seq = seq
        self.topic = topic
        self.messageId = messageId
        self.message = message
        self.subject = subject
        self.attributes = attributes
        self.perProtocol = perProtocol
        self.publishedAtMs = publishedAtMs
    }
}

/// A replay of a topic's archive: a durable job that delivers the archived messages of a time range again,
/// in publish order, through the topic's subscriptions or to one target.
package struct ReplayJob: Sendable, Equatable, Codable {
    package enum Status: String, Sendable, Codable, CaseIterable {
        case running, done, cancelled
    }

    /// Where a replay delivers: the topic's current subscriptions, or one queue or function.
    package enum Target: Sendable, Equatable {
        case subscriptions
        case queue(String)
        case function(String)

        /// `queue:NAME`, `function:NAME`, or `nil` for the subscriptions.
        package var text: String? {
            switch self {
            case .subscriptions: nil
            case .queue(let name): "queue:\(name)"
            case .function(let name): "function:\(name)"
            }
        }

        package init?(text: String?) {
            guard let text else {
                self = .subscriptions
                return
            }
            if text.hasPrefix("queue:"), text.count > 6 {
                self = .queue(String(text.dropFirst(6)))
            } else if text.hasPrefix("function:"), text.count > 9 {
                self = .function(String(text.dropFirst(9)))
            } else {
                return nil
            }
        }
    }

    package var id: String
    package var topic: String
    /// The published-at range replayed, inclusive of `fromMs`, exclusive of `untilMs`.
    package var fromMs: Int64
    package var untilMs: Int64
    /// `queue:NAME`, `function:NAME`, or `nil`: the topic's subscriptions.
    package var target: String?
    /// The archive's last position when the replay began: what is published later is not replayed.
    package var lastSeq: Int64
    /// The last position delivered.
    package var cursor: Int64
    /// Messages delivered so far, and in all.
    package var delivered: Int
    package var total: Int
    package var status: Status
    package var createdAtMs: Int64
    package var finishedAtMs: Int64?

    package init(
        id: String, topic: String, fromMs: Int64, untilMs: Int64, target: String?, lastSeq: Int64, total: Int,
        createdAtMs: Int64
    ) {
        self.id = id
        self.topic = topic
        self.fromMs = fromMs
        self.untilMs = untilMs
        self.target = target
        self.lastSeq = lastSeq
        cursor = 0
        delivered = 0
        self.total = total
        status = .running
        self.createdAtMs = createdAtMs
    }
}

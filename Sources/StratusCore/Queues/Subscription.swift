import Foundation

/// A topic subscription: where a publish goes when its filter policy matches.
package struct Subscription: Sendable, Equatable {
    package enum Endpoint: Sendable, Equatable {
        case function(String)
        case queue(String)
        case http(String)

        /// SNS's protocol: `lambda`, `sqs`, `http` or `https`.
        package var protocolName: String {
            switch self {
            case .function: "lambda"
            case .queue: "sqs"
            case .http(let url): url.lowercased().hasPrefix("https:") ? "https" : "http"
            }
        }

        /// `function`, `queue` or `http`, and the name or URL: how the store and the API show it.
        package var kindAndTarget: (kind: String, target: String) {
            switch self {
            case .function(let name): ("function", name)
            case .queue(let name): ("queue", name)
            case .http(let url): ("http", url)
            }
        }
    }

    /// Stable id: `<topic>:<index>` for declared subscriptions, a request id for created ones.
    package var id: String
    package var topic: String
    package var endpoint: Endpoint
    /// The filter policy as JSON text (what the store keeps), and its scope.
    package var filterPolicy: String? {
        didSet { filter = filterPolicy.flatMap { try? FilterPolicy(jsonText: $0, scope: filterScope) } }
    }
    package var filterScope: FilterPolicy.Scope = .messageAttributes {
        didSet { filter = filterPolicy.flatMap { try? FilterPolicy(jsonText: $0, scope: filterScope) } }
    }
    /// The parsed policy; `nil` means every message matches.
    package private(set) var filter: FilterPolicy?
    /// Queue and HTTP deliveries: send the bare message instead of the SNS JSON envelope.
    package var raw = false
    /// HTTP deliveries that exhaust their retries go to this queue.
    package var deadLetterQueue: String?
    /// A FIFO queue's deliveries: the message attribute whose value is the message group (without it, or
    /// without the attribute, the topic's name: one group, in publish order).
    package var groupFrom: String?

    package init(id: String, topic: String, endpoint: Endpoint) {
        self.id = id
        self.topic = topic
        self.endpoint = endpoint
    }

    /// Sets the filter policy after checking it; throws the parser's error for an invalid one.
    package mutating func setFilter(json text: String, scope: FilterPolicy.Scope) throws(FilterPolicy.InvalidPolicy) {
        let parsed = try FilterPolicy(jsonText: text, scope: scope)
        filterScope = scope
        filterPolicy = text
        filter = parsed
    }

    /// Whether `other` delivers the same way: filter, scope, raw delivery and dead-letter queue.
    package func hasSameSettings(as other: Subscription) -> Bool {
        filterPolicy == other.filterPolicy && filterScope == other.filterScope
            && raw == other.raw && deadLetterQueue == other.deadLetterQueue && groupFrom == other.groupFrom
    }

    /// Whether a publish with this body and these attributes goes to this subscription.
    package func matches(body: String, attributes: [String: MessageAttribute]) -> Bool {
        filter?.matches(body: body, attributes: attributes) ?? true
    }
}

/// A delivery to a function or an HTTP endpoint, kept in the store until it succeeds or gives up.
package struct PendingDelivery: Sendable, Equatable {
    package enum Target: Sendable, Equatable {
        case function(String)
        case http(String)

        /// The function name or URL.
        package var name: String {
            switch self {
            case .function(let name): name
            case .http(let url): url
            }
        }
    }

    /// What the delivery is for.
    package enum Source: Sendable, Equatable {
        /// An `Event` invocation, identified by its event id (which links its attempts in the log).
        case asyncInvoke(eventId: String)
        /// A message published to `topic`, for its subscription `id`.
        case subscription(id: String, topic: String)
    }

    /// Assigned by the store.
    package var id: Int64
    package var source: Source
    package var target: Target
    /// The bytes to deliver: an SNS event for functions, the envelope (or raw message) for HTTP.
    package var payload: String
    /// Attempts made so far.
    package var attempts: Int
    package var nextAttemptAtMs: Int64
    package var createdAtMs: Int64
    /// Where the delivery goes when it gives up (HTTP subscriptions with a DLQ).
    package var deadLetterQueue: String?
    /// The SNS message id of a topic delivery (the `x-amz-sns-message-id` header of HTTP deliveries).
    package var messageId: String?
    /// Whether an HTTP delivery carries the bare message (`x-amz-sns-rawdelivery: true`).
    package var raw = false

    package init(
        id: Int64 = 0, source: Source, target: Target, payload: String, attempts: Int = 0, nextAttemptAtMs: Int64,
        createdAtMs: Int64, deadLetterQueue: String? = nil
    ) {
        self.id = id
        self.source = source
        self.target = target
        self.payload = payload
        self.attempts = attempts
        self.nextAttemptAtMs = nextAttemptAtMs
        self.createdAtMs = createdAtMs
        self.deadLetterQueue = deadLetterQueue
    }
}

/// One publish, fanned out: everything that commits with it in one transaction.
extension Subscription {
    /// The id of the `index`th subscription a trigger file declares for `topic`: `topic:index` (subscriptions
    /// made through the APIs have UUIDs, which have no `:`).
    package static func declaredId(topic: String, index: Int) -> String { "\(topic):\(index)" }

    /// The last part of a subscription's ARN: its id, or for one a trigger file declares (`topic:index`, which
    /// has a `:`) a UUID made from it, the same on every host and run.
    package static func arnId(_ id: String) -> String {
        id.utf8.contains(UInt8(ascii: ":")) ? MessageDigest.uuid(for: "stratus-subscription:" + id) : id
    }

    /// Whether `id` is one a trigger file declares for `topic`.
    package static func isDeclared(id: String, topic: String) -> Bool {
        id.utf8.count > topic.utf8.count + 1 && id.hasPrefix(topic + ":")
            && Int(String(decoding: id.utf8.dropFirst(topic.utf8.count + 1), as: UTF8.self)) != nil
    }
}

package enum FanOut: Sendable, Equatable {
    case queue(String, OutgoingMessage)
    case delivery(PendingDelivery)
    /// A schedule's state after the firings committed with it.
    case schedule(ScheduleState)
    /// The published message, kept by a topic with `archive:`.
    case archive(ArchivedMessage)
    /// A replay's progress after the deliveries committed with it.
    case replayProgress(id: String, cursor: Int64, delivered: Int)
}

extension Subscription.Endpoint {
    /// What is wrong with `url` as an HTTP subscription endpoint, or `nil`: an `http://` or `https://` URL with
    /// a host and, if it names one, a port from 1 to 65535 (a port beyond that traps the HTTP client).
    package static func problem(withHTTPURL url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty
        else {
            return "expected an http:// or https:// URL with a host (got '\(url.prefix(200))')"
        }
        if let port = components.port, !(1...65_535).contains(port) {
            return "the port of '\(url.prefix(200))' must be between 1 and 65535"
        }
        // A port too large for `Int` leaves `port` nil: look at what follows the host.
        if components.port == nil,
            let authority = url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first,
            let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"),
            !authority[authority.index(after: colon)...].isEmpty
        {
            return "the port of '\(url.prefix(200))' must be between 1 and 65535"
        }
        return nil
    }
}

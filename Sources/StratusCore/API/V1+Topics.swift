import Foundation

extension V1 {
    /// `POST /v1/topics`.
    package struct CreateTopic: Sendable, Codable {
        package var name: String

        package init(name: String) {
            self.name = name
        }
    }

    /// `POST /v1/topics` answers the topic's name.
    package struct TopicName: Sendable, Codable {
        package var topic: String

        package init(topic: String) {
            self.topic = topic
        }
    }

    /// `POST /v1/topics/{name}/subscriptions`: exactly one of `function`, `queue`, `http`.
    package struct Subscribe: Sendable, Codable {
        package var function: String?
        package var queue: String?
        package var http: String?
        /// An SNS filter policy.
        package var filter: JSONValue?
        /// `attributes` (`MessageAttributes`, the default) or `body` (`MessageBody`).
        package var filterScope: String?
        /// Queue and HTTP endpoints: the bare message instead of the SNS envelope.
        package var raw: Bool?
        /// An existing queue for HTTP deliveries that give up.
        package var deadLetterQueue: String?

        package init(
            function: String? = nil, queue: String? = nil, http: String? = nil, filter: JSONValue? = nil,
            filterScope: String? = nil, raw: Bool? = nil, deadLetterQueue: String? = nil
        ) {
            self.function = function
            self.queue = queue
            self.http = http
            self.filter = filter
            self.filterScope = filterScope
            self.raw = raw
            self.deadLetterQueue = deadLetterQueue
        }
    }

    /// `POST /v1/topics/{name}/subscriptions` answers the subscription's id.
    package struct SubscriptionCreated: Sendable, Codable {
        package var subscriptionId: String

        package init(subscriptionId: String) {
            self.subscriptionId = subscriptionId
        }
    }

    /// `POST /v1/topics/{name}/publish`.
    package struct Publish: Sendable, Codable {
        package var message: String
        package var subject: String?
        package var attributes: [String: AttributeValue]?
        /// FIFO topics: the message group, and a deduplication id (else the topic's content-based one).
        package var group: String?
        package var deduplicationId: String?

        package init(
            message: String, subject: String? = nil, attributes: [String: AttributeValue]? = nil, group: String? = nil,
            deduplicationId: String? = nil
        ) {
            self.message = message
            self.subject = subject
            self.attributes = attributes
            self.group = group
            self.deduplicationId = deduplicationId
        }
    }

    /// One topic in `GET /v1/topics` and `GET /v1/status`.
    package struct TopicSummary: Sendable, Codable {
        package var name: String
        package var subscriptions: [SubscriptionSummary]

        package init(name: String, subscriptions: [SubscriptionSummary]) {
            self.name = name
            self.subscriptions = subscriptions
        }
    }

    /// One subscription of a topic.
    package struct SubscriptionSummary: Sendable, Codable {
        package var id: String
        /// `function`, `queue` or `http`.
        package var kind: String
        /// The function or queue name, or the URL.
        package var target: String
        /// The filter policy as JSON text.
        package var filter: String?
        package var filterScope: String
        package var raw: Bool
        package var deadLetterQueue: String?

        package init(_ subscription: Subscription) {
            let (kind, target) = subscription.endpoint.kindAndTarget
            id = subscription.id
            self.kind = kind
            self.target = target
            filter = subscription.filterPolicy
            filterScope = subscription.filterScope.rawValue
            raw = subscription.raw
            deadLetterQueue = subscription.deadLetterQueue
        }
    }

    /// `GET /v1/topics`.
    package struct TopicList: Sendable, Codable {
        package var topics: [TopicSummary]

        package init(topics: [TopicSummary]) {
            self.topics = topics
        }
    }
}

extension V1 {
    /// `POST /v1/topics/{name}/replays`: which archived messages, and where to. Without `since` or `from`,
    /// the whole archive; without `until`, up to now.
    package struct StartReplay: Sendable, Codable {
        package var since: DurationValue?
        package var from: Date?
        package var until: Date?
        /// `queue:NAME` or `function:NAME`; absent: the topic's subscriptions.
        package var to: String?

        package init(since: DurationValue? = nil, from: Date? = nil, until: Date? = nil, to: String? = nil) {
            self.since = since
            self.from = from
            self.until = until
            self.to = to
        }
    }

    /// One replay, as `stratus replays` shows it.
    package struct Replay: Sendable, Codable, Equatable {
        package var id: String
        package var topic: String
        package var from: Date
        package var until: Date
        /// `queue:NAME`, `function:NAME`, or absent: the topic's subscriptions.
        package var to: String?
        /// `running`, `done` or `cancelled`.
        package var status: String
        package var delivered: Int
        package var total: Int
        package var createdAt: Date
        package var finishedAt: Date?

        package init(_ job: ReplayJob) {
            func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
            id = job.id
            topic = job.topic
            from = date(job.fromMs)
            until = date(job.untilMs)
            to = job.target
            status = job.status.rawValue
            delivered = job.delivered
            total = job.total
            createdAt = date(job.createdAtMs)
            finishedAt = job.finishedAtMs.map(date)
        }
    }

    /// `GET /v1/replays`.
    package struct Replays: Sendable, Codable {
        package var replays: [Replay]

        package init(replays: [Replay]) {
            self.replays = replays
        }
    }
}

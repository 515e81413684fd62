extension V1 {
    /// `POST /v1/topics`.
    public struct CreateTopic: Sendable, Codable {
        public var name: String

        public init(name: String) {
            self.name = name
        }
    }

    /// `POST /v1/topics` answers the topic's name.
    public struct TopicName: Sendable, Codable {
        public var topic: String

        public init(topic: String) {
            self.topic = topic
        }
    }

    /// `POST /v1/topics/{name}/subscriptions`: exactly one of `function`, `queue`, `http`.
    public struct Subscribe: Sendable, Codable {
        public var function: String?
        public var queue: String?
        public var http: String?
        /// An SNS filter policy.
        public var filter: JSONValue?
        /// `attributes` (`MessageAttributes`, the default) or `body` (`MessageBody`).
        public var filterScope: String?
        /// Queue and HTTP endpoints: the bare message instead of the SNS envelope.
        public var raw: Bool?
        /// An existing queue for HTTP deliveries that give up.
        public var deadLetterQueue: String?

        public init(
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
    public struct SubscriptionCreated: Sendable, Codable {
        public var subscriptionId: String

        public init(subscriptionId: String) {
            self.subscriptionId = subscriptionId
        }
    }

    /// `POST /v1/topics/{name}/publish`.
    public struct Publish: Sendable, Codable {
        public var message: String
        public var subject: String?
        public var attributes: [String: AttributeValue]?

        public init(message: String, subject: String? = nil, attributes: [String: AttributeValue]? = nil) {
            self.message = message
            self.subject = subject
            self.attributes = attributes
        }
    }

    /// One topic in `GET /v1/topics` and `GET /v1/status`.
    public struct TopicSummary: Sendable, Codable {
        public var name: String
        public var subscriptions: [SubscriptionSummary]

        public init(name: String, subscriptions: [SubscriptionSummary]) {
            self.name = name
            self.subscriptions = subscriptions
        }
    }

    /// One subscription of a topic.
    public struct SubscriptionSummary: Sendable, Codable {
        public var id: String
        /// `function`, `queue` or `http`.
        public var kind: String
        /// The function or queue name, or the URL.
        public var target: String
        /// The filter policy as JSON text.
        public var filter: String?
        public var filterScope: String
        public var raw: Bool
        public var deadLetterQueue: String?

        public init(_ subscription: Subscription) {
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
    public struct TopicList: Sendable, Codable {
        public var topics: [TopicSummary]

        public init(topics: [TopicSummary]) {
            self.topics = topics
        }
    }
}

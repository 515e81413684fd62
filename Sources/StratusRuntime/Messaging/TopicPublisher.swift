import Foundation
import StratusCore
import StratusStore
import Synchronization

/// Topics: a publish fans out to every matching subscription in one committed transaction.
package final class TopicPublisher: Sendable {
    /// A publish that cannot be accepted.
    package struct TopicError: Error, Sendable, CustomStringConvertible {
        package enum Code: String, Sendable {
            case notFound = "NotFound", tooLarge = "InvalidParameter", invalid = "InvalidParameterValue"
            case overLimit = "LimitExceeded"
        }
        package var code: Code
        package var message: String
        package var description: String { message }
    }

    /// SNS's limit on a published message: 256 KB.
    package static let maxMessageBytes = 262_144

    /// What orders and deduplicates a message published to a FIFO topic.
    package struct Ordering: Sendable {
        package var groupId: String
        /// Within 5 minutes, a second publish with the same id is answered as the first and delivered nowhere.
        package var deduplicationId: String

        package init(groupId: String, deduplicationId: String) {
            self.groupId = groupId
            self.deduplicationId = deduplicationId
        }
    }

    /// An accepted publish: its message id, and on a FIFO topic its sequence number.
    package struct Published: Sendable {
        package var messageId: String
        package var sequenceNumber: String?

        init(messageId: String, sequenceNumber: String? = nil) {
            self.messageId = messageId
            self.sequenceNumber = sequenceNumber
        }
    }

    /// Whether `topic` is a FIFO topic (SNS: the name ends in `.fifo`, which no standard topic's may).
    package static func isFIFO(_ topic: String) -> Bool { topic.hasSuffix(".fifo") }

    /// Whether `name` is a topic name: 1-256 letters, digits, `-` or `_`, a FIFO topic's ending in `.fifo`.
    package static func isValidName(_ name: String) -> Bool {
        isFIFO(name)
            ? QueueConfig.isValidName(String(name.dropLast(5)), maxLength: 251)
            : QueueConfig.isValidName(name, maxLength: 256)
    }

    private let store: any Store
    private let queues: QueueService
    private let topics = Mutex<[String: [Subscription]]>([:])
    /// How long each topic with `archive:` keeps its messages, in milliseconds.
    private let archives = Mutex<[String: Int64]>([:])
    /// What clients set on topics through SNS (`DisplayName`, `Policy`, …), by topic.
    private let attributes = Mutex<[String: [String: String]]>([:])
    /// Creates and subscriptions one at a time (each checks a limit, then writes across an await).
    private let changes = AsyncMutex()

    init(store: any Store, queues: QueueService) {
        self.store = store
        self.queues = queues
    }

    /// Sets which topics keep an archive, and for how long (from the trigger files).
    func setArchives(_ retention: [String: Int64]) {
        archives.withLock { $0 = retention }
    }

    /// How long `topic` keeps its messages (ms), or `nil` when it keeps none.
    package func archiveRetention(of topic: String) -> Int64? {
        archives.withLock { $0[topic] }
    }

    /// Every archive and its retention.
    func allArchives() -> [String: Int64] {
        archives.withLock { $0 }
    }

    /// Loads stored topics and declares those from trigger files (declared subscriptions replace stored ones by id).
    /// Puts the declared topics and subscriptions, then reads every topic, subscription and setting. With
    /// `pruning`, the subscriptions trigger files declared on an earlier run and no longer do are deleted first
    /// (a file edited while the host was stopped: its subscriptions would otherwise stay, some twice).
    func load(declared: [String: [Subscription]], pruning: Bool = false) async throws {
        if pruning {
            let kept = Set(declared.values.joined().map(\.id))
            for topic in try await store.topics() {
                for subscription in try await store.subscriptions(of: topic)
                where Subscription.isDeclared(id: subscription.id, topic: topic) && !kept.contains(subscription.id) {
                    try await store.deleteSubscription(subscription.id)
                }
            }
        }
        for (topic, subscriptions) in declared {
            try await store.putTopic(topic)
            for subscription in subscriptions { try await store.putSubscription(subscription) }
        }
        var loaded: [String: [Subscription]] = [:]
        for topic in try await store.topics() { loaded[topic] = try await store.subscriptions(of: topic) }
        let stored = try await store.topicAttributes()
        topics.withLock { $0 = loaded }
        attributes.withLock { $0 = stored }
    }

    /// Reads topics, subscriptions and topic settings again (another host changed them).
    func refresh() async throws {
        try await changes.withLock { try await load(declared: [:]) }
    }

    /// Applies edited trigger files while the host runs: declared topics and subscriptions are put, and the
    /// subscriptions a file declared before but no longer does are removed (topics stay, with what clients
    /// subscribed to them). Deliveries already committed go on.
    func redeclare(_ declared: [String: [Subscription]]) async throws {
        try await changes.withLock { try await load(declared: declared, pruning: true) }
    }

    /// The settings clients set on `topic`; `nil` when there is no such topic.
    package func attributes(of topic: String) -> [String: String]? {
        stored(topic)?.filter { !$0.key.hasPrefix(Self.tagPrefix) }
    }

    /// The tags clients put on `topic`; `nil` when there is no such topic.
    package func tags(of topic: String) -> [String: String]? {
        guard let stored = stored(topic) else { return nil }
        var tags: [String: String] = [:]
        for (key, value) in stored where key.hasPrefix(Self.tagPrefix) {
            tags[String(key.dropFirst(Self.tagPrefix.count))] = value
        }
        return tags
    }

    /// Tags are kept with a topic's settings, each under `tag:<key>`: no setting's name has a colon.
    private static let tagPrefix = "tag:"

    /// Settings and tags as stored.
    private func stored(_ topic: String) -> [String: String]? {
        guard topics.withLock({ $0[topic] != nil }) else { return nil }
        return attributes.withLock { $0[topic] ?? [:] }
    }

    /// Sets one setting of a topic (`nil` removes it); durable.
    package func setAttribute(_ name: String, _ value: String?, of topic: String) async throws {
        try await change(topic) { $0[name] = value }
    }

    /// Changes one setting of a topic from its current value (`nil`: not set) to what `edit` returns, durably;
    /// concurrent changes of the topic's settings wait, so none is lost.
    package func updateAttribute(_ name: String, of topic: String, _ edit: (String?) throws -> String?) async throws {
        try await change(topic) { stored in stored[name] = try edit(stored[name]) }
    }

    /// Adds (or replaces) and removes tags of a topic; durable. Refused, changing nothing, when the topic would
    /// have more than `limit` tags.
    package func retag(_ topic: String, adding: [String: String], removing: [String], limit: Int) async throws {
        try await change(topic) { stored in
            for (key, value) in adding { stored[Self.tagPrefix + key] = value }
            for key in removing { stored[Self.tagPrefix + key] = nil }
            guard stored.keys.count(where: { $0.hasPrefix(Self.tagPrefix) }) <= limit else {
                throw TopicError(code: .overLimit, message: "a topic can have at most \(limit) tags")
            }
        }
    }

    private func change(_ topic: String, _ edit: (inout [String: String]) throws -> Void) async throws {
        try await changes.withLock {
            guard var current = stored(topic) else {
                throw TopicError(code: .notFound, message: "no topic named '\(topic.prefix(100))'")
            }
            try edit(&current)
            try await store.setTopicAttributes(topic, current)
            attributes.withLock { $0[topic] = current }
        }
    }

    /// Deletes a topic and its subscriptions; deliveries already committed go on.
    package func delete(_ topic: String) async throws {
        try await changes.withLock {
            try await store.deleteTopic(topic)
            topics.withLock { _ = $0.removeValue(forKey: topic) }
            attributes.withLock { _ = $0.removeValue(forKey: topic) }
        }
    }

    /// The subscription with this id, on any topic.
    package func subscription(id: String) -> Subscription? {
        topics.withLock { $0.values.lazy.flatMap { $0 }.first { $0.id == id } }
    }

    /// Removes a subscription; returns whether it existed.
    @discardableResult
    package func unsubscribe(_ id: String) async throws -> Bool {
        try await changes.withLock {
            guard let subscription = subscription(id: id) else { return false }
            try await store.deleteSubscription(id)
            topics.withLock { $0[subscription.topic]?.removeAll { $0.id == id } }
            return true
        }
    }

    package func all() -> [String: [Subscription]] {
        topics.withLock { $0 }
    }

    /// Creates a topic at run time; it survives restarts.
    package func create(_ name: String) async throws {
        guard Self.isValidName(name) else {
            throw TopicError(
                code: .invalid,
                message:
                    "invalid topic name '\(name.prefix(300))'; expected 1-256 letters, digits, '-' or '_' (a FIFO topic's ending in .fifo)"
            )
        }
        try await changes.withLock {
            let (exists, count) = topics.withLock { ($0[name] != nil, $0.count) }
            if exists { return }
            guard count < Limits.topics else {
                throw TopicError(code: .overLimit, message: "this host already has \(Limits.topics) topics, the limit")
            }
            try await store.putTopic(name)
            topics.withLock { if $0[name] == nil { $0[name] = [] } }
        }
    }

    /// Adds a subscription at run time (or replaces the one with its id); it survives restarts.
    ///
    /// With `reusingEndpoint` (SNS's Subscribe), a subscription of the topic to the same endpoint is kept and
    /// returned instead, checked and created under one lock so that concurrent calls make one subscription.
    /// With `queueMayBeMissing` (SNS's Subscribe, which does not check either), a queue that does not exist
    /// (yet) may be subscribed: it gets the messages published once it exists.
    @discardableResult
    package func subscribe(_ subscription: Subscription, reusingEndpoint: Bool = false, queueMayBeMissing: Bool = false)
        async throws -> Subscription
    {
        try await changes.withLock {
            if reusingEndpoint,
                let existing = topics.withLock({ $0[subscription.topic] })?.first(where: {
                    $0.endpoint == subscription.endpoint
                })
            {
                return existing
            }
            try await subscribeLocked(subscription, queueMayBeMissing: queueMayBeMissing)
            return subscription
        }
    }

    private func subscribeLocked(_ subscription: Subscription, queueMayBeMissing: Bool = false) async throws {
        guard let existing = topics.withLock({ $0[subscription.topic] }) else {
            throw TopicError(code: .notFound, message: "no topic named '\(subscription.topic.prefix(100))'")
        }
        guard existing.count < Limits.subscriptionsPerTopic || existing.contains(where: { $0.id == subscription.id })
        else {
            throw TopicError(
                code: .overLimit,
                message:
                    "topic '\(subscription.topic)' already has \(Limits.subscriptionsPerTopic) subscriptions, the limit"
            )
        }
        if case .queue(let name) = subscription.endpoint {
            if !queueMayBeMissing { _ = try queues.require(name) }
        } else if Self.isFIFO(subscription.topic) {
            throw TopicError(
                code: .invalid,
                message: "FIFO topic '\(subscription.topic)' delivers to SQS queues only, as SNS FIFO topics do")
        }
        try await store.putSubscription(subscription)
        topics.withLock { topics in
            topics[subscription.topic]?.removeAll { $0.id == subscription.id }
            topics[subscription.topic]?.append(subscription)
        }
    }

    /// Publishes; answers with the message id only after every matching delivery is committed.
    ///
    /// `perProtocol` (SNS's `MessageStructure: json`) gives another message to subscriptions of a protocol
    /// (`sqs`, `lambda`, `http`, `https`); the others get `message`.
    package func publish(
        to topic: String, message: String, subject: String? = nil, attributes: [String: MessageAttribute] = [:],
        perProtocol: [String: String] = [:]
    ) async throws -> String {
        try await publish(
            to: topic, message: message, subject: subject, attributes: attributes, perProtocol: perProtocol,
            groupId: nil, deduplicationId: nil
        ).messageId
    }

    /// Publishes, to a FIFO topic in message group `groupId`, deduplicated by `deduplicationId` (or with
    /// `ContentBasedDeduplication` by the message's SHA-256): a FIFO queue subscribed gets the message in its
    /// group with that id; a publish with an id seen in the last 5 minutes is answered as the first was and
    /// delivered nowhere. A standard topic takes a group (for SQS's fair queues), not a deduplication id.
    package func publish(
        to topic: String, message: String, subject: String? = nil, attributes: [String: MessageAttribute] = [:],
        perProtocol: [String: String] = [:], groupId: String?, deduplicationId: String?
    ) async throws -> Published {
        guard let subscriptions = topics.withLock({ $0[topic] }) else {
            throw TopicError(code: .notFound, message: "no topic named '\(topic.prefix(100))'")
        }
        let ordering = try ordering(of: topic, message: message, groupId: groupId, deduplicationId: deduplicationId)
        // As SNS counts it: the message and every attribute's name, type and value.
        let attributeBytes = MessageAttribute.size(of: attributes)
        for text in [message] + perProtocol.values where text.utf8.count + attributeBytes > Self.maxMessageBytes {
            throw TopicError(
                code: .tooLarge,
                message:
                    "message and attributes are \(text.utf8.count + attributeBytes) bytes; the limit is \(Self.maxMessageBytes) (256 KB)"
            )
        }
        for text in [message, subject ?? ""] + perProtocol.values where !MessageAttribute.hasAllowedCharacters(text) {
            throw TopicError(
                code: .invalid,
                message:
                    "the message or subject contains characters SNS does not allow (control characters other than tab, line feed and carriage return)"
            )
        }
        if let problem = MessageAttribute.problem(in: attributes, maxCount: .max) {
            throw TopicError(code: .invalid, message: problem)
        }
        let nowMs = queues.nowMs
        let now = Date(timeIntervalSince1970: Double(nowMs) / 1000)
        let publication = MessagingEvents.Publication(
            messageId: RequestID.make(), topic: topic, message: message, subject: subject, attributes: attributes,
            timestamp: now)
        guard let ordering else {
            try await queues.commit(
                committable(publication, perProtocol: perProtocol, to: subscriptions, ordering: nil, nowMs: nowMs))
            return Published(messageId: publication.messageId)
        }
        // The store decides, in the transaction that commits it: a publish whose deduplication id the topic saw in
        // the last 5 minutes (on any host, before any restart) is answered as the first was and delivered nowhere.
        let decided = try await queues.commitFIFOPublish(
            to: topic, deduplicationId: ordering.deduplicationId, messageId: publication.messageId
        ) { sequence in
            var publication = publication
            publication.sequenceNumber = QueueMessage.sequenceNumber(sequence)
            return self.committable(
                publication, perProtocol: perProtocol, to: subscriptions, ordering: ordering, nowMs: nowMs)
        }
        switch decided {
        case .committed(let sequence, _):
            return Published(messageId: publication.messageId, sequenceNumber: QueueMessage.sequenceNumber(sequence))
        case .duplicate(let messageId, let sequence):
            return Published(messageId: messageId, sequenceNumber: QueueMessage.sequenceNumber(sequence))
        }
    }

    /// SNS's rules for the group and deduplication id of a message to `topic` (their errors in SNS's words).
    private func ordering(of topic: String, message: String, groupId: String?, deduplicationId: String?) throws
        -> Ordering?
    {
        guard Self.isFIFO(topic) else {
            guard deduplicationId == nil else {
                throw TopicError(
                    code: .invalid,
                    message:
                        "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type"
                )
            }
            return nil
        }
        guard let groupId, !groupId.isEmpty else {
            throw TopicError(code: .invalid, message: "The MessageGroupId parameter is required for FIFO topics")
        }
        guard
            let deduplication = deduplicationId
                ?? (stored(topic)?["ContentBasedDeduplication"] == "true" ? MessageDigest.sha256(message) : nil)
        else {
            throw TopicError(
                code: .invalid,
                message:
                    "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
            )
        }
        for (name, id) in [("MessageGroupId", groupId), ("MessageDeduplicationId", deduplication)]
        where !QueueConfig.isValidId(id) {
            throw TopicError(
                code: .invalid,
                message: "\(name) Reason: 1 to 128 letters, digits and punctuation (!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~)"
            )
        }
        return Ordering(groupId: groupId, deduplicationId: deduplication)
    }

    /// What a publish commits: its fan-out, and the message itself for a topic with an archive.
    private func committable(
        _ publication: MessagingEvents.Publication, perProtocol: [String: String], to subscriptions: [Subscription],
        ordering: Ordering?, nowMs: Int64
    ) -> [FanOut] {
        var fanOut = fanOut(publication, perProtocol: perProtocol, to: subscriptions, nowMs: nowMs, ordering: ordering)
        if archives.withLock({ $0[publication.topic] != nil }) {
            fanOut.append(
                .archive(
                    ArchivedMessage(
                        topic: publication.topic, messageId: publication.messageId, message: publication.message,
                        subject: publication.subject, attributes: publication.attributes, perProtocol: perProtocol,
                        publishedAtMs: nowMs)))
        }
        return fanOut
    }

    /// What `publication` becomes for each of `subscriptions` whose filter it matches: queue messages and
    /// deliveries, to be committed in one transaction.
    func fanOut(
        _ publication: MessagingEvents.Publication, perProtocol: [String: String], to subscriptions: [Subscription],
        nowMs: Int64, ordering: Ordering? = nil
    ) -> [FanOut] {
        let (topic, message, attributes) = (publication.topic, publication.message, publication.attributes)
        var fanOut: [FanOut] = []
        for subscription in subscriptions {
            var publication = publication
            publication.message = perProtocol[subscription.endpoint.protocolName] ?? message
            let message = publication.message
            guard subscription.matches(body: message, attributes: attributes) else { continue }
            switch subscription.endpoint {
            case .queue(let queue):
                // A queue deleted after it was subscribed gets nothing, as in SNS (the others still do); nor does a
                // raw subscription when the message has more attributes than a queue message may (SNS discards it).
                guard queues.config(queue) != nil else { continue }
                if subscription.raw, attributes.count > Limits.messageAttributes { continue }
                let body =
                    subscription.raw ? message : MessagingEvents.envelope(publication, subscriptionId: subscription.id)
                var outgoing = OutgoingMessage(body: body, attributes: subscription.raw ? attributes : [:])
                if queue.hasSuffix(".fifo"), let ordering {
                    // From a FIFO topic: the publish's group and deduplication id, as SNS passes them to SQS.
                    outgoing.groupId = ordering.groupId
                    outgoing.deduplicationId = ordering.deduplicationId
                } else if queue.hasSuffix(".fifo") {
                    // A FIFO queue's group comes from an attribute (`groupFrom`), else it is the topic's; the message
                    // id deduplicates (a replay is deduplicated within 5 minutes of the publish, as SNS FIFO does).
                    let group = subscription.groupFrom.flatMap { attributes[$0]?.stringValue }
                    outgoing.groupId = String((group ?? topic).prefix(128))
                    // A replay is exactly once by its own transaction: its deliveries are not the publish's duplicates.
                    let replay = attributes[ReplayRunner.attribute].map { ":" + $0.stringValue } ?? ""
                    outgoing.deduplicationId = String((publication.messageId + replay).prefix(128))
                }
                fanOut.append(.queue(queue, outgoing))
            case .function(let function):
                fanOut.append(
                    .delivery(
                        PendingDelivery(
                            source: .subscription(id: subscription.id, topic: topic), target: .function(function),
                            payload: MessagingEvents.snsEvent(publication, subscriptionId: subscription.id),
                            nextAttemptAtMs: nowMs, createdAtMs: nowMs)))
            case .http(let url):
                var delivery = PendingDelivery(
                    source: .subscription(id: subscription.id, topic: topic), target: .http(url),
                    payload: subscription.raw
                        ? message : MessagingEvents.envelope(publication, subscriptionId: subscription.id),
                    nextAttemptAtMs: nowMs, createdAtMs: nowMs, deadLetterQueue: subscription.deadLetterQueue)
                delivery.messageId = publication.messageId
                delivery.raw = subscription.raw
                fanOut.append(.delivery(delivery))
            }
        }
        return fanOut
    }
}

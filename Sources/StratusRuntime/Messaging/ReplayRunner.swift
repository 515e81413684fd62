import Foundation
import Logging
import StratusCore
import StratusStore
import Synchronization

/// Replays of topic archives (`stratus replay`).
///
/// A replay is a durable job: it walks the archive in publish order, a page at a time, and commits each
/// page's queue messages and deliveries together with its own progress in one transaction. A host killed
/// mid-replay resumes after the last committed page: nothing is lost, and no message is delivered twice by
/// the replay itself (deliveries to functions stay at least once, as everywhere). Each message keeps its
/// original `MessageId` and `Timestamp` and carries the attribute `stratus.replay` = the replay's id.
final class ReplayRunner: Sendable {
    /// The message attribute each replayed message carries: the replay's id.
    static let attribute = "stratus.replay"

    private let queues: QueueService
    private let topics: TopicPublisher
    private let logger: Logger
    private let signal: QueueSignal
    private static let key = "replays"
    /// Serializes the runner's page commits with cancels, so that a cancelled replay stays cancelled.
    private let jobs = AsyncMutex()

    init(queues: QueueService, topics: TopicPublisher, logger: Logger) {
        self.queues = queues
        self.topics = topics
        self.logger = logger
        signal = QueueSignal(clock: queues.clock)
    }

    /// Starts replaying `topic`'s messages published in `fromMs..<untilMs` (those archived so far).
    func start(topic: String, fromMs: Int64, untilMs: Int64, target: ReplayJob.Target) async throws -> ReplayJob {
        guard topics.all()[topic] != nil else {
            throw TopicPublisher.TopicError(code: .notFound, message: "no topic named '\(topic.prefix(100))'")
        }
        guard topics.archiveRetention(of: topic) != nil else {
            throw TopicPublisher.TopicError(
                code: .invalid,
                message: "topic '\(topic)' keeps no archive: add `archive: 7d` to it in triggers/*.yaml")
        }
        guard fromMs < untilMs else {
            throw TopicPublisher.TopicError(code: .invalid, message: "the replay's start must come before its end")
        }
        if case .queue(let name) = target, queues.config(name) == nil {
            throw TopicPublisher.TopicError(code: .notFound, message: "no queue named '\(name.prefix(100))'")
        }
        let extent = try await queues.store.archiveExtent(of: topic, fromMs: fromMs, untilMs: untilMs)
        let job = ReplayJob(
            id: RequestID.make(), topic: topic, fromMs: fromMs, untilMs: untilMs, target: target.text,
            lastSeq: extent.lastSeq, total: extent.count, createdAtMs: queues.nowMs)
        try await queues.store.putReplay(job)
        signal.notify(Self.key)
        return job
    }

    /// Looks at the stored replays now (another host started or cancelled one).
    func wake() {
        signal.notify(Self.key)
    }

    /// Cancels a running replay; what it delivered stays delivered. `nil` when there is no such replay.
    func cancel(_ id: String) async throws -> ReplayJob? {
        try await jobs.withLock {
            guard var job = try await queues.store.replay(id: id) else { return nil }
            guard job.status == .running else { return job }
            job.status = .cancelled
            job.finishedAtMs = queues.nowMs
            try await queues.store.putReplay(job)
            return job
        }
    }

    func all() async throws -> [ReplayJob] {
        try await queues.store.replays()
    }

    func run() async {
        while !Task.isCancelled {
            let generation = signal.generation(Self.key)
            var busy = false
            do {
                for id in try await queues.store.runningReplayIds() {
                    try await step(id)
                    busy = true
                }
            } catch {
                logger.warning("replay: \(error); retrying in 1s")
                await signal.wait(Self.key, since: generation, timeout: .seconds(1))
                continue
            }
            // Running replays go on at once (a page each in turn); with none, wait for the next to start.
            if !busy { await signal.wait(Self.key, since: generation, timeout: .seconds(86_400)) }
        }
    }

    /// Delivers the next page of replay `id`, or marks it done.
    private func step(_ id: String) async throws {
        try await jobs.withLock {
            guard var job = try await queues.store.replay(id: id), job.status == .running else { return }
            let nowMs = queues.nowMs
            let page = try await queues.store.archivedMessages(
                of: job.topic, after: job.cursor, through: job.lastSeq, fromMs: job.fromMs, untilMs: job.untilMs,
                limit: Limits.replayPage)
            guard let last = page.last else {
                job.status = .done
                job.finishedAtMs = nowMs
                try await queues.store.putReplay(job)
                return
            }
            let subscriptions: [Subscription]
            switch ReplayJob.Target(text: job.target) ?? .subscriptions {
            case .subscriptions: subscriptions = topics.all()[job.topic] ?? []
            case .queue(let name):
                subscriptions = [Subscription(id: "replay:\(job.id)", topic: job.topic, endpoint: .queue(name))]
            case .function(let name):
                subscriptions = [Subscription(id: "replay:\(job.id)", topic: job.topic, endpoint: .function(name))]
            }
            var writes: [FanOut] = []
            for message in page {
                var attributes = message.attributes
                attributes[Self.attribute] = MessageAttribute(dataType: "String", stringValue: job.id)
                let publication = MessagingEvents.Publication(
                    messageId: message.messageId, topic: message.topic, message: message.message,
                    subject: message.subject, attributes: attributes,
                    timestamp: Date(timeIntervalSince1970: Double(message.publishedAtMs) / 1000))
                writes += topics.fanOut(publication, perProtocol: message.perProtocol, to: subscriptions, nowMs: nowMs)
            }
            writes.append(.replayProgress(id: job.id, cursor: last.seq, delivered: job.delivered + page.count))
            try await queues.commit(writes)
        }
    }
}

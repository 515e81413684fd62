import Foundation
import StratusCore
import StratusStore
import Synchronization

/// Queues as users see them: send, long-polling receive, delete, redrive, counts. State is in the store;
/// this type adds the wake-ups that make long polling answer as soon as a message arrives.
///
/// It is the only way in for queue messages and pending deliveries (sends, topic fan-out, async invokes,
/// dead-lettered deliveries), so that every write wakes whoever waits for it: receivers of a queue, and the
/// delivery scheduler (`deliveriesCommitted`).
package final class QueueService: Sendable {
    /// A request about a queue that cannot be served.
    package struct QueueError: Error, Sendable, CustomStringConvertible {
        package enum Code: String, Sendable {
            case notFound = "QueueDoesNotExist", tooLarge = "MessageTooLong", invalid = "InvalidParameterValue"
            case alreadyExists = "QueueAlreadyExists", overLimit = "OverLimit"
        }
        package var code: Code
        package var message: String
        package var description: String { message }
    }

    let store: any Store
    let clock: any HostClock
    /// Wakes receivers long-polling a queue, by queue name.
    let signal: QueueSignal
    /// Messages received here, and receives of consumers here, per queue (what a hand-off waits for).
    private let received = Mutex<[String: (messages: Int, consumerReceives: Int)]>([:])
    /// Wakes the delivery scheduler when a delivery is committed or one of its attempts ends.
    let deliveriesCommitted: QueueSignal
    static let deliveriesKey = "deliveries"
    /// Wakes the consumer supervisor when a queue's consumer (event source mapping) may have changed.
    let consumersChanged: QueueSignal
    static let consumersKey = "consumers"
    private let configs = Mutex<[String: QueueConfig]>([:])
    /// Set when the host begins to shut down: receives answer with what they have instead of waiting.
    private let draining = Atomic<Bool>(false)
    private let committedTargets = Mutex<Set<String>>([])
    /// Creates and updates one at a time: each reads, checks and writes across awaits.
    private let changes = AsyncMutex()

    init(store: any Store, clock: any HostClock = SystemClock()) {
        self.store = store
        self.clock = clock
        signal = QueueSignal(clock: clock)
        deliveriesCommitted = QueueSignal(clock: clock)
        consumersChanged = QueueSignal(clock: clock)
    }

    /// Loads stored queues and declares those from trigger files (declared settings win). Stored settings
    /// outside `Limits` (written by an older version) are pinned into them.
    /// Puts the declared queues, then reads them all. With `pruning` (at start), a queue a file no longer declares
    /// loses the consumer a file gave it and keeps its messages, as when the file is edited while the host runs.
    func load(declared: [QueueConfig], pruning: Bool = false) async throws {
        let stored = Dictionary(try await store.queues().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        if pruning {
            let names = Set(declared.map(\.name))
            // A consumer without a UUID came from a file (the Lambda API gives its mappings one, `/v1` none).
            for var queue in stored.values
            where !names.contains(queue.name) && queue.consumer.map({ $0.uuid == nil }) == true {
                queue.consumer = nil
                queue.modifiedAtMs = nowMs
                try await store.putQueue(queue)
            }
        }
        for var queue in declared {
            // Declared settings win; what the file cannot say is kept: when the queue was created, and an
            // event source mapping made through the Lambda API on a queue whose file declares no consumer.
            if let previous = stored[queue.name] {
                queue.createdAtMs = previous.createdAtMs
                queue.modifiedAtMs = previous.modifiedAtMs
                if queue.consumer == nil, previous.consumer?.uuid != nil { queue.consumer = previous.consumer }
            } else {
                queue.createdAtMs = nowMs
                queue.modifiedAtMs = nowMs
            }
            try await store.putQueue(queue)
        }
        var all = try await store.queues()
        for (index, queue) in all.enumerated() where queue.clamped() != queue {
            // The store reads these settings too (retention, visibility): it must hold the pinned values.
            all[index] = queue.clamped()
            try await store.putQueue(all[index])
        }
        configs.withLock { configs in for queue in all { configs[queue.name] = queue } }
    }

    /// Applies edited trigger files while the host runs: declared queues take their new settings (messages
    /// stay), and a queue no longer declared keeps its messages but loses the consumer its file gave it.
    /// Pollers whose consumer changed are restarted; each finishes the batch it holds first.
    func redeclare(_ declared: [QueueConfig]) async throws {
        try await changes.withLock { try await load(declared: declared, pruning: true) }
        consumersChanged.notify(Self.consumersKey)
    }

    package func config(_ name: String) -> QueueConfig? {
        configs.withLock { $0[name] }
    }

    package func all() -> [QueueConfig] {
        configs.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }

    /// Creates a queue at run time; it survives restarts. Creating a queue that exists is a no-op when the
    /// settings are the same (returns `false`) and `QueueAlreadyExists` when they differ, as SQS does.
    @discardableResult
    package func create(_ queue: QueueConfig) async throws -> Bool {
        guard QueueConfig.isValidQueueName(queue.name) else {
            throw QueueError(
                code: .invalid,
                message:
                    "invalid queue name '\(queue.name.prefix(100))'; expected 1-80 letters, digits, '-' or '_' (ending in .fifo for a FIFO queue)"
            )
        }
        try check(queue)
        return try await changes.withLock { try await createLocked(queue) }
    }

    private func createLocked(_ queue: QueueConfig) async throws -> Bool {
        if let existing = config(queue.name) {
            guard existing.hasSameAttributes(as: queue) else {
                throw QueueError(
                    code: .alreadyExists,
                    message:
                        "queue '\(queue.name)' already exists with other settings; change them with an update (PATCH /v1/queues/\(queue.name))"
                )
            }
            return false
        }
        guard configs.withLock({ $0.count }) < Limits.queues else {
            throw QueueError(code: .overLimit, message: "this host already has \(Limits.queues) queues, the limit")
        }
        var queue = queue
        queue.createdAtMs = nowMs
        queue.modifiedAtMs = queue.createdAtMs
        try await store.putQueue(queue)
        configs.withLock { $0[queue.name] = queue }
        if queue.consumer != nil { consumersChanged.notify(Self.consumersKey) }
        return true
    }

    /// Deletes a queue and its messages; its receivers answer at once with nothing.
    package func delete(_ name: String) async throws {
        try await changes.withLock {
            _ = try require(name)
            try await store.deleteQueue(name)
            configs.withLock { _ = $0.removeValue(forKey: name) }
        }
        signal.notify(name)
        consumersChanged.notify(Self.consumersKey)
    }

    /// Changes the settings of an existing queue; its messages and its consumer are kept.
    package func update(_ name: String, _ change: (inout QueueConfig) throws -> Void) async throws -> QueueConfig {
        try await changes.withLock {
            let before = try require(name)
            var queue = before
            try change(&queue)
            queue.name = name
            // As SQS's `LastModifiedTimestamp`: the queue's settings, not its consumer (a Lambda mapping) or tags.
            if !queue.hasSameAttributes(as: before) { queue.modifiedAtMs = nowMs }
            try check(queue, deadLetterQueueChanged: queue.deadLetterQueue != before.deadLetterQueue)
            try await store.putQueue(queue)
            configs.withLock { $0[name] = queue }
            signal.notify(name)
            if queue.consumer != before.consumer { consumersChanged.notify(Self.consumersKey) }
            return queue
        }
    }

    /// Settings that would make no sense together: a dead-letter queue that does not exist, or the queue itself.
    private func check(_ queue: QueueConfig, deadLetterQueueChanged: Bool = true) throws {
        guard queue.clamped() == queue else {
            throw QueueError(code: .invalid, message: "queue '\(queue.name)' has a setting outside its limits")
        }
        guard queue.fifo == queue.name.hasSuffix(".fifo") else {
            throw QueueError(
                code: .invalid,
                message: queue.fifo
                    ? "a FIFO queue's name must end in .fifo (got '\(queue.name.prefix(100))')"
                    : "a queue named .fifo must be a FIFO queue (fifo: true, FifoQueue=true)")
        }
        if queue.contentBasedDeduplication, !queue.fifo {
            throw QueueError(code: .invalid, message: "contentBasedDeduplication is for FIFO queues only")
        }
        if let dlq = queue.deadLetterQueue {
            // As SQS: a FIFO queue's dead-letter queue is FIFO too, a standard queue's standard.
            if let target = config(dlq), target.fifo != queue.fifo {
                throw QueueError(
                    code: .invalid,
                    message:
                        "the dead-letter queue of a \(queue.fifo ? "FIFO" : "standard") queue must be \(queue.fifo ? "FIFO" : "standard") too ('\(dlq)' is not)"
                )
            }
            guard dlq != queue.name else {
                throw QueueError(code: .invalid, message: "queue '\(queue.name)' cannot be its own dead-letter queue")
            }
            // A dead-letter queue deleted since it was set does not keep the queue from other changes.
            guard config(dlq) != nil || !deadLetterQueueChanged else {
                throw QueueError(code: .notFound, message: "dead-letter queue '\(dlq)' does not exist")
            }
        }
    }

    /// A message for a FIFO queue has a group and a deduplication id (from its body with content-based
    /// deduplication) and no delay of its own; one for a standard queue has no deduplication id, and its group
    /// (SQS's fair queues) is accepted and not kept: Stratus has one consumer order for standard queues.
    /// A group or deduplication id: 1 to 128 printable ASCII characters, as SQS takes them.
    private static func checkId(_ name: String, _ value: String) throws {
        guard QueueConfig.isValidId(value) else {
            throw QueueError(
                code: .invalid,
                message: "\(name) must be 1-128 printable ASCII characters without spaces (got '\(value.prefix(130))')")
        }
    }

    static func checkFIFO(_ message: inout OutgoingMessage, for queue: QueueConfig) throws {
        guard queue.fifo else {
            if message.deduplicationId != nil {
                throw QueueError(
                    code: .invalid,
                    message:
                        "Value for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type ('\(queue.name)' is standard)."
                )
            }
            if let group = message.groupId { try checkId("MessageGroupId", group) }
            message.groupId = nil
            return
        }
        guard let group = message.groupId else {
            throw QueueError(
                code: .invalid, message: "a message sent to FIFO queue '\(queue.name)' needs a MessageGroupId")
        }
        try checkId("MessageGroupId", group)
        if let id = message.deduplicationId { try checkId("MessageDeduplicationId", id) }
        if message.deduplicationId == nil {
            guard queue.contentBasedDeduplication else {
                throw QueueError(
                    code: .invalid,
                    message:
                        "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly ('\(queue.name)')."
                )
            }
            message.deduplicationId = MessageDigest.sha256(message.body)
        }
        // High-throughput FIFO (`DeduplicationScope: messageGroup`): the same id in two groups is two messages.
        if queue.otherAttributes["DeduplicationScope"] == "messageGroup", let id = message.deduplicationId {
            message.deduplicationKey = group + "\u{1F}" + id
        }
        if message.delayMs != nil {
            throw QueueError(
                code: .invalid,
                message: "a FIFO queue takes no per-message delay; set the queue's delay instead ('\(queue.name)')")
        }
    }

    func require(_ name: String) throws -> QueueConfig {
        guard let queue = config(name) else {
            throw QueueError(code: .notFound, message: "no queue named '\(name.prefix(100))'")
        }
        return queue
    }

    /// Sends messages; answers only after they are committed.
    package func send(_ messages: [OutgoingMessage], to queue: String) async throws -> [SentMessage] {
        let config = try require(queue)
        var messages = messages
        for index in messages.indices { try Self.checkFIFO(&messages[index], for: config) }
        for message in messages {
            if message.body.utf8.count > config.maxMessageBytes {
                throw QueueError(
                    code: .tooLarge,
                    message:
                        "message body is \(message.body.utf8.count) bytes; queue '\(queue)' takes at most \(config.maxMessageBytes)"
                )
            }
            if let problem = MessageAttribute.problem(in: message.attributes) {
                throw QueueError(code: .invalid, message: problem)
            }
            if !MessageAttribute.hasAllowedCharacters(message.body) {
                throw QueueError(
                    code: .invalid,
                    message:
                        "message body contains characters SQS does not allow (control characters other than tab, line feed and carriage return)"
                )
            }
            if let delay = message.delayMs, !Limits.messageDelay.contains(.milliseconds(delay)) {
                throw QueueError(code: .invalid, message: "delay must be between 0s and 15m")
            }
        }
        if config.fifo {
            let ids = try await store.send(messages, to: queue, nowMs: nowMs)
            // A FIFO receiver waiting on busy groups has nothing to gain from a message for a busy group: it is
            // woken when a group frees (a delete, a visibility change) or when a message for a free group arrives.
            if try await store.hasFreeGroup(in: queue, Set(messages.compactMap(\.groupId)), nowMs: nowMs) {
                signal.notify(queue)
            }
            return ids
        }
        // The receivers waiting here that take these messages are woken once they are committed; other hosts'
        // receivers only for what those do not take (one receive per batch, not one per host and receiver).
        let claim = signal.claim(messages.count, of: queue)
        let claimed = claim.capacity
        let ids: [SentMessage]
        do {
            ids = try await store.send(messages, to: queue, nowMs: nowMs, claimed: claimed)
        } catch {
            claim.wake()
            throw error
        }
        claim.wake()
        signal.notify(queue, messages: Swift.max(0, messages.count - claimed))
        return ids
    }

    /// Commits a publish's fan-out, or an async invoke, in one transaction; wakes the receivers of every queue
    /// it wrote to and the delivery scheduler.
    func commit(_ fanOut: [FanOut]) async throws {
        guard !fanOut.isEmpty else { return }
        try await store.commit(fanOut, nowMs: nowMs)
        wake(for: fanOut)
    }

    /// Commits a publish to a FIFO topic unless it is a duplicate (`Store.commitFIFOPublish`), then wakes the
    /// receivers and schedulers of what it committed.
    func commitFIFOPublish(
        to topic: String, deduplicationId: String, messageId: String,
        fanOut: @escaping @Sendable (Int64) throws -> [FanOut]
    ) async throws -> FIFOPublish {
        let decided = try await store.commitFIFOPublish(
            to: topic, deduplicationId: deduplicationId, messageId: messageId, nowMs: nowMs, fanOut: fanOut)
        if case .committed(_, let committed) = decided { wake(for: committed) }
        return decided
    }

    /// Wakes the receivers of the queues and the schedulers of the targets that `fanOut` committed to.
    private func wake(for fanOut: [FanOut]) {
        var queues: Set<String> = []
        var targets: Set<String> = []
        for item in fanOut {
            switch item {
            case .queue(let name, _): queues.insert(name)
            case .delivery(let delivery): targets.insert(delivery.target.name)
            case .schedule, .archive, .replayProgress: break
            }
        }
        for queue in queues { signal.notify(queue) }
        if !targets.isEmpty {
            committedTargets.withLock { $0.formUnion(targets) }
            deliveriesCommitted.notify(Self.deliveriesKey)
        }
    }

    /// Deliveries were committed elsewhere (another host) for `targets`: the scheduler looks at them now.
    func noteCommitted(targets: Set<String>) {
        committedTargets.withLock { $0.formUnion(targets) }
        deliveriesCommitted.notify(Self.deliveriesKey)
    }

    /// Reads every queue's settings again (another host created, changed or deleted queues); consumers follow.
    func refresh() async throws {
        try await changes.withLock {
            let all = try await store.queues()
            let before = configs.withLock { configs in
                defer { configs = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }) }
                return configs
            }
            if before.mapValues(\.consumer)
                != Dictionary(all.map { ($0.name, $0.consumer) }, uniquingKeysWith: { a, _ in a })
            {
                consumersChanged.notify(Self.consumersKey)
            }
            for queue in all where before[queue.name] != queue { signal.notify(queue.name) }
        }
    }

    /// The targets deliveries were committed for since the last call (the scheduler looks at them first).
    func takeCommittedTargets() -> Set<String> {
        committedTargets.withLock { targets in
            defer { targets = [] }
            return targets
        }
    }

    /// Moves a delivery that gave up into `queue` as `message`, in one transaction.
    func deadLetter(_ delivery: PendingDelivery, into queue: String, message: OutgoingMessage) async throws {
        try await store.deadLetterDelivery(delivery.id, into: queue, message: message, nowMs: nowMs)
        signal.notify(queue)
    }

    /// Deletes messages past their queue's retention; returns how many.
    func expire() async throws -> Int {
        try await store.expireMessages(nowMs: nowMs)
    }

    /// Receives up to `max` messages, waiting up to `wait` for the first one to arrive. A consumer passes the
    /// receipt handles of the batch it finished as `deleting`: they are deleted first, in the same round trip;
    /// with `linger`, once a send wakes it or the linger's time is out, so one round trip deletes a batch and
    /// receives the next even when the queue was empty in between.
    package func receive(
        from queue: String, max: Int, visibilityTimeoutMs: Int64? = nil, wait: Duration = .zero, oneGroup: Bool = false,
        deleting: [String] = [], linger: Linger? = nil
    ) async throws -> [QueueMessage] {
        try await receiveBatch(
            from: queue, max: max, visibilityTimeoutMs: visibilityTimeoutMs, wait: wait, oneGroup: oneGroup,
            deleting: deleting, linger: linger
        ).messages
    }

    /// `receive`, and whether the queue ran dry for this receiver: it had to wait for the messages, or left no
    /// visible message behind.
    func receiveBatch(
        from queue: String, max: Int, visibilityTimeoutMs: Int64? = nil, wait: Duration = .zero, oneGroup: Bool = false,
        deleting: [String] = [], linger: Linger? = nil, consumer: Bool = false
    ) async throws -> (messages: [QueueMessage], dry: Bool) {
        let config = try require(queue)
        guard max >= 1 else { throw QueueError(code: .invalid, message: "max must be at least 1") }
        if let visibilityTimeoutMs, !Limits.visibilityTimeout.contains(.milliseconds(visibilityTimeoutMs)) {
            throw QueueError(code: .invalid, message: "visibilityTimeout must be between 0s and 12h")
        }
        var deleting = deleting
        if config.fifo, !deleting.isEmpty {
            _ = try await delete(from: queue, receiptHandles: deleting)
            deleting = []
        }
        if !deleting.isEmpty, let linger, linger.duration > .zero, !isDraining {
            await signal.wait(queue, since: linger.generation, timeout: linger.duration, capacity: max, first: true)
            // Woken by the shutdown: the batch is deleted, nothing more is taken.
            if isDraining {
                _ = try await delete(from: queue, receiptHandles: deleting)
                return ([], true)
            }
        }
        let wait = Swift.min(Swift.max(wait, .zero), Limits.receiveWait.upperBound)
        let deadline = clock.now + wait
        var waited = false
        while true {
            let generation = signal.generation(queue)
            let lookedAt = nowMs
            let (messages, nextVisible) =
                deleting.isEmpty
                ? try await store.receiveOrNextVisible(
                    from: queue, max: max, visibilityTimeoutMs: visibilityTimeoutMs, nowMs: lookedAt, oneGroup: oneGroup
                )
                : try await store.deleteAndReceive(
                    from: queue, deleting: deleting, max: max, visibilityTimeoutMs: visibilityTimeoutMs,
                    nowMs: lookedAt)
            deleting = []
            if !messages.isEmpty || consumer {
                received.withLock { received in
                    received[queue, default: (0, 0)].messages &+= messages.count
                    if consumer { received[queue, default: (0, 0)].consumerReceives &+= 1 }
                }
            }
            let now = clock.now
            if !messages.isEmpty || now >= deadline || Task.isCancelled || isDraining {
                return (messages, waited || (nextVisible.map { $0 > lookedAt } ?? true))
            }
            // Sleep until a send wakes us, a delayed or in-flight message becomes visible, or the wait ends.
            var timeout = deadline - now
            let current = nowMs
            if let next = nextVisible {
                if next > current {
                    timeout = Swift.min(timeout, .milliseconds(next.saturatingSubtract(current)))
                } else if queue.hasSuffix(".fifo") {
                    // Visible but held back by its group: the group frees when a message of it is deleted
                    // (which wakes us) or becomes visible again, the next change of any `visible_at`.
                    if let change = try await store.nextVisibleAtMs(in: queue, after: current) {
                        timeout = Swift.min(timeout, .milliseconds(Swift.max(1, change.saturatingSubtract(current))))
                    }
                } else if next > lookedAt {
                    // It became visible after the look: look again now.
                    timeout = .zero
                } else {
                    // Visible when looked at, yet not handed out: another receiver (another host's) holds it this
                    // instant. Its commit makes it invisible, or it hands it back and wakes us; look again within a
                    // second in case its transaction failed instead.
                    timeout = Swift.min(timeout, .seconds(1))
                }
            }
            await signal.wait(queue, since: generation, timeout: timeout, capacity: max)
            waited = true
        }
    }

    /// How long a consumer whose queue ran dry keeps its finished batch before deleting it, waiting for the
    /// next send: with a shared store, where the delete and the next receive then take one round trip instead of
    /// two. Deletes wait at most this long (a host killed in between has the batch run again: at least once).
    var lingerBeforeDelete: Duration { store is any SharedStore ? .milliseconds(50) : .zero }

    /// A consumer's wait before deleting its finished batch (`lingerBeforeDelete`): until the queue is notified
    /// after `generation` (read when the batch was received), at most `duration`.
    package struct Linger: Sendable {
        var generation: Int
        var duration: Duration
    }

    /// Another host handed this one `messages` of `queue` that its own receivers did not take: wakes receivers
    /// here for them. When those waiting do not take them all, a consumer here that is busy takes them at its next
    /// receive; unless none receives within 100 ms and what was received here falls short (no consumer here, a slow
    /// one, long polls of one message), what is left is passed on to every other host's receivers (`passOn`).
    func handedOff(_ messages: Int, of queue: String, passOn: @escaping @Sendable (Int) async -> Void) {
        let before = received.withLock { $0[queue] ?? (0, 0) }
        guard signal.notify(queue, messages: messages) < messages else { return }
        _ = clock.schedule(after: .milliseconds(100)) {
            let now = self.received.withLock { $0[queue] ?? (0, 0) }
            let since = now.messages &- before.messages
            guard since < messages, now.consumerReceives == before.consumerReceives else { return }
            Task { await passOn(messages - since) }
        }
    }

    /// Whether the host is shutting down (see `endLongPolls`).
    package var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Ends every receive that waits for a message, now and from now on: a shutdown does not wait for them.
    package func endLongPolls() {
        draining.store(true, ordering: .relaxed)
        for queue in all() { signal.notify(queue.name) }
        consumersChanged.notify(Self.consumersKey)
    }

    package func delete(from queue: String, receiptHandles: [String]) async throws -> Int {
        let config = try require(queue)
        let deleted = try await store.delete(from: queue, receiptHandles: receiptHandles)
        // A FIFO group frees when its message in flight is deleted: its next one may be received now.
        if config.fifo, deleted > 0 { signal.notify(queue) }
        return deleted
    }

    package func changeVisibility(in queue: String, receiptHandle: String, timeoutMs: Int64) async throws
        -> VisibilityChange
    {
        _ = try require(queue)
        guard Limits.visibilityTimeout.contains(.milliseconds(timeoutMs)) else {
            throw QueueError(code: .invalid, message: "visibility timeout must be between 0s and 12h")
        }
        let now = nowMs
        // As SQS: a message stays hidden at most 12 hours from the receive that gave the handle.
        let longest = Limits.visibilityTimeout.upperBound.milliseconds
        if let receivedAt = QueueMessage.receivedAtMs(ofReceiptHandle: receiptHandle),
            now.saturatingAdd(timeoutMs).saturatingSubtract(receivedAt) > longest
        {
            throw QueueError(
                code: .invalid,
                message:
                    "Value \(timeoutMs / 1000) for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
            )
        }
        let changed = try await store.changeVisibility(
            in: queue, receiptHandle: receiptHandle, timeoutMs: timeoutMs, nowMs: now)
        if timeoutMs == 0 { signal.notify(queue) }
        return changed
    }

    /// Gives a consumer's batch back without counting the receive.
    func returnUnprocessed(_ messages: [QueueMessage], to queue: String, delayMs: Int64) async throws {
        try await store.returnUnprocessed(
            to: queue, receiptHandles: messages.compactMap(\.receiptHandle), delayMs: delayMs, nowMs: nowMs)
        // Receivers already waiting look again (and sleep until the returned messages are visible).
        signal.notify(queue)
    }

    package func purge(_ queue: String) async throws -> Int {
        _ = try require(queue)
        return try await store.purge(queue)
    }

    package func counts(_ queue: String) async throws -> QueueCounts {
        try await store.counts(of: queue, nowMs: nowMs)
    }

    /// Every queue's counts, in one read.
    package func allCounts() async throws -> [String: QueueCounts] {
        let counts = try await store.countsOfAllQueues(nowMs: nowMs)
        return Dictionary(uniqueKeysWithValues: all().map { ($0.name, counts[$0.name] ?? QueueCounts()) })
    }

    /// How many messages one transaction of a redrive moves: the other writers of the store go between two.
    static let redriveChunk = 1_000

    /// Moves dead-lettered messages back to their source queue (or to `target`): those visible when it starts, in
    /// transactions of `redriveChunk`, so that a large move never holds the store for long.
    package func redrive(from deadLetterQueue: String, to target: String?) async throws -> Int {
        let source = try require(deadLetterQueue)
        if let target {
            let destination = try require(target)
            guard destination.fifo == source.fifo else {
                throw QueueError(
                    code: .invalid, message: "messages move between FIFO queues or between standard queues, not across")
            }
            guard target != deadLetterQueue else {
                throw QueueError(code: .invalid, message: "a queue's messages cannot be moved into the queue itself")
            }
        }
        // At most what was visible at the start: messages dead-lettered meanwhile do not keep the move going.
        let visible = try await counts(deadLetterQueue).visible
        var moved = 0
        while moved < visible {
            let chunk = try await store.redrive(
                from: deadLetterQueue, to: target, nowMs: nowMs, limit: Swift.min(Self.redriveChunk, visible - moved))
            moved += chunk
            for queue in all() { signal.notify(queue.name) }
            if chunk < Self.redriveChunk { break }
        }
        return moved
    }

    /// Epoch milliseconds by the host's clock: the time every stored queue and delivery time is in.
    package var nowMs: Int64 { clock.epochMs }
}

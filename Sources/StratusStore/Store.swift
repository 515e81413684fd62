import Foundation
import StratusCore

/// Which invocation records to return, newest last.
package struct InvocationQuery: Sendable, Equatable {
    package var function: String?
    package var status: InvocationRecord.Status?
    /// Only the attempts of this async event.
    package var eventId: String?
    /// Only the invocation with this request id.
    package var id: String?
    /// Only records that started at or after this time.
    package var since: Date?
    /// Only records stored after this sequence number (for `--follow`).
    package var afterSequence: Int64?
    /// At most this many: the most recent ones, or with `afterSequence` the first ones after it.
    package var limit: Int = 100

    package init(
        function: String? = nil, status: InvocationRecord.Status? = nil, since: Date? = nil,
        afterSequence: Int64? = nil, limit: Int = 100
    ) {
        self.function = function
        self.status = status
        self.since = since
        self.afterSequence = afterSequence
        self.limit = limit
    }
}

/// Deliveries a scheduler does not want to see: those it is running, and those for targets it cannot run more for.
package struct DeliveryExclusion: Sendable, Equatable {
    package var ids: Set<Int64>
    /// Function names and URLs.
    package var targets: Set<String>

    package init(ids: Set<Int64> = [], targets: Set<String> = []) {
        self.ids = ids
        self.targets = targets
    }
}

/// Everything durable Stratus keeps. One SQLite implementation today; the protocol is the seam for others.
package protocol Store: Sendable {
    /// Appends records in one transaction, assigning their sequence numbers.
    func append(_ records: [InvocationRecord]) async throws
    /// Returns matching records in the order they were stored.
    func invocations(matching query: InvocationQuery) async throws -> [InvocationRecord]
    /// Deletes records older than `cutoff`, and all but the newest `keepPerFunction` of each function.
    /// Returns how many were deleted.
    func pruneInvocations(olderThan cutoff: Date, keepPerFunction: Int) async throws -> Int
    /// Appends host events (scaling, throttling) in one transaction.
    func append(events: [HostEvent]) async throws
    /// Returns matching events in the order they were stored (`status` is ignored).
    func events(matching query: InvocationQuery) async throws -> [HostEvent]

    // MARK: Queues (SQS standard semantics). Times are epoch milliseconds passed in by the caller.

    /// Creates the queue or updates its settings; messages are kept.
    func putQueue(_ queue: QueueConfig) async throws
    func queues() async throws -> [QueueConfig]
    /// Deletes a queue and its messages; returns whether it existed.
    @discardableResult
    func deleteQueue(_ name: String) async throws -> Bool
    /// Appends messages in one transaction; returns their message ids (and FIFO sequence numbers), in order.
    func send(_ messages: [OutgoingMessage], to queue: String, nowMs: Int64) async throws -> [SentMessage]
    /// `send`, where this host's own receivers take `claimed` of the messages: a shared store wakes other hosts'
    /// receivers for the rest only.
    func send(_ messages: [OutgoingMessage], to queue: String, nowMs: Int64, claimed: Int) async throws
        -> [SentMessage]
    /// Receives up to `max` visible messages, oldest first, making them invisible for the visibility
    /// timeout (`visibilityTimeoutMs` or the queue's) and counting the receive. A message whose receive
    /// would exceed the queue's `maxReceiveCount` moves to its dead-letter queue instead.
    /// With `oneGroup`, a FIFO queue's receive holds the messages of one group only.
    func receive(from queue: String, max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64, oneGroup: Bool)
        async throws -> [QueueMessage]
    /// `receive`, and the smallest `visible_at` of the queue's messages it left (as `nextVisibleAtMs(in:)`):
    /// what a long poll needs to know how long to sleep, and a consumer whether it emptied the queue, in one round
    /// trip where the store can (`nil`: none left, or, when it received messages, the store did not look).
    func receiveOrNextVisible(from queue: String, max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64, oneGroup: Bool)
        async throws -> (messages: [QueueMessage], nextVisibleAtMs: Int64?)
    /// Deletes messages by receipt handle; returns how many existed.
    func delete(from queue: String, receiptHandles: [String]) async throws -> Int
    /// A consumer's step on a standard queue: deletes its finished batch (`receiptHandles`, as `delete`) and
    /// receives its next one (as `receiveOrNextVisible`), in one round trip where the store can.
    func deleteAndReceive(
        from queue: String, deleting receiptHandles: [String], max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64
    ) async throws -> (messages: [QueueMessage], nextVisibleAtMs: Int64?)
    /// Sets when a received message, still in flight, becomes visible again.
    func changeVisibility(in queue: String, receiptHandle: String, timeoutMs: Int64, nowMs: Int64) async throws
        -> VisibilityChange
    /// Gives received messages back untouched, as if never received: the receive count goes back down
    /// and they are visible again after `delayMs` (a consumer that could not run them, e.g. throttled).
    func returnUnprocessed(to queue: String, receiptHandles: [String], delayMs: Int64, nowMs: Int64) async throws
    /// Deletes every message of the queue; returns how many.
    func purge(_ queue: String) async throws -> Int
    func counts(of queue: String, nowMs: Int64) async throws -> QueueCounts
    /// Every queue's counts in one read; a queue without messages is absent.
    func countsOfAllQueues(nowMs: Int64) async throws -> [String: QueueCounts]
    /// Earliest time a not-yet-visible message of the queue becomes visible (for pollers to sleep until).
    func nextVisibleAtMs(in queue: String) async throws -> Int64?
    /// Whether one of `groups` of a FIFO queue has no message in flight (so its messages may be received).
    func hasFreeGroup(in queue: String, _ groups: Set<String>, nowMs: Int64) async throws -> Bool
    /// The smallest `visible_at` later than `ms`: when the next hidden message shows again.
    func nextVisibleAtMs(in queue: String, after ms: Int64) async throws -> Int64?
    /// Moves up to `limit` of a dead-letter queue's visible messages (the oldest) back to the queue each came
    /// from, or to `target`, as new messages (new ids, after what the destination holds, receive counts at 0), as
    /// SQS's redrive, in one transaction. Returns how many moved.
    func redrive(from deadLetterQueue: String, to target: String?, nowMs: Int64, limit: Int) async throws -> Int
    /// Deletes messages past their queue's retention period; returns how many.
    func expireMessages(nowMs: Int64) async throws -> Int

    // MARK: Topics (SNS semantics)

    func putTopic(_ name: String) async throws
    func topics() async throws -> [String]
    /// Deletes a topic and its subscriptions (committed deliveries stay); returns whether it existed.
    @discardableResult
    func deleteTopic(_ name: String) async throws -> Bool
    /// The settings clients set on each topic (`DisplayName`, …), by topic.
    func topicAttributes() async throws -> [String: [String: String]]
    /// Replaces the settings clients set on a topic.
    func setTopicAttributes(_ name: String, _ attributes: [String: String]) async throws
    /// Deletes a subscription by id; returns whether it existed.
    @discardableResult
    func deleteSubscription(_ id: String) async throws -> Bool
    /// Creates or replaces a subscription (by id).
    func putSubscription(_ subscription: Subscription) async throws
    func subscriptions(of topic: String) async throws -> [Subscription]
    /// Commits a publish: every queue message and pending delivery, in one transaction.
    func commit(_ fanOut: [FanOut], nowMs: Int64) async throws
    /// Commits a publish to FIFO topic `topic` in one transaction, unless `deduplicationId` was published to it in
    /// the last 5 minutes (`QueueConfig.deduplicationIntervalMs`): takes the topic's next sequence number,
    /// remembers the id with `messageId`, and commits what `fanOut` makes with that number. The ids outlive the
    /// host and are shared by the hosts of one database, as SNS's are.
    func commitFIFOPublish(
        to topic: String, deduplicationId: String, messageId: String, nowMs: Int64,
        fanOut: @escaping @Sendable (Int64) throws -> [FanOut]
    ) async throws -> FIFOPublish

    // MARK: Archives and replays

    /// Archived messages of `topic` after `seq` and at most `lastSeq`, published in `fromMs..<untilMs`, in
    /// publish order.
    func archivedMessages(
        of topic: String, after seq: Int64, through lastSeq: Int64, fromMs: Int64, untilMs: Int64, limit: Int
    ) async throws -> [ArchivedMessage]
    /// How many archived messages of `topic` fall in the range, and the archive's last position.
    func archiveExtent(of topic: String, fromMs: Int64, untilMs: Int64) async throws -> (count: Int, lastSeq: Int64)
    /// Deletes `topic`'s archived messages published before `ms`.
    func pruneArchive(of topic: String, before ms: Int64) async throws -> Int
    func putReplay(_ job: ReplayJob) async throws
    /// Every replay, oldest first.
    func replays() async throws -> [ReplayJob]
    func replay(id: String) async throws -> ReplayJob?
    /// The replays still running, oldest first.
    func runningReplayIds() async throws -> [String]

    // MARK: Schedules

    /// Every schedule's state, by name.
    func scheduleStates() async throws -> [ScheduleState]
    /// Writes `states` and deletes the state of every schedule not in `names`, in one transaction.
    func putScheduleStates(_ states: [ScheduleState], keepingOnly names: Set<String>) async throws
    /// Deliveries whose next attempt is due, oldest first, leaving out those `excluding` names (in flight, or
    /// for a target that is busy).
    func dueDeliveries(nowMs: Int64, limit: Int, excluding: DeliveryExclusion) async throws -> [PendingDelivery]
    /// Earliest next attempt of any pending delivery that `excluding` does not name.
    func nextDeliveryAtMs(excluding: DeliveryExclusion) async throws -> Int64?
    /// Every function name or URL some pending delivery is for.
    func deliveryTargets() async throws -> Set<String>
    /// `target`'s deliveries due at `nowMs`, oldest first, but those in `excludingIds`; and, when fewer than
    /// `limit` are due, the earliest next attempt of its others (when the scheduler should look again).
    func dueDeliveries(
        for target: String, nowMs: Int64, limit: Int, excludingIds: Set<Int64>
    ) async throws -> (due: [PendingDelivery], nextAtMs: Int64?)
    /// Removes a delivery that succeeded or gave up.
    func finishDelivery(_ id: Int64) async throws
    /// Records a failed attempt and when to try again.
    func rescheduleDelivery(_ id: Int64, attempts: Int, nextAttemptAtMs: Int64) async throws
    /// Gives a delivery up into a queue (its dead-letter queue) in one transaction.
    func deadLetterDelivery(_ id: Int64, into queue: String, message: OutgoingMessage, nowMs: Int64) async throws
}

extension Store {
    package func receiveOrNextVisible(
        from queue: String, max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64, oneGroup: Bool
    ) async throws -> (messages: [QueueMessage], nextVisibleAtMs: Int64?) {
        let messages = try await receive(
            from: queue, max: max, visibilityTimeoutMs: visibilityTimeoutMs, nowMs: nowMs, oneGroup: oneGroup)
        guard messages.isEmpty else { return (messages, nil) }
        return ([], try await nextVisibleAtMs(in: queue))
    }

    package func send(_ messages: [OutgoingMessage], to queue: String, nowMs: Int64, claimed: Int) async throws
        -> [SentMessage]
    {
        try await send(messages, to: queue, nowMs: nowMs)
    }

    package func deleteAndReceive(
        from queue: String, deleting receiptHandles: [String], max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64
    ) async throws -> (messages: [QueueMessage], nextVisibleAtMs: Int64?) {
        _ = try await delete(from: queue, receiptHandles: receiptHandles)
        return try await receiveOrNextVisible(
            from: queue, max: max, visibilityTimeoutMs: visibilityTimeoutMs, nowMs: nowMs, oneGroup: false)
    }

    /// Every due delivery, oldest first.
    package func receive(from queue: String, max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64) async throws
        -> [QueueMessage]
    {
        try await receive(
            from: queue, max: max, visibilityTimeoutMs: visibilityTimeoutMs, nowMs: nowMs, oneGroup: false)
    }

    package func dueDeliveries(nowMs: Int64, limit: Int) async throws -> [PendingDelivery] {
        try await dueDeliveries(nowMs: nowMs, limit: limit, excluding: DeliveryExclusion())
    }

    /// Earliest next attempt of any pending delivery.
    package func nextDeliveryAtMs() async throws -> Int64? {
        try await nextDeliveryAtMs(excluding: DeliveryExclusion())
    }
}

/// A change another host committed that this host's waiters must hear of.
package enum StoreChange: Sendable, Equatable {
    /// A queue got messages to look at (or a FIFO group was freed): `messages` of them, when the sender said
    /// how many its own receivers would not take (`nil`: wake every receiver). A sender hands such messages to one
    /// other host (`handedOff`), which passes them on to every host when none of its receivers takes them.
    case queue(String, messages: Int? = nil, handedOff: Bool = false)
    /// A function or URL got deliveries.
    case deliveries(target: String)
    /// Queues, topics or subscriptions were created, changed or deleted.
    case definitions
    /// A replay was started or cancelled.
    case replays
    /// A function was deployed or rolled back with `stratus deploy`.
    case deployments
    /// Changes may have been missed (the listening connection was lost): look at everything again.
    case resync
}

/// A store several hosts share (PostgreSQL): the news of other hosts' writes, leases on deliveries, heartbeats
/// and one leader among them.
package protocol SharedStore: Store {
    /// This host's name in leases, heartbeats and the invocation log.
    var hostId: String { get }
    /// How long a delivery stays leased to a host that stopped renewing it.
    var leaseMs: Int64 { get }
    /// Calls `handle` with every change other hosts commit, until the task is cancelled; a lost connection is
    /// reconnected with backoff and reported as `.resync`.
    func watchChanges(_ handle: @escaping @Sendable (StoreChange) -> Void) async
    /// Holds the leadership whenever this host can get it, calling `changed` as it is won and lost (at most one
    /// host holds it at a time); returns when the task is cancelled, having given it up.
    func campaign(_ changed: @escaping @Sendable (Bool) -> Void) async
    /// Records this host alive and renews its delivery leases.
    func heartbeat(nowMs: Int64, startedAtMs: Int64, control: String?, leader: Bool) async throws
    /// Every host that announced itself, most recent heartbeat first.
    func hosts() async throws -> [ClusterHost]
    /// Removes this host from the list (a clean shutdown); its leases go back at once.
    func leave() async throws
    /// Wakes every other host's receivers for `messages` of `queue` handed to this host that it cannot take.
    func passOn(_ messages: Int, of queue: String) async throws

    /// Keeps a deployed revision (the archive `stratus deploy` uploaded) and makes it the function's live one.
    func putDeployment(_ name: String, revision: String, archive: [UInt8], source: String, nowMs: Int64)
        async throws
    /// Makes a kept revision live again (a rollback).
    func setLiveDeployment(_ name: String, revision: String) async throws
    /// Every deployed function's live revision and where it came from.
    func liveDeployments() async throws -> [SharedDeployment]
    /// A function's kept revisions, oldest deploy first.
    func deploymentRevisions(_ name: String) async throws -> [SharedDeployment]
    /// The archive of a kept revision.
    func deploymentArchive(_ name: String, revision: String) async throws -> [UInt8]?
}

/// A function deployed to the hosts sharing a store, at its live revision.
package struct SharedDeployment: Sendable, Equatable {
    package var name: String
    package var revision: String
    package var source: String

    package init(name: String, revision: String, source: String) {
        self.name = name
        self.revision = revision
        self.source = source
    }
}

/// A publish to a FIFO topic, as `Store.commitFIFOPublish` decided it.
package enum FIFOPublish: Sendable, Equatable {
    /// Committed, with the topic's next sequence number: what `fanOut` made of it.
    case committed(sequence: Int64, fanOut: [FanOut])
    /// The deduplication id was published within the last 5 minutes: that publish's message id and sequence
    /// number. Nothing was committed.
    case duplicate(messageId: String, sequence: Int64)

    /// The key a FIFO topic's sequence numbers and deduplication ids are kept under, next to the FIFO queues'
    /// (no queue name has a `:`).
    package static func key(of topic: String) -> String { "topic:" + topic }
}

import Foundation
import StratusCore
import StratusStore
import Synchronization

/// Queues as users see them: send, long-polling receive, delete, redrive, counts. State is in the store;
/// this type adds the wake-ups that make long polling answer as soon as a message arrives.
public final class QueueService: Sendable {
    /// A request about a queue that cannot be served.
    public struct QueueError: Error, Sendable, CustomStringConvertible {
        public enum Code: String, Sendable { case notFound = "QueueDoesNotExist", tooLarge = "MessageTooLong", invalid = "InvalidParameterValue" }
        public var code: Code
        public var message: String
        public var description: String { message }
    }

    let store: any Store
    let signal = QueueSignal()
    private let configs = Mutex<[String: QueueConfig]>([:])

    init(store: any Store) {
        self.store = store
    }

    /// Loads stored queues and declares those from trigger files (declared settings win).
    func load(declared: [QueueConfig]) async throws {
        for queue in declared { try await store.putQueue(queue) }
        let all = try await store.queues()
        configs.withLock { configs in for queue in all { configs[queue.name] = queue } }
    }

    public func config(_ name: String) -> QueueConfig? {
        configs.withLock { $0[name] }
    }

    public func all() -> [QueueConfig] {
        configs.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }

    /// Creates a queue at run time; it survives restarts.
    public func create(_ queue: QueueConfig) async throws {
        guard QueueConfig.isValidName(queue.name) else {
            throw QueueError(code: .invalid, message: "invalid queue name '\(queue.name)'; expected 1-80 letters, digits, '-' or '_'")
        }
        try await store.putQueue(queue)
        configs.withLock { $0[queue.name] = queue }
    }

    func require(_ name: String) throws -> QueueConfig {
        guard let queue = config(name) else { throw QueueError(code: .notFound, message: "no queue named '\(name)'") }
        return queue
    }

    /// Sends messages; answers only after they are committed.
    public func send(_ messages: [OutgoingMessage], to queue: String) async throws -> [String] {
        _ = try require(queue)
        for message in messages where message.body.utf8.count > QueueConfig.maxMessageBytes {
            throw QueueError(code: .tooLarge, message: "message body is \(message.body.utf8.count) bytes; the limit is \(QueueConfig.maxMessageBytes) (1 MiB)")
        }
        let ids = try await store.send(messages, to: queue, nowMs: Self.nowMs())
        signal.notify(queue)
        return ids
    }

    /// Receives up to `max` messages, waiting up to `wait` for the first one to arrive.
    public func receive(from queue: String, max: Int, visibilityTimeoutMs: Int64? = nil, wait: Duration = .zero) async throws -> [QueueMessage] {
        _ = try require(queue)
        let deadline = ContinuousClock.now + wait
        while true {
            let generation = signal.generation(queue)
            let messages = try await store.receive(from: queue, max: max, visibilityTimeoutMs: visibilityTimeoutMs, nowMs: Self.nowMs())
            let now = ContinuousClock.now
            if !messages.isEmpty || now >= deadline || Task.isCancelled { return messages }
            // Sleep until a send wakes us, a delayed or in-flight message becomes visible, or the wait ends.
            var timeout = deadline - now
            if let next = try await store.nextVisibleAtMs(in: queue) {
                timeout = Swift.min(timeout, .milliseconds(Swift.max(1, next - Self.nowMs())))
            }
            await signal.wait(queue, since: generation, timeout: timeout)
        }
    }

    public func delete(from queue: String, receiptHandles: [String]) async throws -> Int {
        _ = try require(queue)
        return try await store.delete(from: queue, receiptHandles: receiptHandles)
    }

    public func changeVisibility(in queue: String, receiptHandle: String, timeoutMs: Int64) async throws -> Bool {
        _ = try require(queue)
        let changed = try await store.changeVisibility(in: queue, receiptHandle: receiptHandle, timeoutMs: timeoutMs, nowMs: Self.nowMs())
        if timeoutMs == 0 { signal.notify(queue) }
        return changed
    }

    /// Gives a consumer's batch back without counting the receive.
    func returnUnprocessed(_ messages: [QueueMessage], to queue: String, delayMs: Int64) async throws {
        try await store.returnUnprocessed(
            to: queue, receiptHandles: messages.compactMap(\.receiptHandle), delayMs: delayMs, nowMs: Self.nowMs())
    }

    public func purge(_ queue: String) async throws -> Int {
        _ = try require(queue)
        return try await store.purge(queue)
    }

    public func counts(_ queue: String) async throws -> QueueCounts {
        try await store.counts(of: queue, nowMs: Self.nowMs())
    }

    /// Moves dead-lettered messages back to their source queue (or to `target`).
    public func redrive(from deadLetterQueue: String, to target: String?) async throws -> Int {
        _ = try require(deadLetterQueue)
        if let target { _ = try require(target) }
        let moved = try await store.redrive(from: deadLetterQueue, to: target, nowMs: Self.nowMs())
        for queue in all() { signal.notify(queue.name) }
        return moved
    }

    static func nowMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}

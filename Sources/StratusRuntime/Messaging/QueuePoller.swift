import Foundation
import Logging
import NIOCore
import StratusCore

/// An event source mapping: long-polls a queue and invokes its consumer function with SQS event batches.
/// A batch is deleted when the function succeeds (all but the `batchItemFailures` it reports); otherwise
/// it reappears after the visibility timeout, and the queue's redrive policy dead-letters poison messages.
final class QueuePoller: Sendable {
    let queue: QueueConfig
    private let consumer: QueueConfig.Consumer
    private let queues: QueueService
    private let dispatcher: Dispatcher
    private let logger: Logger

    init?(queue: QueueConfig, queues: QueueService, dispatcher: Dispatcher, logger: Logger) {
        guard let consumer = queue.consumer else { return nil }
        self.queue = queue
        self.consumer = consumer
        self.queues = queues
        self.dispatcher = dispatcher
        self.logger = logger
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<consumer.maxConcurrency { group.addTask { await self.loop() } }
        }
    }

    private func loop() async {
        while !Task.isCancelled {
            // An open breaker pauses consumption: no receive, so no receive count is spent on the outage.
            if !dispatcher.breakerAllows(consumer.function) {
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            do {
                var batch = try await queues.receive(from: queue.name, max: consumer.batchSize, wait: .seconds(2))
                if consumer.batchWindowMs > 0, !batch.isEmpty, batch.count < consumer.batchSize {
                    let deadline = ContinuousClock.now + .milliseconds(consumer.batchWindowMs)
                    while batch.count < consumer.batchSize, ContinuousClock.now < deadline, !Task.isCancelled {
                        batch += try await queues.receive(
                            from: queue.name, max: consumer.batchSize - batch.count, wait: deadline - ContinuousClock.now)
                    }
                }
                guard !batch.isEmpty else { continue }
                try await process(batch)
            } catch is CancellationError {
                return
            } catch {
                logger.error("queue consumer failed", metadata: ["queue": "\(queue.name)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func process(_ batch: [QueueMessage]) async throws {
        let event = MessagingEvents.sqsEvent(batch)
        let result: Dispatcher.Result
        do {
            result = try await dispatcher.invoke(
                consumer.function, payload: ByteBuffer(bytes: event), origin: .init(trigger: "queue", source: queue.name))
        } catch {
            logger.error("consumer function is not loaded", metadata: ["queue": "\(queue.name)", "function": "\(consumer.function)"])
            try await Task.sleep(for: .seconds(5))
            return
        }
        switch result.record.status {
        case .ok: break
        case .throttled, .rejected:
            // Not the function's fault: give the batch back without spending a receive, and back off.
            try await queues.returnUnprocessed(batch, to: queue.name, delayMs: 1000)
            try await Task.sleep(for: .seconds(1))
            return
        case .error, .timeout, .crashed:
            return  // the batch reappears after its visibility timeout
        }
        guard let failed = Self.failedItems(in: result.payload, batch: batch) else { return }
        let handles = batch.filter { !failed.contains($0.id) }.compactMap(\.receiptHandle)
        if !handles.isEmpty { _ = try await queues.delete(from: queue.name, receiptHandles: handles) }
    }

    /// The ids in `batchItemFailures`; an empty set on plain success; `nil` when the response makes the
    /// whole batch a failure (an id not in the batch, a malformed entry), as Lambda treats it.
    static func failedItems(in payload: ByteBuffer, batch: [QueueMessage]) -> Set<String>? {
        guard payload.readableBytes > 0, payload.getInteger(at: payload.readerIndex, as: UInt8.self) == UInt8(ascii: "{") else {
            return []
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload.readableBytesView)) as? [String: Any] else {
            return []
        }
        guard let failures = object["batchItemFailures"], !(failures is NSNull) else { return [] }
        guard let list = failures as? [[String: Any]] else { return nil }
        let ids = Set(batch.map(\.id))
        var failed: Set<String> = []
        for entry in list {
            guard let id = entry["itemIdentifier"] as? String, ids.contains(id) else { return nil }
            failed.insert(id)
        }
        return failed
    }
}

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
    private let filter: EventFilter
    private let queues: QueueService
    private let dispatcher: Dispatcher
    private let log: InvocationLog
    private let logger: Logger

    init?(queue: QueueConfig, queues: QueueService, dispatcher: Dispatcher, log: InvocationLog, logger: Logger) {
        guard let consumer = queue.consumer else { return nil }
        self.queue = queue
        self.consumer = consumer
        // Patterns were checked when the mapping was made; if they no longer parse, nothing is filtered out.
        do {
            filter = try EventFilter(patterns: consumer.filterPatterns)
        } catch {
            logger.warning(
                "queue consumer's filters no longer parse: every message goes to the function",
                metadata: ["queue": "\(queue.name)", "error": "\(error)"])
            filter = EventFilter()
        }
        self.queues = queues
        self.dispatcher = dispatcher
        self.log = log
        self.logger = logger
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<consumer.maxConcurrency { group.addTask { await self.loop() } }
        }
    }

    private func loop() async {
        // The receipt handles of the batch last run: deleted by the next receive, in its round trip, or on their
        // own before the consumer pauses or stops.
        var finished: [String] = []
        var linger: QueueService.Linger?
        while !Task.isCancelled && !queues.isDraining {
            // A consumer whose function is not loaded takes nothing: no receive, so no receive count is spent
            // and nothing moves to the dead-letter queue while the function is broken or gone.
            if dispatcher.function(named: consumer.function) == nil {
                await delete(&finished)
                await waitForFunction()
                continue
            }
            // An open breaker pauses consumption until its next probe: no receive count is spent on the outage.
            if let probeAtMs = dispatcher.blockedFunctions()[consumer.function] {
                await delete(&finished)
                let wait = max(50, min(probeAtMs - queues.nowMs, 60_000))
                try? await queues.clock.sleep(for: .milliseconds(wait))
                continue
            }
            do {
                // A FIFO queue's batch is one group's messages in order; groups run in parallel, one per loop.
                var (batch, dry) = try await queues.receiveBatch(
                    from: queue.name, max: consumer.batchSize, wait: .seconds(20), oneGroup: queue.fifo,
                    deleting: finished, linger: linger, consumer: true)
                finished = []
                linger = nil
                let receivedAt = queues.clock.now
                // Read after the receive: a send a receiver elsewhere took meanwhile does not end the linger.
                var generation = queues.signal.generation(queue.name)
                if consumer.batchWindowMs > 0, !queue.fifo, !batch.isEmpty, batch.count < consumer.batchSize {
                    let deadline = queues.clock.now + .milliseconds(consumer.batchWindowMs)
                    while batch.count < consumer.batchSize, queues.clock.now < deadline, !Task.isCancelled {
                        let more = try await queues.receiveBatch(
                            from: queue.name, max: consumer.batchSize - batch.count, wait: deadline - queues.clock.now,
                            consumer: true)
                        batch += more.messages
                        dry = more.dry
                        generation = queues.signal.generation(queue.name)
                    }
                }
                guard !batch.isEmpty else { continue }
                // Not cancelled with the consumer: a batch that was received is run and given back whatever
                // happens to the host, so a shutdown never spends a receive for nothing.
                finished = try await Task { [batch] in try await self.process(batch) }.value
                // When the queue ran dry the batch is kept a moment, to be deleted with the next receive once a
                // send comes; never past half of its visibility left.
                let visibleAgain = receivedAt + .milliseconds(queue.visibilityTimeoutMs)
                let lingering = min(queues.lingerBeforeDelete, (visibleAgain - queues.clock.now) / 2)
                if dry, lingering > .zero {
                    linger = .init(generation: generation, duration: lingering)
                }
            } catch is CancellationError {
                break
            } catch {
                logger.error("queue consumer failed", metadata: ["queue": "\(queue.name)", "error": "\(error)"])
                try? await queues.clock.sleep(for: .seconds(1))
            }
        }
        await delete(&finished)
    }

    /// Deletes a finished batch now (not cancelled with the consumer); on failure its messages reappear after
    /// their visibility timeout, as any batch whose delete failed.
    private func delete(_ finished: inout [String]) async {
        guard !finished.isEmpty else { return }
        let handles = finished
        finished = []
        do {
            _ = try await Task { [queues, queue] in try await queues.delete(from: queue.name, receiptHandles: handles) }
                .value
        } catch {
            logger.error(
                "deleting a consumed batch failed", metadata: ["queue": "\(queue.name)", "error": "\(error)"])
        }
    }

    /// Pauses until the consumer's function is loaded, saying so once (on the serve output and as an event).
    private func waitForFunction() async {
        let function = consumer.function
        let (first, generation) = dispatcher.notePaused(consumer: queue.name, function: function)
        if dispatcher.function(named: function) != nil { return }
        if first {
            let message =
                "queue \(queue.name): consumer paused, function '\(function)' is not loaded; messages stay in the queue"
            logger.warning("\(message)")
            log.record(event: HostEvent(function: function, kind: .paused, message: message))
        }
        await dispatcher.waitForInstall(of: function, since: generation)
        if dispatcher.function(named: function) != nil, dispatcher.noteResumed(consumer: queue.name) {
            log.record(
                event: HostEvent(
                    function: function, kind: .resumed,
                    message: "queue \(queue.name): consumer resumed, '\(function)' is loaded"))
        }
    }

    /// Runs a batch; returns the receipt handles of the messages to delete (those that succeeded).
    private func process(_ batch: [QueueMessage]) async throws -> [String] {
        // Messages no filter matches are deleted unseen, as Lambda's event filtering does (even when the run of
        // the others fails).
        let keeps = filter.keeps(batch)
        let filteredOut = zip(batch, keeps).filter { !$0.1 }.compactMap(\.0.receiptHandle)
        guard !filteredOut.isEmpty else { return try await run(batch) }
        let kept = zip(batch, keeps).filter(\.1).map(\.0)
        guard !kept.isEmpty else { return filteredOut }
        do {
            return try await run(kept) + filteredOut
        } catch {
            var handles = filteredOut
            await delete(&handles)
            throw error
        }
    }

    /// Invokes the function with `batch`; returns the receipt handles of the messages to delete.
    private func run(_ batch: [QueueMessage]) async throws -> [String] {
        // An invocation payload is at most 6 MB, as Lambda's: what does not fit goes back, unspent, for the next batch.
        var fitting = batch
        var event = MessagingEvents.sqsEvent(batch)
        if event.count > Limits.syncPayloadBytes {
            let rest: [QueueMessage]
            (fitting, rest) = Self.split(batch, limit: Limits.syncPayloadBytes)
            try await queues.returnUnprocessed(rest, to: queue.name, delayMs: 0)
            event = MessagingEvents.sqsEvent(fitting)
        }
        let result: Dispatcher.Result
        do {
            result = try await dispatcher.invoke(
                consumer.function, payload: ByteBuffer(bytes: event), origin: .init(trigger: .queue, source: queue.name)
            )
        } catch {
            // The function went away between the check and the call: give the batch back unspent.
            try await queues.returnUnprocessed(fitting, to: queue.name, delayMs: 0)
            return []
        }
        if result.abortedByHost {
            // The host stopped while it ran: give the batch back as it was, for the next host.
            try await queues.returnUnprocessed(fitting, to: queue.name, delayMs: 0)
            return []
        }
        switch result.record.status {
        case .ok: break
        case .rejected:
            // The breaker opened while this batch was on its way: give it back as it was (visible, no receive
            // spent); the consumer now pauses until the breaker's next probe.
            try await queues.returnUnprocessed(fitting, to: queue.name, delayMs: 0)
            return []
        case .throttled:
            // Not the function's fault: give the batch back without spending a receive, and back off.
            try await queues.returnUnprocessed(fitting, to: queue.name, delayMs: 1000)
            try? await queues.clock.sleep(for: .seconds(1))
            return []
        case .error, .timeout, .crashed:
            return []  // the batch reappears after its visibility timeout
        }
        // Without `ReportBatchItemFailures` Lambda reads nothing of the answer: a success deletes the batch.
        let reported =
            consumer.reportBatchItemFailures
            ? Self.failedItems(in: result.payload, batch: fitting, strict: consumer.uuid != nil) : []
        guard let failed = reported else { return [] }
        // As Lambda, on FIFO queues too: what is not reported is deleted; what is reported reappears after its
        // visibility timeout, its receive spent. A FIFO function must report the failed message and every later
        // one (Lambda's advice): those left in flight hold their group, in order, and ride along to the
        // dead-letter queue when their receives run out, as on AWS.
        let succeeded = fitting.filter { !failed.contains($0.id) }
        return succeeded.compactMap(\.receiptHandle)
    }

    /// The longest prefix of `batch` whose SQS event stays under `limit` bytes (at least one message), and the rest.
    static func split(_ batch: [QueueMessage], limit: Int) -> (fitting: [QueueMessage], rest: [QueueMessage]) {
        var count = batch.count
        while count > 1, MessagingEvents.sqsEvent(Array(batch.prefix(count))).count > limit {
            count = max(1, count / 2)
        }
        return (Array(batch.prefix(count)), Array(batch.dropFirst(count)))
    }

    /// The ids in `batchItemFailures`; an empty set on plain success; `nil` when the response makes the
    /// whole batch a failure (an id not in the batch, a malformed entry), as Lambda treats it.
    ///
    /// `strict` (a mapping made through the API with `ReportBatchItemFailures`): an answer that is not JSON fails
    /// the whole batch, as Lambda's. A consumer declared in a trigger file always reads `batchItemFailures` (it has
    /// no switch for it), so there such an answer (a custom runtime's `ok`) is a success.
    static func failedItems(in payload: ByteBuffer, batch: [QueueMessage], strict: Bool = true) -> Set<String>? {
        let bytes = payload.readableBytesView
        guard bytes.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return [] }  // empty: success
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
            return strict ? nil : []
        }
        guard let object = value as? [String: Any] else {
            return []  // any other JSON (null, a string, a list) is a success
        }
        guard let failures = object["batchItemFailures"], !(failures is NSNull) else { return [] }
        guard let list = failures as? [Any] else { return nil }
        let ids = Set(batch.map(\.id))
        var failed: Set<String> = []
        for entry in list {
            guard let item = entry as? [String: Any], let id = item["itemIdentifier"] as? String, ids.contains(id)
            else {
                return nil
            }
            failed.insert(id)
        }
        return failed
    }
}

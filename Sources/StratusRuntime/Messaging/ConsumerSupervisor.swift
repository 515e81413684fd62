import Logging
import StratusCore

/// Runs one `QueuePoller` per queue that has an enabled consumer, and follows changes while the host runs:
/// a mapping created, updated, disabled or deleted through the Lambda API, or a queue deleted, starts,
/// restarts or stops its poller. A poller that stops finishes the batch it holds (see `QueuePoller`).
final class ConsumerSupervisor: Sendable {
    private let queues: QueueService
    private let makePoller: @Sendable (QueueConfig) -> QueuePoller?

    init(queues: QueueService, makePoller: @escaping @Sendable (QueueConfig) -> QueuePoller?) {
        self.queues = queues
        self.makePoller = makePoller
    }

    /// Until cancelled: wakes on every consumer change, never on a timer.
    func run() async {
        var running: [String: (consumer: QueueConfig.Consumer, task: Task<Void, Never>)] = [:]
        let key = QueueService.consumersKey
        while !Task.isCancelled {
            let generation = queues.consumersChanged.generation(key)
            var wanted: [String: QueueConfig] = [:]
            for queue in queues.all() {
                if let consumer = queue.consumer, consumer.enabled { wanted[queue.name] = queue }
            }
            for (name, entry) in running where wanted[name]?.consumer != entry.consumer {
                entry.task.cancel()
                running[name] = nil
            }
            for (name, queue) in wanted where running[name] == nil {
                guard let poller = makePoller(queue), let consumer = queue.consumer else { continue }
                running[name] = (consumer, Task { await poller.run() })
            }
            await queues.consumersChanged.wait(key, since: generation, timeout: .seconds(86_400))
        }
        for entry in running.values { entry.task.cancel() }
        for entry in running.values { await entry.task.value }
    }
}

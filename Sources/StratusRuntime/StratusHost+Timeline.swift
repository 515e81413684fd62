import Foundation
import StratusCore

extension StratusHost {
    /// Samples workers and queue depths into the dashboard's timeline once a bucket (10 s) while anything
    /// happens. After a bucket with no invocation, host event or queue write it takes one last sample and then
    /// waits for the next one, so a quiet host is not woken (the timeline carries the last depths forward).
    func sampleTimeline() async {
        while !Task.isCancelled {
            let before = activity
            await sampleTimelineNow()
            try? await Task.sleep(for: .seconds(Timeline.bucketSeconds))
            let after = activity
            guard !Task.isCancelled, after == before else { continue }
            await sampleTimelineNow()
            // What happened during that sample wakes the loop at once.
            await waitForActivity(since: after)
        }
    }

    /// Samples now.
    func sampleTimelineNow() async {
        sampleTimeline(queues: (try? await queues.allCounts()) ?? [:])
    }

    /// Samples the workers now, with queue counts just read (the dashboard samples on every read, so that what
    /// it shows is current).
    package func sampleTimeline(queues depths: [String: QueueCounts]) {
        var workers: [String: Int] = [:]
        for pool in dispatcher.allPools() { workers[pool.function.name] = pool.snapshot.total }
        log.timeline.sample(
            workers: workers,
            queues: depths.mapValues { .init(visible: $0.visible, inFlight: $0.inFlight, delayed: $0.delayed) })
    }

    /// Commits to the log and writes to queues so far.
    private var activity: [Int] { [log.commitGeneration, queues.signal.generation(QueueSignal.anyName)] }

    private func waitForActivity(since generations: [Int]) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.log.waitForCommit(since: generations[0], timeout: .seconds(86_400)) }
            group.addTask {
                await self.queues.signal.wait(QueueSignal.anyName, since: generations[1], timeout: .seconds(86_400))
            }
            await group.next()
            group.cancelAll()
        }
    }
}

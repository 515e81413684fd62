import Foundation
import StratusTesting
import Synchronization
import Testing

/// Nothing acknowledged is lost: the host is killed with SIGKILL mid-load, restarted, and every
/// acknowledged message is counted at the consumer.
@Suite(.serialized) struct DurabilityTests {
    /// The host currently running, replaced after each kill.
    final class Current: Sendable {
        let host: Mutex<ServeProcess>
        init(_ host: ServeProcess) { self.host = Mutex(host) }
        var url: String { host.withLock { $0.controlURL } }
    }

    final class Progress: Sendable {
        let acknowledged = Mutex<[String]>([])
        let next = Atomic<Int>(0)
    }

    func publish(_ base: String, _ n: Int) async -> String? {
        guard
            let answer = try? await HTTP.request(
                "POST", "\(base)/v1/topics/in/publish", json: ["message": "message \(n)"], timeout: .seconds(10)),
            answer.status == 201
        else { return nil }
        return answer.json?["messageId"] as? String
    }

    @Test func sigkillThreeTimesLosesNothing() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("sink", code: Fixtures.messageIdSink, manifest: "timeout: 2s\nscaling: {max: 4}\n")
        try project.write(
            "triggers/flow.yaml",
            """
            topics:
              in:
                subscriptions:
                  - queue: work
            queues:
              work:
                visibilityTimeout: 2s
                consumer: {function: sink, batchSize: 10, maxConcurrency: 2}
            """)
        let current = Current(try await ServeProcess(project: project.path))
        let total = 5000
        var thresholds = Set<Int>()
        while thresholds.count < 3 { thresholds.insert(Int.random(in: 300..<(total - 300))) }
        let killAt = thresholds.sorted()
        let progress = Progress()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while true {
                        let n = progress.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        if n >= total { return }
                        // Retry until acknowledged: a publish that got no answer may or may not be stored.
                        while true {
                            if let id = await self.publish(current.url, n) {
                                progress.acknowledged.withLock { $0.append(id) }
                                break
                            }
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    }
                }
            }
            group.addTask {
                for threshold in killAt {
                    _ = await waitUntil(timeout: .seconds(120)) {
                        progress.acknowledged.withLock { $0.count } >= threshold
                    }
                    let old = current.host.withLock { $0 }
                    kill(old.process.processIdentifier, SIGKILL)
                    _ = await waitUntil(timeout: .seconds(10)) { !old.process.isRunning }
                    print(
                        "durability: killed the host after \(progress.acknowledged.withLock { $0.count }) acknowledged")
                    let fresh = try await ServeProcess(project: project.path)
                    print("durability: restarted")
                    current.host.withLock { $0 = fresh }
                }
            }
            try await group.waitForAll()
        }

        let ids = progress.acknowledged.withLock { $0 }
        #expect(ids.count == total)
        let logPath = project.path + "/functions/sink/ids.log"
        @Sendable func delivered() -> [Substring] {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        let expected = Set(ids)
        let complete = await waitUntil(timeout: .seconds(120), every: .milliseconds(200)) {
            expected.isSubset(of: Set(delivered().map(String.init)))
        }
        let seen = delivered()
        let missing = expected.subtracting(seen.map(String.init))
        print(
            "durability: \(total) acknowledged, \(seen.count) deliveries, \(seen.count - Set(seen).count) duplicates, \(missing.count) missing, host killed at \(killAt)"
        )
        #expect(complete, "\(missing.count) acknowledged messages never reached the consumer")
        #expect(missing.isEmpty)
        let host = current.host.withLock { $0 }
        #expect(await host.stop() == 0)
    }
}

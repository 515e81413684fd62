import Foundation
import StratusTesting
import Synchronization
import Testing

/// Bursts ten times larger than every pool, queue and internal limit: everything accepted runs, nothing is
/// lost, and delivery goes on afterwards.
@Suite(.serialized, .timeLimit(.minutes(5))) struct BurstTests {
    /// Appends the event's `n` (or each SQS record's body) to `ran.log`, one line each.
    static let recorder = """
        import json, os, time
        def handler(event, context):
            path = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "ran.log")
            if "Records" in event:
                items = [r["body"] if "body" in r else json.loads(r["Sns"]["Message"])["n"] for r in event["Records"]]
            else:
                items = [event["n"]]
            time.sleep(0.01)
            with open(path, "a") as f:
                f.write("".join(f"{item}\\n" for item in items))
            return {"ran": len(items)}
        """

    static func ran(_ project: TemporaryProject, _ function: String) -> [String] {
        let text = (try? String(contentsOfFile: project.path + "/functions/\(function)/ran.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// Sends `count` requests from `clients` concurrent clients; returns the statuses that came back.
    static func burst(_ count: Int, clients: Int, _ send: @escaping @Sendable (Int) async throws -> Int) async -> [Int:
        Int]
    {
        final class Tally: Sendable {
            let next = Atomic<Int>(0)
            let statuses = Mutex<[Int: Int]>([:])
        }
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    while true {
                        let n = tally.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        if n >= count { return }
                        let status = (try? await send(n)) ?? 0
                        tally.statuses.withLock { $0[status, default: 0] += 1 }
                    }
                }
            }
        }
        return tally.statuses.withLock { $0 }
    }

    /// 640 async invokes and 160 topic deliveries of a function whose pool holds 4 workers: ten times the
    /// delivery scheduler's 64 slots. Every one runs exactly once (nothing fails, so nothing is retried).
    @Test func asyncAndTopicBurstsAllRunAndDeliveryContinues() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "tick", code: Self.recorder, manifest: "scaling: {max: 4, queue: 8}\ncircuitBreaker: off\n")
        try project.addPython("fan", code: Self.recorder, manifest: "scaling: {max: 2}\n")
        try project.write("triggers/t.yaml", "topics:\n  news:\n    subscriptions:\n      - function: fan\n")
        let host = try await ServeProcess(project: project.path)
        let control = host.controlURL

        let invokes = 640
        let accepted = await Self.burst(invokes, clients: 32) { n in
            try await HTTP.request(
                "POST", "\(control)/2015-03-31/functions/tick/invocations", headers: ["X-Amz-Invocation-Type": "Event"],
                body: Data(#"{"n":"a\#(n)"}"#.utf8)
            ).status
        }
        #expect(accepted == [202: invokes], "every Event invoke is accepted once committed")
        let publishes = 160
        let published = await Self.burst(publishes, clients: 16) { n in
            try await HTTP.post("\(control)/v1/topics/news/publish", json: ["message": #"{"n":"p\#(n)"}"#]).status
        }
        #expect(published == [201: publishes])

        let allRan = await waitUntil(timeout: .seconds(120), every: .milliseconds(250)) {
            Self.ran(project, "tick").count >= invokes && Self.ran(project, "fan").count >= publishes
        }
        #expect(
            allRan,
            "ran \(Self.ran(project, "tick").count) of \(invokes) invokes, \(Self.ran(project, "fan").count) of \(publishes) deliveries"
        )
        #expect(Set(Self.ran(project, "tick")) == Set((0..<invokes).map { "a\($0)" }))
        #expect(Self.ran(project, "tick").count == invokes, "no event ran twice")
        #expect(Set(Self.ran(project, "fan")) == Set((0..<publishes).map { "p\($0)" }))

        // Delivery goes on after the burst: a new event runs at once.
        #expect(try host.cli(["invoke", "tick", "--async", "--data", #"{"n":"after"}"#]).status == 0)
        #expect(await waitUntil(timeout: .seconds(20)) { Self.ran(project, "tick").contains("after") })
        #expect((try host.functionStatus("tick")["workers"] as? Int ?? 99) <= 4, "the pool never grew past its max")
        #expect(await host.stop() == 0)
    }

    /// 1,000 messages into a queue whose consumer takes batches of 10 with 4 pollers for a function of 2
    /// workers: ten times the receive size, the poller count, the pool and its wait queue together.
    @Test func queueBurstIsDrainedCompletely() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "drain", code: Self.recorder, manifest: "timeout: 5s\nscaling: {max: 2, queue: 2, maxWait: 100ms}\n")
        try project.write(
            "triggers/q.yaml",
            """
            queues:
              work:
                visibilityTimeout: 10s
                maxReceiveCount: 3
                deadLetterQueue: work-dlq
                consumer: {function: drain, batchSize: 10, maxConcurrency: 4}
              work-dlq: {}
            """)
        let host = try await ServeProcess(project: project.path)
        let control = host.controlURL
        let count = 1000
        let sent = await Self.burst(count, clients: 32) { n in
            try await HTTP.post("\(control)/v1/queues/work/messages", json: ["body": "m\(n)"]).status
        }
        #expect(sent == [201: count])
        let drained = await waitUntil(timeout: .seconds(120), every: .milliseconds(250)) {
            Set(Self.ran(project, "drain")).count >= count
        }
        #expect(drained, "consumed \(Set(Self.ran(project, "drain")).count) of \(count)")
        #expect(Set(Self.ran(project, "drain")) == Set((0..<count).map { "m\($0)" }))
        let counts = try host.queueCounts()
        #expect(counts["work"] == ["visible": 0, "inFlight": 0, "delayed": 0])
        #expect(
            counts["work-dlq"] == ["visible": 0, "inFlight": 0, "delayed": 0], "a throttled batch spends no receive")

        #expect(try host.cli(["send", "work", "--data", "after"]).status == 0)
        #expect(await waitUntil(timeout: .seconds(20)) { Self.ran(project, "drain").contains("after") })
        #expect(await host.stop() == 0)
    }
}

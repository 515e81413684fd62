import StratusCore
import StratusTesting
import Testing

@testable import StratusRuntime

/// What trigger files declare follows the files across restarts. Subscriptions: one removed while the host was stopped
/// is gone when it starts again (it used to stay, and the next one in the file then delivered twice), and what
/// clients subscribed through the APIs stays. A queue no longer declared keeps its messages and loses its consumer,
/// as when the file is edited while the host runs.
@Suite(.timeLimit(.minutes(2))) struct DeclaredAcrossRestartsTests {
    @Test func aSubscriptionRemovedFromTheFileWhileStoppedIsGoneAtTheNextStart() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        func declare(_ queues: [String]) throws {
            try project.write(
                "triggers/main.yaml",
                "queues:\n  qa: {}\n  qb: {}\n  qc: {}\ntopics:\n  t:\n    subscriptions:\n"
                    + queues.map { "      - queue: \($0)\n" }.joined())
        }
        try declare(["qa", "qb"])
        let first = try project.host()
        try await first.prepare()
        try await first.topics.subscribe(Subscription(id: RequestID.make(), topic: "t", endpoint: .queue("qc")))

        try declare(["qb"])
        let restarted = try project.host()
        try await restarted.prepare()
        let targets = (restarted.topics.all()["t"] ?? []).map(\.endpoint).sorted { "\($0)" < "\($1)" }
        #expect(targets == [.queue("qb"), .queue("qc")])
        _ = try await restarted.topics.publish(to: "t", message: "once", groupId: nil, deduplicationId: nil)
        #expect(try await restarted.queues.counts("qa").visible == 0)
        #expect(try await restarted.queues.counts("qb").visible == 1)
        #expect(try await restarted.queues.counts("qc").visible == 1)
    }

    @Test func aQueueRemovedFromTheFileWhileStoppedLosesItsConsumerAndKeepsItsMessages() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("f", code: Fixtures.echo)
        try project.write("triggers/main.yaml", "queues:\n  jobs:\n    consumer: {function: f}\n")
        let first = try project.host()
        try await first.prepare()
        _ = try await first.queues.send([OutgoingMessage(body: "kept")], to: "jobs")

        try project.write("triggers/main.yaml", "queues: {}\n")
        let restarted = try project.host()
        try await restarted.prepare()
        #expect(restarted.queues.config("jobs")?.consumer == nil, "as when the file is edited while the host runs")
        #expect(try await restarted.queues.counts("jobs").visible == 1)
    }
}

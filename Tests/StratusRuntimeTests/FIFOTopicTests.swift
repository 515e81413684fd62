import StratusCore
import StratusTesting
import Testing

@testable import StratusRuntime

/// A FIFO topic's deduplication: both sides of its window (5 minutes) on a `ManualClock`, and ids kept in the
/// store, so that a restarted host, or another host of the same state, answers a retried publish as the first.
@Suite(.timeLimit(.minutes(2))) struct FIFOTopicTests {
    /// A host on `project` whose topic `ledger.fifo` delivers to FIFO queue `out.fifo`.
    func host(_ project: TemporaryProject, _ clock: ManualClock) async throws -> StratusHost {
        var configuration = StratusHost.Configuration()
        configuration.clock = clock
        let host = try project.host(configuration)
        try await host.prepare()
        if host.topics.subscription(id: "s1") == nil {
            _ = try await host.queues.create(QueueConfig(name: "out.fifo"))
            try await host.topics.create("ledger.fifo")
            try await host.topics.subscribe(
                Subscription(id: "s1", topic: "ledger.fifo", endpoint: .queue("out.fifo")))
        }
        return host
    }

    func publish(_ host: StratusHost, _ id: String) async throws -> TopicPublisher.Published {
        try await host.topics.publish(to: "ledger.fifo", message: "m-" + id, groupId: "g", deduplicationId: id)
    }

    @Test func aDeduplicationIdIsRememberedForFiveMinutes() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let clock = ManualClock()
        let host = try await host(project, clock)
        let first = try await publish(host, "d")
        clock.advance(by: .milliseconds(QueueConfig.deduplicationIntervalMs - 1))
        let again = try await publish(host, "d")
        #expect(again.messageId == first.messageId, "a duplicate just inside the window")
        #expect(again.sequenceNumber == first.sequenceNumber)
        clock.advance(by: .milliseconds(1))
        let later = try await publish(host, "d")
        #expect(later.messageId != first.messageId, "a new message once the window has passed")
        #expect((later.sequenceNumber ?? "") > (first.sequenceNumber ?? "~"), "sequence numbers grow")
        #expect(try await host.queues.counts("out.fifo").visible == 2)
    }

    @Test func anotherHostOnTheSameStateAnswersARetriedPublishAsTheFirst() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let clock = ManualClock()
        let first = try await publish(try await host(project, clock), "d")
        // A host that starts afresh on the same state (a restart, or a second host of the database) knows the id.
        let restarted = try await host(project, clock)
        let again = try await publish(restarted, "d")
        #expect(again.messageId == first.messageId && again.sequenceNumber == first.sequenceNumber)
        let next = try await publish(restarted, "e")
        #expect((next.sequenceNumber ?? "") > (first.sequenceNumber ?? "~"), "its sequence numbers go on growing")
        #expect(try await restarted.queues.counts("out.fifo").visible == 2, "the duplicate was delivered nowhere")
    }

    @Test func aTopicMadeAgainForgetsTheOldOnesIds() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let clock = ManualClock()
        let host = try await host(project, clock)
        let first = try await publish(host, "d")
        try await host.topics.delete("ledger.fifo")
        try await host.topics.create("ledger.fifo")
        #expect(try await publish(host, "d").messageId != first.messageId)
    }
}

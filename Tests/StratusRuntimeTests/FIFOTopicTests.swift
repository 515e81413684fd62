import StratusTesting
import Testing

@testable import StratusRuntime

/// A FIFO topic's deduplication: both sides of its window (5 minutes) and of its capacity (the ids it
/// remembers), on a `ManualClock`.
@Suite(.timeLimit(.minutes(2))) struct FIFOTopicTests {
    func topic() async throws -> (TopicPublisher, ManualClock, TemporaryProject) {
        let project = try TemporaryProject()
        let clock = ManualClock()
        var configuration = StratusHost.Configuration()
        configuration.clock = clock
        let host = try project.host(configuration)
        try await host.topics.create("ledger.fifo")
        return (host.topics, clock, project)
    }

    func publish(_ topics: TopicPublisher, _ id: String) async throws -> String {
        try await topics.publish(to: "ledger.fifo", message: "m", groupId: "g", deduplicationId: id).messageId
    }

    @Test func aDeduplicationIdIsRememberedForFiveMinutes() async throws {
        let (topics, clock, project) = try await topic()
        defer { project.remove() }
        let first = try await publish(topics, "d")
        clock.advance(by: .milliseconds(TopicPublisher.deduplicationWindowMs - 1))
        #expect(try await publish(topics, "d") == first, "a duplicate just inside the window")
        clock.advance(by: .milliseconds(1))
        #expect(try await publish(topics, "d") != first, "a new message once the window has passed")
    }

    @Test func atCapacityTheOldestIdIsForgottenFirst() async throws {
        let (topics, _, project) = try await topic()
        defer { project.remove() }
        let first = try await publish(topics, "0")
        for index in 1..<TopicPublisher.deduplicationCapacity { _ = try await publish(topics, String(index)) }
        #expect(try await publish(topics, "0") == first, "as many ids as the capacity: all remembered")
        _ = try await publish(topics, "one-more")
        #expect(try await publish(topics, "0") != first, "one more than the capacity: the oldest forgotten")
    }
}

import Foundation
import StratusCore
import StratusStore
import StratusTesting
import Testing

@testable import StratusRuntime

/// The scheduler against a `ManualClock`: how many firings a long stall delivers under each `missed` policy,
/// at the bound and past it. (Restarts with real processes are in `ScheduleTests`.)
@Suite(.serialized, .timeLimit(.minutes(4))) struct SchedulerClockTests {
    func run(missed: String, stall: Duration) async throws -> (delivered: Int, events: [HostEvent]) {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("tick", code: "def handler(event, context):\n    return 1\n")
        try project.write(
            "triggers/s.yaml",
            "schedules:\n  t:\n    expression: rate(1 second)\n    function: tick\n    missed: \(missed)\n")
        let clock = ManualClock()
        var configuration = StratusHost.Configuration()
        configuration.clock = clock
        let host = try project.host(configuration)
        var outcome: (Int, [HostEvent]) = (0, [])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await host.run() }
            // A new rate fires at once: the first firing is committed. (The clock stands still until the stall,
            // so the scheduler's next run stays ahead of it; a loaded machine may take a while to get there.)
            #expect(await waitUntil(timeout: .seconds(90)) { host.scheduler.status().first?.lastMs != nil })
            // Settled (the next run is ahead of the clock); what was fired so far is not part of the stall.
            #expect(
                await waitUntil(timeout: .seconds(60)) {
                    (host.scheduler.status().first?.nextMs ?? 0) > clock.epochMs
                })
            let before = try await Self.firings(host)
            #expect(!before.isEmpty)
            clock.advance(by: stall)
            // Everything the stall produced is committed in one pass, together with the next run.
            #expect(
                await waitUntil(timeout: .seconds(60)) {
                    (host.scheduler.status().first?.nextMs ?? 0) > clock.epochMs
                })
            let fired = try await Self.firings(host).subtracting(before).count
            outcome = (fired, try await host.log.events(matching: InvocationQuery()))
            group.cancelAll()
        }
        await host.stopWorkers()
        return outcome
    }

    /// The event ids of the async deliveries the scheduler committed: pending in the store, or run.
    static func firings(_ host: StratusHost) async throws -> Set<String> {
        let pending = try await host.queues.store.dueDeliveries(nowMs: Int64.max / 2, limit: 10_000)
        var query = InvocationQuery(limit: 10_000)
        query.function = "tick"
        let ran = try await host.log.invocations(matching: query).compactMap(\.eventId)
        return Set(
            pending.compactMap { delivery -> String? in
                if case .asyncInvoke(let id) = delivery.source { return id }
                return nil
            } + ran)
    }

    @Test func aStallWithinTheBoundDeliversEachMissedFiringWithAll() async throws {
        // 100 s late: the first 40 are more than a minute late (missed), the last 60 on time, plus the one now.
        let (delivered, events) = try await run(missed: "all", stall: .seconds(100))
        #expect(delivered == 100)
        let missed = try #require(events.first { $0.kind == .scheduleMissed })
        #expect(missed.message.contains("39 firings") || missed.message.contains("40 firings"), "\(missed.message)")
    }

    @Test func aLongStallDeliversAtMostTheBoundOfMissedFirings() async throws {
        // 1000 s late: 939 or so missed, of which 100 are delivered, then the 61 of the last minute.
        let (delivered, events) = try await run(missed: "all", stall: .seconds(1000))
        #expect(delivered == Limits.missedFirings + 61 || delivered == Limits.missedFirings + 60, "\(delivered)")
        let missed = try #require(events.first { $0.kind == .scheduleMissed })
        #expect(missed.message.contains("more than \(Limits.missedFirings) firings"), "\(missed.message)")
    }

    @Test func skipAndOnceDeliverNoneOrOneOfTheMissed() async throws {
        let skipped = try await run(missed: "skip", stall: .seconds(1000))
        #expect(skipped.delivered == 61 || skipped.delivered == 60, "\(skipped.delivered)")
        let once = try await run(missed: "once", stall: .seconds(1000))
        #expect(once.delivered == skipped.delivered + 1, "\(once.delivered) vs \(skipped.delivered)")
    }
}

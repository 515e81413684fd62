import Testing

@testable import StratusRuntime

/// The Runtime API's protocol state, without processes or sockets.
@Suite struct RuntimeAPIStateTests {
    final class Connection {}
    typealias Machine = RuntimeAPIState<String, Int>

    @Test func aParkedNextGetsTheNextInvocation() {
        var api = Machine()
        let connection = ObjectIdentifier(Connection())
        guard case .park = api.next(from: connection, waiter: "next-1") else {
            Issue.record("parks")
            return
        }
        #expect(api.initialized)
        guard case .deliver(let waiter) = api.invoke(id: "a", held: 1) else {
            Issue.record("hands over")
            return
        }
        #expect(waiter == "next-1")
        #expect(api.current?.delivered == true)
        guard case .refuseOpen(let id) = api.next(from: connection, waiter: "next-2") else {
            Issue.record("403")
            return
        }
        #expect(id == "a", "a runtime may not ask for more while it holds one")
        #expect(api.complete("b") == nil, "not the invocation held")
        #expect(api.complete("a") == 1)
        #expect(api.current == nil)
    }

    @Test func anInvocationWaitsForAStartingRuntime() {
        var api = Machine()
        guard case .wait = api.invoke(id: "a", held: 7) else {
            Issue.record("waits")
            return
        }
        #expect(api.complete("a") == nil, "the runtime never had it: only a forced end (timeout, crash) ends it")
        guard case .deliver(let id) = api.next(from: ObjectIdentifier(Connection()), waiter: "n") else {
            Issue.record("delivers")
            return
        }
        #expect(id == "a")
        #expect(api.complete("a") == 7)
    }

    @Test func aSecondNextIsRefusedUntilTheFirstConnectionCloses() {
        var api = Machine()
        let first = Connection()
        guard case .park = api.next(from: ObjectIdentifier(first), waiter: "1") else {
            Issue.record("parks")
            return
        }
        guard case .refuseSecond = api.next(from: ObjectIdentifier(Connection()), waiter: "2") else {
            Issue.record("409")
            return
        }
        api.connectionClosed(ObjectIdentifier(first))
        guard case .park = api.next(from: ObjectIdentifier(Connection()), waiter: "3") else {
            Issue.record("parks again")
            return
        }
    }

    @Test func aDeadWorkerTakesNothing() {
        var api = Machine()
        _ = api.invoke(id: "a", held: 1)
        #expect(api.die() == "a", "the invocation it held is charged the death")
        #expect(api.complete("a", force: true) == 1)
        guard case .dead = api.invoke(id: "b", held: 2) else {
            Issue.record("dead")
            return
        }
    }

    @Test func onlyAnInvocationAWarmRuntimeNeverReceivedMayGoElsewhere() {
        // A cold worker's invocation is charged its init crash.
        var cold = Machine()
        _ = cold.invoke(id: "a", held: 1)
        #expect(!cold.heldButNeverDelivered)

        // A warm worker whose parked /next closed, then died: the invocation never reached it.
        var warm = Machine()
        let connection = Connection()
        _ = warm.next(from: ObjectIdentifier(connection), waiter: "n")
        warm.connectionClosed(ObjectIdentifier(connection))
        _ = warm.invoke(id: "b", held: 2)
        #expect(warm.heldButNeverDelivered)

        // Handed to a parked /next whose answer could not be written: not received, and the next /next gets it.
        var unwritten = Machine()
        _ = unwritten.next(from: ObjectIdentifier(connection), waiter: "n")
        _ = unwritten.invoke(id: "c", held: 3)
        #expect(unwritten.heldButNeverDelivered, "handed over, not yet written")
        let undelivered = unwritten.undeliver("c")
        let other = unwritten.undeliver("other")
        #expect(undelivered && !other)
        guard case .deliver(let again) = unwritten.next(from: ObjectIdentifier(Connection()), waiter: "m") else {
            Issue.record("asked again, it gets it again")
            return
        }
        #expect(again == "c")
        unwritten.received("c")
        #expect(!unwritten.heldButNeverDelivered, "written to the runtime: a death now is the invocation's")
    }
}

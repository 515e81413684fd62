import Foundation
import GRDB
import Logging
import StratusCore
import StratusTesting
import Synchronization
import Testing

@testable import StratusRuntime
@testable import StratusStore

#if canImport(Glibc)
    import Glibc
#endif

/// The delivery scheduler on a real SQLite store, against a real TCP endpoint.
@Suite(.serialized, .timeLimit(.minutes(1))) struct DeliveryRunnerTests {
    /// Accepts connections and closes them at once, counting them: an HTTP endpoint that always fails.
    final class RudeEndpoint: Sendable {
        let port: Int
        /// Requests received (and answered by closing the connection).
        let accepted = Atomic<Int>(0)
        private let fd: Int32

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.fd = fd
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            guard bound, listen(fd, 16) == 0 else { throw ServeError(message: "cannot listen") }
            port = Int(UInt16(bigEndian: address.sin_port))
            let thread = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let client = accept(fd, nil, nil)
                    if client < 0 { return }
                    // Counts requests, not connections: a client may replace a connection closed before it
                    // wrote anything (a busy machine lets it see the close first), and that is no attempt.
                    if recv(client, &buffer, buffer.count, 0) > 0 { self.accepted.wrappingAdd(1, ordering: .relaxed) }
                    close(client)
                }
            }
            thread.start()
        }

        func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
    }

    @Test func aStoreThatCannotBeWrittenParksTheDeliveryInsteadOfLooping() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let store = try SQLiteStore(path: project.path + "/s.sqlite")
        let logger = Logger(label: "test")
        let log = InvocationLog(store: store, logger: logger)
        let clock = ManualClock()
        let dispatcher = Dispatcher(log: log, clock: clock, logger: logger)
        let queues = QueueService(store: store, clock: clock)
        var policy = DeliveryRunner.HTTPPolicy()
        policy.baseDelayMs = 10
        let runner = DeliveryRunner(
            store: store, queues: queues, topics: TopicPublisher(store: store, queues: queues), dispatcher: dispatcher,
            log: log, httpPolicy: policy, logger: logger)
        let endpoint = try RudeEndpoint()
        defer { endpoint.stop() }

        try await store.commit(
            [
                .delivery(
                    PendingDelivery(
                        source: .subscription(id: "t:0", topic: "t"),
                        target: .http("http://127.0.0.1:\(endpoint.port)/hook"), payload: "{}",
                        nextAttemptAtMs: 0, createdAtMs: 0))
            ],
            nowMs: 0)
        // From now on every write fails, as on a full disk: the attempt cannot be recorded.
        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA query_only = 1") }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await log.run() }
            group.addTask { await runner.run() }
            // Each failed bookkeeping parks the delivery, 1 s then 2 s (doubling up to a minute), and the runner
            // sleeps until then: while the clock stands still, nothing runs again.
            let start = clock.now
            #expect(await waitUntil { endpoint.accepted.load(ordering: .relaxed) == 1 })
            #expect(
                await waitUntil { clock.pendingDeadlines.contains(start + .seconds(1)) }, "asleep until the park ends")
            #expect(endpoint.accepted.load(ordering: .relaxed) == 1, "no second attempt before then")
            clock.advance(by: .seconds(1))
            #expect(await waitUntil { endpoint.accepted.load(ordering: .relaxed) == 2 }, "it keeps trying")
            #expect(await waitUntil { clock.pendingDeadlines.contains(start + .seconds(3)) }, "parked twice as long")
            #expect(endpoint.accepted.load(ordering: .relaxed) == 2)
            #expect(
                try await store.dueDeliveries(nowMs: .max, limit: 10).count == 1,
                "the record is unchanged, nothing lost")

            // The store recovers: the delivery moves on (3 retries 10 ms apart), then is given up as an event.
            try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA query_only = 0") }
            #expect(
                await waitUntil(timeout: .seconds(30)) {
                    clock.advance(by: .seconds(1))
                    return (try? await store.dueDeliveries(nowMs: .max, limit: 10).isEmpty) == true
                })
            await log.flush()
            group.cancelAll()
        }
        let events = try await store.events(matching: InvocationQuery())
        #expect(events.contains { $0.kind == .dropped && $0.message.contains("after 4 attempts") })
    }
}

import Foundation
import GRDB
import StratusCore
import StratusTesting
import Testing

@testable import StratusStore

/// A state file written by an earlier version opens, migrates, and keeps what it held.
@Suite struct MigrationTests {
    @Test func deliveriesOfTheStringFormatBecomeTypedSources() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let path = project.path + "/stratus.sqlite"
        do {
            // As the host before the typed sources left it: the migrations up to v5, and three deliveries.
            let queue = try DatabaseQueue(path: path)
            try SQLiteStore.migrator.migrate(queue, upTo: "v5-invocation-event")
            try await queue.write { db in
                for (subscription, target) in [("invoke:ev-1", "f"), ("orders:0", "g"), ("4f1c2d", "h")] {
                    try db.execute(
                        sql: """
                            INSERT INTO delivery (subscription_id, target_kind, target, payload, attempts, next_attempt_at,
                                created_at) VALUES (?, 'function', ?, '{}', 1, 0, 0)
                            """, arguments: [subscription, target])
                }
            }
        }
        let store = try SQLiteStore(path: path)
        let due = try await store.dueDeliveries(nowMs: 0, limit: 10)
        #expect(
            due.map(\.source) == [
                .asyncInvoke(eventId: "ev-1"), .subscription(id: "orders:0", topic: "orders"),
                .subscription(id: "4f1c2d", topic: ""),
            ])
        #expect(due.map(\.attempts) == [1, 1, 1])
    }
}

import Foundation
import Logging
import StratusCore
import StratusPostgres
import StratusStore
import StratusTesting
import Synchronization
import Testing

/// The two implementations of `Store`: every store test runs against both, SQLite on a fresh file and PostgreSQL
/// on a fresh database of the test process's throwaway cluster. A PostgreSQL store waits up to 2 minutes for a
/// connection here: the whole suite runs at once on a small machine, and these tests are about what the store
/// does, not how fast.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// Runs `body` with a new, empty store; `reopen` opens a second store on the same data (what a restarted
    /// host sees).
    func withStore(_ body: (any Store, _ reopen: () async throws -> any Store) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let project = try TemporaryProject()
            defer { project.remove() }
            let path = project.path + "/stratus.sqlite"
            try await body(try SQLiteStore(path: path)) { try SQLiteStore(path: path) }
        case .postgres:
            let url = try PostgresServer.start().makeDatabase()
            var logger = Logger(label: "store-test")
            logger.logLevel = .warning
            let store = try await PostgresStore.open(
                url: url, hostId: "test-host", connectionWait: .seconds(120), logger: logger)
            let reopened = StoreList()
            defer {
                store.close()
                for other in reopened.stores.withLock({ $0 }) { other.close() }
            }
            try await body(store) {
                let other = try await PostgresStore.open(
                    url: url, hostId: "test-host-2", connectionWait: .seconds(120), logger: logger)
                reopened.stores.withLock { $0.append(other) }
                return other
            }
        }
    }
}

final class StoreList: Sendable {
    let stores = Mutex<[PostgresStore]>([])
}

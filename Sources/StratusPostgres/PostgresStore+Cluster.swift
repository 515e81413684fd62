import Foundation
import Logging
import NIOCore
import PostgresNIO
import StratusCore
import StratusStore
import Synchronization

extension PostgresStore: SharedStore {
    /// The advisory lock the leader holds on its own connection ("leader" in ASCII).
    static let leaderLock: Int64 = 0x6C65_6164_6572

    /// A connection of its own (not from the pool): LISTEN and the leader's lock live as long as their session.
    func dedicatedConnection() async throws -> PostgresConnection {
        try await mapped {
            try await PostgresConnection.connect(
                configuration: connectionConfiguration, id: Int.random(in: 1_000_000...9_999_999), logger: logger)
        }
    }

    package func watchChanges(_ handle: @escaping @Sendable (StoreChange) -> Void) async {
        await untilCancelled { await self.listen(handle) }
    }

    private func listen(_ handle: @escaping @Sendable (StoreChange) -> Void) async {
        var backoff: Duration = .milliseconds(100)
        var first = true
        while !Task.isCancelled {
            do {
                let connection = try await dedicatedConnection()
                // Closed (and awaited) before it is released, however the listening ends.
                let outcome = await outcome {
                    try await withTaskCancellationHandler {
                        try await connection.listen(on: "stratus") { notifications in
                            // Whatever was committed while nobody listened: look at everything once.
                            if !first { handle(.resync) }
                            first = false
                            backoff = .milliseconds(100)
                            // Heard from now on: the others may hand this host messages (not before: they would
                            // wake nobody).
                            _ = try? await self.rows(
                                "SELECT pg_notify('stratus', \(Self.notify("h", "joined", host: self.hostId)))")
                            for try await notification in notifications {
                                if let change = self.change(notification.payload) { handle(change) }
                            }
                        }
                    } onCancel: {
                        connection.close().whenComplete { _ in }
                    }
                }
                try? await connection.close()
                try outcome.get()
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "listening for other hosts' changes failed; reconnecting",
                    metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// The change a notification payload (`<host> <kind> <name>`; a queue's may end with ` <messages>`) tells
    /// of; `nil` for this host's own.
    func change(_ payload: String) -> StoreChange? {
        let parts = payload.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] != hostId else { return nil }
        switch parts[1] {
        case "q":
            // `<queue>`, `<queue> <messages> <host or *>`
            let queue = parts[2].split(separator: " ")
            guard let name = queue.first else { return nil }
            guard queue.count == 3, let messages = Int(queue[1]) else { return .queue(String(name)) }
            if queue[2] == "*" { return .queue(String(name), messages: messages) }
            guard queue[2] == hostId else { return nil }
            return .queue(String(name), messages: messages, handedOff: true)
        case "d": return .deliveries(target: String(parts[2]))
        case "c": return .definitions
        case "r": return .replays
        case "h":
            let host = String(parts[0])
            peers.withLock { peers in
                peers.hosts.removeAll { $0 == host }
                if parts[2] == "joined" { peers.hosts.append(host) }
            }
            return nil
        case "f": return .deployments
        default: return nil
        }
    }

    package func campaign(_ changed: @escaping @Sendable (Bool) -> Void) async {
        await untilCancelled { await self.holdLeadership(changed) }
    }

    private func holdLeadership(_ changed: @escaping @Sendable (Bool) -> Void) async {
        var backoff: Duration = .milliseconds(200)
        while !Task.isCancelled {
            var leader = false
            do {
                let connection = try await dedicatedConnection()
                let outcome = await outcome {
                    try await withTaskCancellationHandler {
                        // The session's keepalives (`Endpoint.sessionSettings`) let the server notice a leader that
                        // vanished without closing its connection within ~11 s, and let the lock go.
                        backoff = .milliseconds(200)
                        // Waits, without polling, until the leader's session ends.
                        _ = try await connection.query("SELECT pg_advisory_lock(\(Self.leaderLock))", logger: logger)
                        leader = true
                        changed(true)
                        // Holds it while the connection answers: a leader that cannot reach the database steps down.
                        while !Task.isCancelled {
                            try await Task.sleep(for: .milliseconds(leaseMs / 3))
                            try await withTimeout(.milliseconds(leaseMs / 3)) {
                                _ = try await connection.query("SELECT 1", logger: self.logger)
                            }
                        }
                    } onCancel: {
                        connection.close().whenComplete { _ in }
                    }
                }
                try? await connection.close()
                try outcome.get()
            } catch {
                if !Task.isCancelled {
                    logger.warning("leader election connection failed", metadata: ["error": "\(error)"])
                }
            }
            if leader { changed(false) }
            if Task.isCancelled { return }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    package func heartbeat(nowMs: Int64, startedAtMs: Int64, control: String?, leader: Bool) async throws {
        // Leases first, on their own: nothing another host holds can delay them.
        try await rows(
            "UPDATE delivery SET lease_until = \(nowMs.saturatingAdd(leaseMs)) WHERE lease_owner = \(hostId)")
        try await rows(
            """
            INSERT INTO host (id, started_at, heartbeat_at, leader, control)
            VALUES (\(hostId), \(startedAtMs), \(nowMs), \(leader), \(control))
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, leader = excluded.leader,
                control = excluded.control
            """)
        if leader {
            // A former leader's row may be locked by its own stuck write: skip it, the next beat clears it.
            try await rows(
                """
                UPDATE host SET leader = false WHERE id IN (
                    SELECT id FROM host WHERE leader AND id <> \(hostId) FOR UPDATE SKIP LOCKED)
                """)
        }
        // Hosts silent for an hour are forgotten; those that beat in the last two periods are handed messages.
        let alive = try await rows(
            """
            WITH forgotten AS (DELETE FROM host WHERE heartbeat_at < \(nowMs.saturatingSubtract(3_600_000)))
            SELECT id FROM host WHERE heartbeat_at >= \(nowMs.saturatingSubtract(leaseMs * 2 / 3)) AND id <> \(hostId)
            ORDER BY id
            """
        ).map { try $0.decode(String.self) }
        peers.withLock { $0.hosts = alive }
    }

    package func passOn(_ messages: Int, of queue: String) async throws {
        try await rows("SELECT pg_notify('stratus', \(Self.notify("q", "\(queue) \(messages) *", host: hostId)))")
    }

    package func hosts() async throws -> [ClusterHost] {
        try await rows("SELECT id, started_at, heartbeat_at, leader, control FROM host ORDER BY heartbeat_at DESC, id")
            .map { row in
                let (id, started, heartbeat, leader, control) = try row.decode(
                    (String, Int64, Int64, Bool, String?).self)
                return ClusterHost(
                    id: id, startedAtMs: started, heartbeatAtMs: heartbeat, leader: leader, control: control)
            }
    }

    package func putDeployment(_ name: String, revision: String, archive: [UInt8], source: String, nowMs: Int64)
        async throws
    {
        let bytes = ByteBuffer(bytes: archive)
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO deployment (name, revision, archive, source, deployed_at)
                VALUES (\(name), \(revision), \(bytes), \(source), \(nowMs))
                ON CONFLICT (name, revision) DO NOTHING
                """, logger: self.logger)
            try await self.setLive(name, revision, nowMs: nowMs, connection)
        }
    }

    package func setLiveDeployment(_ name: String, revision: String) async throws {
        try await transaction { connection in
            try await self.setLive(name, revision, nowMs: Int64(Date().timeIntervalSince1970 * 1000), connection)
        }
    }

    private func setLive(_ name: String, _ revision: String, nowMs: Int64, _ connection: PostgresConnection)
        async throws
    {
        try await connection.query(
            """
            INSERT INTO deployment_live (name, revision, changed_at) VALUES (\(name), \(revision), \(nowMs))
            ON CONFLICT (name) DO UPDATE SET revision = excluded.revision, changed_at = excluded.changed_at
            """, logger: logger)
        try await connection.query(
            "SELECT pg_notify('stratus', \(Self.notify("f", name, host: hostId)))", logger: logger)
    }

    package func liveDeployments() async throws -> [SharedDeployment] {
        try await rows(
            """
            SELECT l.name, l.revision, coalesce(d.source, '') FROM deployment_live l
            LEFT JOIN deployment d ON d.name = l.name AND d.revision = l.revision ORDER BY l.name
            """
        ).map { row in
            let (name, revision, source) = try row.decode((String, String, String).self)
            return SharedDeployment(name: name, revision: revision, source: source)
        }
    }

    package func deploymentRevisions(_ name: String) async throws -> [SharedDeployment] {
        try await rows("SELECT revision, source FROM deployment WHERE name = \(name) ORDER BY deployed_at, revision")
            .map {
                let (revision, source) = try $0.decode((String, String).self)
                return SharedDeployment(name: name, revision: revision, source: source)
            }
    }

    package func deploymentArchive(_ name: String, revision: String) async throws -> [UInt8]? {
        try await rows("SELECT archive FROM deployment WHERE name = \(name) AND revision = \(revision)").first.map {
            var buffer = try $0.decode(ByteBuffer.self)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        }
    }

    package func leave() async throws {
        try await transaction { connection in
            try await connection.query(
                "UPDATE delivery SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = \(self.hostId)",
                logger: self.logger)
            try await connection.query("DELETE FROM host WHERE id = \(self.hostId)", logger: self.logger)
            try await connection.query(
                "SELECT pg_notify('stratus', \(Self.notify("c", "definitions", host: self.hostId)))",
                logger: self.logger)
            try await connection.query(
                "SELECT pg_notify('stratus', \(Self.notify("h", "left", host: self.hostId)))", logger: self.logger)
        }
    }
}

/// What `body` returned or threw.
func outcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}

/// `body`, failing with `StoreError.unavailable` when it takes longer than `limit`. The caller goes on at the
/// deadline even when `body` does not end (a query on a connection that died without a word): `body` is
/// cancelled and left to end on its own. For rare calls only: the timer lives until the deadline.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let answer = AnswerOnce<T>()
    return try await withCheckedThrowingContinuation { continuation in
        answer.set(continuation)
        let work = Task {
            do {
                answer.resume(.success(try await body()))
            } catch {
                answer.resume(.failure(error))
            }
        }
        Task {
            try? await Task.sleep(for: limit)
            if answer.resume(
                .failure(StoreError(code: .unavailable, message: "The database did not answer within \(limit).")))
            {
                work.cancel()
            }
        }
    }
}

/// Runs `body` until it ends or the caller is cancelled, whichever comes first: a cancelled caller returns at
/// once, `body` is cancelled and left to end on its own (a connection that died without a word may hold it).
func untilCancelled(_ body: @escaping @Sendable () async -> Void) async {
    let answer = AnswerOnce<Void>()
    let work = Task { await body() }
    await withTaskCancellationHandler {
        _ = try? await withCheckedThrowingContinuation { continuation in
            answer.set(continuation)
            if Task.isCancelled { answer.resume(.success(())) }
            Task {
                await work.value
                answer.resume(.success(()))
            }
        }
    } onCancel: {
        work.cancel()
        answer.resume(.success(()))
    }
}

/// A continuation resumed by whichever answer comes first (an answer before the continuation is set waits for it).
final class AnswerOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var done = false
    }

    private let state = Mutex(State())

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            guard let early = state.early else {
                state.continuation = continuation
                return nil
            }
            state.early = nil
            return early
        }
        if let early { continuation.resume(with: early) }
    }

    /// Resumes with `result` unless an answer came before; returns whether this one was taken.
    @discardableResult
    func resume(_ result: Result<T, any Error>) -> Bool {
        let (taken, continuation) = state.withLock { state -> (Bool, CheckedContinuation<T, any Error>?) in
            guard !state.done else { return (false, nil) }
            state.done = true
            guard let continuation = state.continuation else {
                state.early = result
                return (true, nil)
            }
            state.continuation = nil
            return (true, continuation)
        }
        continuation?.resume(with: result)
        return taken
    }
}

import Synchronization

/// Whether this host leads: singleton duties (schedules, retention, replays) run on the leader only. A host
/// with its own SQLite store is always the leader; hosts sharing PostgreSQL elect one (`SharedStore.campaign`).
package final class Leadership: Sendable {
    private let leading: Atomic<Bool>
    private let changes = QueueSignal()
    private static let key = "leader"

    package init(leading: Bool = true) {
        self.leading = Atomic(leading)
    }

    package var isLeader: Bool { leading.load(ordering: .acquiring) }

    /// Records a change; returns whether it was one.
    @discardableResult
    func set(_ leader: Bool) -> Bool {
        guard leading.exchange(leader, ordering: .acquiringAndReleasing) != leader else { return false }
        changes.notify(Self.key)
        return true
    }

    /// Runs `duty` while this host leads: started when it is elected, cancelled when it loses the leadership,
    /// started again when it wins it back. Returns when the calling task is cancelled.
    func whileLeading(_ duty: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            let generation = changes.generation(Self.key)
            guard isLeader else {
                await changes.wait(Self.key, since: generation, timeout: .seconds(86_400))
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await duty() }
                group.addTask {
                    var seen = generation
                    while !Task.isCancelled, self.isLeader {
                        await self.changes.wait(Self.key, since: seen, timeout: .seconds(86_400))
                        seen = self.changes.generation(Self.key)
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }
}

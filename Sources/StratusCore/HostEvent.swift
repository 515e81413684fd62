import Foundation

/// Something the host did on its own that a user may want to see next to invocations: a pool scaling
/// up or down, a worker replaced, a caller throttled.
package struct HostEvent: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable, CaseIterable {
        case scaleUp = "SCALE_UP"
        case scaleDown = "SCALE_DOWN"
        case replaced = "REPLACED"
        case throttled = "THROTTLED"
        case deadLettered = "DEAD_LETTERED"
        case dropped = "DROPPED"
        case breakerOpen = "BREAKER_OPEN"
        case breakerHalfOpen = "BREAKER_HALF_OPEN"
        case breakerClosed = "BREAKER_CLOSED"
        /// A consumer or delivery waits for a function that is not loaded.
        case paused = "PAUSED"
        /// It runs again: the function loaded.
        case resumed = "RESUMED"
        /// The host stopped; what was still running was killed after the drain timeout.
        case shutdown = "SHUTDOWN"
        /// A function's code or settings changed on disk (`serve --watch`): new invocations run the new
        /// revision, running ones finish on the old.
        case reloaded = "RELOADED"
        /// A function directory appeared while the host runs.
        case loaded = "LOADED"
        /// A function directory was removed: its workers finish what they run, then stop.
        case removed = "REMOVED"
        /// An edit could not be loaded (file:line and why): the last good version keeps serving.
        case reloadFailed = "RELOAD_FAILED"
        /// `stratus deploy` made a new revision live.
        case deployed = "DEPLOYED"
        /// `stratus rollback` made an earlier revision live again.
        case rolledBack = "ROLLED_BACK"
        /// A schedule's firings fell while the host was down or asleep; its `missed` policy says what was done.
        case scheduleMissed = "SCHEDULE_MISSED"
        /// This host became the leader of the hosts sharing a PostgreSQL store (it runs schedules, retention
        /// and replays).
        case elected = "ELECTED"
        /// This host stopped being the leader.
        case steppedDown = "STEPPED_DOWN"
    }

    /// Position in the event log, assigned when stored.
    package var sequence: Int64?
    package var time: Date
    package var function: String
    package var kind: Kind
    package var message: String

    package init(time: Date = Date(), function: String, kind: Kind, message: String) {
        self.time = time
        self.function = function
        self.kind = kind
        self.message = message
    }

    /// One line, as `stratus logs --events` prints it.
    package var line: String {
        "\(time.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))) \(kind.rawValue) \(function): \(message)"
    }
}

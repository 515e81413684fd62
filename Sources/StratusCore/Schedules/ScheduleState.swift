/// Where a schedule stands, kept in the store and written in the same transaction as the firings it records,
/// so that a host killed at any moment neither loses nor repeats a firing.
package struct ScheduleState: Sendable, Equatable {
    package var name: String
    /// `ScheduleConfig.fingerprint` when `nextMs` was computed: a changed expression or zone starts afresh.
    package var fingerprint: String
    /// A rate's first run, from which its runs are counted.
    package var anchorMs: Int64
    /// The next scheduled time not yet fired; `nil`: never again.
    package var nextMs: Int64?
    /// The scheduled time of the last firing, and its async event id.
    package var lastMs: Int64?
    package var lastEventId: String?

    package init(
        name: String, fingerprint: String, anchorMs: Int64, nextMs: Int64?, lastMs: Int64? = nil,
        lastEventId: String? = nil
    ) {
        self.name = name
        self.fingerprint = fingerprint
        self.anchorMs = anchorMs
        self.nextMs = nextMs
        self.lastMs = lastMs
        self.lastEventId = lastEventId
    }
}

import Foundation
import StratusCore

/// Which invocation records to return, newest last.
public struct InvocationQuery: Sendable, Equatable {
    public var function: String?
    public var status: InvocationRecord.Status?
    /// Only records that started at or after this time.
    public var since: Date?
    /// Only records stored after this sequence number (for `--follow`).
    public var afterSequence: Int64?
    /// At most this many, the most recent ones.
    public var limit: Int = 100

    public init(
        function: String? = nil, status: InvocationRecord.Status? = nil, since: Date? = nil,
        afterSequence: Int64? = nil, limit: Int = 100
    ) {
        self.function = function
        self.status = status
        self.since = since
        self.afterSequence = afterSequence
        self.limit = limit
    }
}

/// Everything durable Stratus keeps. One SQLite implementation today; the protocol is the seam for others.
public protocol Store: Sendable {
    /// Appends records in one transaction, assigning their sequence numbers.
    func append(_ records: [InvocationRecord]) async throws
    /// Returns matching records in the order they were stored.
    func invocations(matching query: InvocationQuery) async throws -> [InvocationRecord]
    /// Deletes records older than `cutoff`, and all but the newest `keepPerFunction` of each function.
    /// Returns how many were deleted.
    func pruneInvocations(olderThan cutoff: Date, keepPerFunction: Int) async throws -> Int
    /// Appends host events (scaling, throttling) in one transaction.
    func append(events: [HostEvent]) async throws
    /// Returns matching events in the order they were stored (`status` is ignored).
    func events(matching query: InvocationQuery) async throws -> [HostEvent]
}

/// A store operation that failed for a reason the caller can act on: a queue or topic that does not exist,
/// or a record the store cannot read back.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    /// A stable name for the kind of failure, e.g. `QueueDoesNotExist`; facades map it to their protocol's error.
    package struct Code: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
        package var rawValue: String

        package init(rawValue: String) {
            self.rawValue = rawValue
        }

        package init(stringLiteral value: String) {
            rawValue = value
        }

        package var description: String { rawValue }

        /// A queue named by the call (or by a queue's dead-letter settings) was never created.
        package static let queueDoesNotExist: Code = "QueueDoesNotExist"
        /// A topic named by the call was never created.
        package static let topicDoesNotExist: Code = "TopicDoesNotExist"
        /// A stored row could not be turned back into its value (for example a filter policy the parser rejects).
        package static let invalidRecord: Code = "InvalidRecord"
        /// The database cannot be reached (PostgreSQL down or cut off): nothing was written; try again later.
        package static let unavailable: Code = "StoreUnavailable"
    }

    package var code: Code
    /// What went wrong, naming the queue, topic or id.
    package var message: String
    /// The error that caused this one, if any.
    package var underlying: (any Error)?

    package init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// `<code>: <message>`.
    package var description: String { "\(code): \(message)" }

    package static func queueDoesNotExist(_ name: String) -> StoreError {
        StoreError(code: .queueDoesNotExist, message: "The queue '\(name)' does not exist.")
    }

    package static func topicDoesNotExist(_ name: String) -> StoreError {
        StoreError(code: .topicDoesNotExist, message: "The topic '\(name)' does not exist.")
    }
}

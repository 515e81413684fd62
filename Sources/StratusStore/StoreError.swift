/// A store operation that failed for a reason the caller can act on: a queue or topic that does not exist,
/// or a record the store cannot read back.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// A stable name for the kind of failure, e.g. `QueueDoesNotExist`; facades map it to their protocol's error.
    public struct Code: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public init(stringLiteral value: String) {
            rawValue = value
        }

        public var description: String { rawValue }

        /// A queue named by the call (or by a queue's dead-letter settings) was never created.
        public static let queueDoesNotExist: Code = "QueueDoesNotExist"
        /// A topic named by the call was never created.
        public static let topicDoesNotExist: Code = "TopicDoesNotExist"
        /// A stored row could not be turned back into its value (for example a filter policy the parser rejects).
        public static let invalidRecord: Code = "InvalidRecord"
    }

    public var code: Code
    /// What went wrong, naming the queue, topic or id.
    public var message: String
    /// The error that caused this one, if any.
    public var underlying: (any Error)?

    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// `<code>: <message>`.
    public var description: String { "\(code): \(message)" }

    static func queueDoesNotExist(_ name: String) -> StoreError {
        StoreError(code: .queueDoesNotExist, message: "The queue '\(name)' does not exist.")
    }

    static func topicDoesNotExist(_ name: String) -> StoreError {
        StoreError(code: .topicDoesNotExist, message: "The topic '\(name)' does not exist.")
    }
}

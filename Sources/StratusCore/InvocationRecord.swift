import Foundation

/// One invocation of one function, as the invocation log keeps it.
package struct InvocationRecord: Sendable, Equatable, Codable {
    /// How an invocation ended.
    package enum Status: String, Sendable, Codable, CaseIterable {
        case ok, error, timeout, crashed, throttled, rejected
    }

    /// What caused an invocation.
    package enum Trigger: String, Sendable, Codable, CaseIterable {
        /// `stratus invoke` and `POST /v1/functions/{name}/invoke`.
        case cli
        /// Lambda's Invoke API (`aws lambda invoke`, boto3).
        case invokeAPI = "invoke-api"
        /// An HTTP route of the gateway.
        case http
        /// A topic subscription.
        case topic
        /// A queue's consumer.
        case queue
        /// An `Event` invocation (and its retries).
        case async
    }

    /// Position in the log, assigned when the record is stored; `nil` before.
    package var sequence: Int64?
    /// Request id: the `Lambda-Runtime-Aws-Request-Id` the function saw.
    package var id: String
    package var function: String
    package var version: String
    /// What caused it.
    package var trigger: Trigger
    /// The route, topic or queue; empty for direct invokes.
    package var source: String
    /// 1 for the first attempt of an event, 2 for its first retry, and so on.
    package var attempt: Int
    package var start: Date
    package var durationMs: Double
    /// Set on cold starts: the time from spawning the worker to its first `/next`.
    package var initDurationMs: Double?
    package var status: Status
    package var errorType: String?
    package var errorMessage: String?
    package var memorySizeMB: Int
    package var maxMemoryUsedMB: Int
    /// What the function printed while it ran.
    package var output: String
    /// The async event this attempt belongs to (Event invokes and their retries share it).
    package var eventId: String?
    /// The code revision that served it (a hash of the function's directory): tells invocations before and
    /// after a reload or deploy apart.
    package var revision: String?
    /// The host that ran it, when several hosts share one PostgreSQL store.
    package var host: String?

    package init(
        id: String, function: String, version: String = "$LATEST", trigger: Trigger, source: String = "",
        attempt: Int = 1, start: Date, durationMs: Double, initDurationMs: Double? = nil, status: Status,
        errorType: String? = nil, errorMessage: String? = nil, memorySizeMB: Int, maxMemoryUsedMB: Int,
        output: String
    ) {
        self.id = id
        self.function = function
        self.version = version
        self.trigger = trigger
        self.source = source
        self.attempt = attempt
        self.start = start
        self.durationMs = durationMs
        self.initDurationMs = initDurationMs
        self.status = status
        self.errorType = errorType
        self.errorMessage = errorMessage
        self.memorySizeMB = memorySizeMB
        self.maxMemoryUsedMB = maxMemoryUsedMB
        self.output = output
    }
}

/// How an invocation ended, as the dispatcher learns it: the pure mapping from each way to the record's
/// status, error type and message (the "How invocations end" table of the README).
package enum InvocationEnding: Sendable, Equatable {
    /// The handler returned.
    case returned
    /// The handler raised, or its init failed: Lambda's error type, and the message its error JSON carried.
    case functionError(type: String, message: String?)
    /// The host ended it: a timeout, a crash, a memory overrun, the drain timeout.
    case hostError(status: InvocationRecord.Status, type: String, message: String)
    /// No worker could be had: the pool is at its ceiling of `max`.
    case throttled(max: Int)
    /// The runtime could not be started at all.
    case cannotStart(reason: String)
    /// The host is shutting down and takes no more calls.
    case hostStopping
    /// The circuit breaker refused it; its next probe is in `retryAfter` seconds.
    case breakerOpen(retryAfter: Int)

    /// The status, error type and error message it gives the record of `function`.
    package func fields(function: String) -> (
        status: InvocationRecord.Status, errorType: String?, errorMessage: String?
    ) {
        switch self {
        case .returned: (.ok, nil, nil)
        case .functionError(let type, let message): (.error, type, message)
        case .hostError(let status, let type, let message): (status, type, message)
        case .throttled(let max):
            (.throttled, "TooManyRequestsException", "Rate Exceeded: \(function) is at its concurrency limit (\(max))")
        case .cannotStart(let reason): (.error, "Runtime.InvalidEntrypoint", reason)
        case .hostStopping: (.rejected, "ServiceException", "host is shutting down")
        case .breakerOpen(let wait):
            (
                .rejected, "CircuitBreakerOpen",
                "the circuit breaker of \(function) is open after repeated failures; next probe in \(wait) s"
            )
        }
    }

    /// Lambda's error JSON for an ending the host reports itself; `nil` when the function's own bytes answer.
    package func errorBody(function: String) -> [UInt8]? {
        switch self {
        case .returned, .functionError: return nil
        default:
            let fields = fields(function: function)
            return LambdaPayloads.error(type: fields.errorType ?? "", message: fields.errorMessage ?? "")
        }
    }

    /// Whether the call ran, so that its outcome counts for the circuit breaker.
    package var ran: Bool {
        switch self {
        case .returned, .functionError, .hostError, .cannotStart: true
        case .throttled, .hostStopping, .breakerOpen: false
        }
    }
}

extension InvocationRecord {
    /// Sets status, error type and message for `ending`.
    package mutating func end(_ ending: InvocationEnding) {
        (status, errorType, errorMessage) = ending.fields(function: function)
    }
}

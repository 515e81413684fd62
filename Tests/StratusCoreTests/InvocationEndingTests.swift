import Foundation
import StratusCore
import Testing

/// The "How invocations end" table: each way an invocation ends, and what its record and caller see.
@Suite struct InvocationEndingTests {
    @Test(arguments: [
        (InvocationEnding.returned, InvocationRecord.Status.ok, nil as String?, nil as String?, true),
        (.functionError(type: "ValueError", message: "boom"), .error, "ValueError", "boom", true),
        (
            .hostError(status: .timeout, type: "Sandbox.Timedout", message: "Task timed out after 3.00 seconds"),
            .timeout,
            "Sandbox.Timedout", "Task timed out after 3.00 seconds", true
        ),
        (
            .throttled(max: 4), .throttled, "TooManyRequestsException",
            "Rate Exceeded: f is at its concurrency limit (4)", false
        ),
        (
            .cannotStart(reason: "cannot start ./bootstrap"), .error, "Runtime.InvalidEntrypoint",
            "cannot start ./bootstrap", true
        ),
        (.hostStopping, .rejected, "ServiceException", "host is shutting down", false),
        (
            .breakerOpen(retryAfter: 7), .rejected, "CircuitBreakerOpen",
            "the circuit breaker of f is open after repeated failures; next probe in 7 s", false
        ),
    ])
    func eachEndingGivesItsRecord(
        ending: InvocationEnding, status: InvocationRecord.Status, type: String?, message: String?, ran: Bool
    ) throws {
        var record = InvocationRecord(
            id: "1", function: "f", trigger: .cli, start: Date(), durationMs: 0, status: .ok, memorySizeMB: 128,
            maxMemoryUsedMB: 0, output: "")
        record.end(ending)
        #expect(record.status == status && record.errorType == type && record.errorMessage == message)
        #expect(ending.ran == ran, "only a call that ran counts for the breaker")
        if let body = ending.errorBody(function: "f") {
            let fields = try JSONDecoder().decode([String: String].self, from: Data(body))
            #expect(fields == ["errorType": type ?? "", "errorMessage": message ?? ""], "Lambda's error JSON")
        } else {
            #expect(ending == .returned || type == "ValueError", "the function's own bytes answer")
        }
    }
}

import Foundation
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// `/v1/logs` and `/v1/events`: the invocation log and host events, with long polling for `logs --follow`.
struct LogsController {
    let host: StratusHost

    func register(on router: Router<ControlContext>) {
        router.get("/v1/logs") { request, _ in
            let query = try Self.query(request.uri.queryParameters)
            let brief = request.uri.queryParameters.get("brief")
            guard brief == nil || brief == "true" || brief == "false" else {
                throw APIError.invalid("brief must be true or false")
            }
            var records = try await waitForNews(request.uri.queryParameters) {
                try await host.log.invocations(matching: query)
            }
            // `brief=true`: without what the functions printed (the dashboard's list fetches it on a click).
            if brief == "true" {
                for index in records.indices { records[index].output = "" }
            }
            return try JSONBody.response(V1.Invocations(invocations: records))
        }
        router.get("/v1/events") { request, _ in
            let query = try Self.query(request.uri.queryParameters)
            let events = try await waitForNews(request.uri.queryParameters) {
                try await host.log.events(matching: query)
            }
            return try JSONBody.response(V1.Events(events: events))
        }
    }

    /// Runs `read`; with `wait=DURATION` (at most 20 s), an empty answer waits for the next commit to the log
    /// (or the end of the wait) and reads once more, so `logs --follow` is a long poll rather than a polling loop.
    private func waitForNews<T: Sendable>(_ parameters: Parameters, _ read: () async throws -> [T]) async throws -> [T]
    {
        var wait: Duration = .zero
        if let text = parameters.get("wait") {
            guard let value = DurationValue(text).in(Limits.receiveWait) else {
                throw APIError.invalid("wait must be a duration between 0s and 20s")
            }
            wait = value
        }
        let generation = host.log.commitGeneration
        let items = try await read()
        guard items.isEmpty, wait > .zero else { return items }
        await host.log.waitForCommit(since: generation, timeout: wait)
        return try await read()
    }

    static func query(_ parameters: Parameters) throws -> InvocationQuery {
        var query = InvocationQuery()
        if let function = parameters.get("function"), !function.isEmpty { query.function = function }
        if let event = parameters.get("event"), !event.isEmpty { query.eventId = event }
        if let id = parameters.get("id"), !id.isEmpty { query.id = id }
        if let status = parameters.get("status") {
            guard let value = InvocationRecord.Status(rawValue: status) else {
                let allowed = InvocationRecord.Status.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError.invalid("status must be one of \(allowed)")
            }
            query.status = value
        }
        if let since = parameters.get("since") {
            guard let duration = DurationValue(since).in(Limits.logSince) else {
                throw APIError.invalid(
                    "since must be \(DurationParser.expected), at most \(DurationParser.format(Limits.logSince.upperBound))"
                )
            }
            query.since = Date().addingTimeInterval(-duration.seconds)
        }
        if let limit = parameters.get("limit") {
            guard let value = Int(limit), Limits.logPage.contains(value) else {
                throw APIError.invalid(
                    "limit must be an integer between \(Limits.logPage.lowerBound) and \(Limits.logPage.upperBound)")
            }
            query.limit = value
        }
        if let after = parameters.get("after") {
            guard let value = Int64(after), value >= 0 else {
                throw APIError.invalid("after must be a sequence number")
            }
            query.afterSequence = value
        }
        return query
    }
}

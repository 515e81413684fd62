import Foundation
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// The control plane: the `/v1` JSON API the CLI uses, and the AWS facades.
public enum ControlAPI {
    /// Largest synchronous payload, as Lambda's 6 MB limit.
    static let maxPayload = Limits.syncPayloadBytes

    public static func router(host: StratusHost, exposure: ControlExposure = .init()) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ControlExposureMiddleware(exposure: exposure))
        router.add(middleware: APIErrorMiddleware())
        router.get("/v1/health") { _, _ in "ok" }
        router.get("/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        router.get("/v1/functions") { _, _ in try JSONBody.response(host.functionStatus()) }
        router.get("/v1/status") { _, _ in
            try JSONBody.response(StatusBody(
                maxWorkers: host.maxWorkers, isolation: host.isolation, functions: host.functionStatus(),
                queues: try await queueSummaries(host), topics: topicSummaries(host)))
        }
        router.get("/v1/routes") { _, _ in
            try JSONBody.response(["routes": host.project.triggers.routes.map { ["route": $0.routeKey, "function": $0.function] }])
        }
        router.post("/v1/functions/:name/invoke") { request, context in
            let name = try context.parameters.decoded("name")
            let payload = try await collectPayload(request)
            if request.uri.queryParameters.get("async") == "true" {
                guard payload.readableBytes <= Limits.asyncPayloadBytes else {
                    throw APIError(.contentTooLarge, code: "RequestTooLarge", message: "async payload exceeds 1 MB")
                }
                do {
                    let eventId = try await host.invokeAsync(name, payload: String(buffer: payload))
                    return try JSONBody.response(["eventId": eventId, "status": "accepted"], status: .accepted)
                } catch is Dispatcher.DispatchError {
                    throw APIError.notFound(function: name)
                }
            }
            return try await invoke(host: host, name: name, payload: payload)
        }
        router.post("/v1/functions/:name/breaker/reset") { _, context in
            let name = try context.parameters.decoded("name")
            guard host.dispatcher.function(named: name) != nil else { throw APIError.notFound(function: name) }
            guard host.dispatcher.resetBreaker(name) else {
                throw APIError(.badRequest, code: "NoCircuitBreaker", message: "\(name) has circuitBreaker: off")
            }
            return try JSONBody.response(["function": name, "breaker": "CLOSED"])
        }
        router.get("/v1/logs") { request, _ in
            let query = try logQuery(request.uri.queryParameters)
            let records = try await waitForNews(host, request.uri.queryParameters) {
                try await host.log.invocations(matching: query)
            }
            return try JSONBody.response(["invocations": records])
        }
        router.get("/v1/events") { request, _ in
            let query = try logQuery(request.uri.queryParameters)
            let events = try await waitForNews(host, request.uri.queryParameters) { try await host.log.events(matching: query) }
            return try JSONBody.response(["events": events])
        }
        registerMessaging(on: router, host: host)
        Metrics.register(on: router, host: host)
        LambdaFacade.register(on: router, host: host)
        return router
    }

    static func collectPayload(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: maxPayload)
        } catch {
            throw APIError(.contentTooLarge, code: "RequestTooLarge", message: "payload exceeds \(maxPayload) bytes")
        }
    }

    private static func invoke(host: StratusHost, name: String, payload: ByteBuffer) async throws -> Response {
        let result: Dispatcher.Result
        do {
            result = try await host.dispatcher.invoke(name, payload: payload, origin: .init(trigger: .cli))
        } catch {
            throw APIError.notFound(function: name)
        }
        let record = result.record
        var json = "{\"invocationId\":\(JSONBody.quoted(record.id)),\"status\":\"\(record.status.rawValue)\""
        let payloadText = String(buffer: result.payload)
        json += ",\"result\":" + (JSONBody.isJSON(result.payload) ? payloadText : JSONBody.quoted(payloadText))
        json += ",\"durationMs\":\(record.durationMs)"
        json += ",\"initDurationMs\":" + (record.initDurationMs.map { "\($0)" } ?? "null")
        if let type = record.errorType { json += ",\"errorType\":\(JSONBody.quoted(type))" }
        if let message = record.errorMessage { json += ",\"errorMessage\":\(JSONBody.quoted(message))" }
        json += ",\"logs\":\(JSONBody.quoted(record.lambdaLog))}"
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// Runs `read`; with `wait=DURATION` (at most 20 s), an empty answer waits for the next commit to the log
    /// (or the end of the wait) and reads once more, so `logs --follow` is a long poll rather than a polling loop.
    private static func waitForNews<T: Sendable>(
        _ host: StratusHost, _ parameters: Parameters, _ read: () async throws -> [T]
    ) async throws -> [T] {
        var wait: Duration = .zero
        if let text = parameters.get("wait") {
            guard let value = DurationParser.parse(text), Limits.receiveWait.contains(value) else {
                throw APIError(.badRequest, code: "InvalidParameter", message: "wait must be a duration between 0s and 20s")
            }
            wait = value
        }
        let generation = host.log.commitGeneration
        let items = try await read()
        guard items.isEmpty, wait > .zero else { return items }
        await host.log.waitForCommit(since: generation, timeout: wait)
        return try await read()
    }

    private static func logQuery(_ parameters: Parameters) throws -> InvocationQuery {
        var query = InvocationQuery()
        if let function = parameters.get("function"), !function.isEmpty { query.function = function }
        if let event = parameters.get("event"), !event.isEmpty { query.eventId = event }
        if let status = parameters.get("status") {
            guard let value = InvocationRecord.Status(rawValue: status) else {
                let allowed = InvocationRecord.Status.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError(.badRequest, code: "InvalidParameter", message: "status must be one of \(allowed)")
            }
            query.status = value
        }
        if let since = parameters.get("since") {
            guard let duration = DurationParser.parse(since), Limits.logSince.contains(duration) else {
                throw APIError(
                    .badRequest, code: "InvalidParameter",
                    message: "since must be \(DurationParser.expected), at most \(DurationParser.format(Limits.logSince.upperBound))")
            }
            query.since = Date().addingTimeInterval(-duration.seconds)
        }
        if let limit = parameters.get("limit") {
            guard let value = Int(limit), Limits.logPage.contains(value) else {
                throw APIError(
                    .badRequest, code: "InvalidParameter",
                    message: "limit must be an integer between \(Limits.logPage.lowerBound) and \(Limits.logPage.upperBound)")
            }
            query.limit = value
        }
        if let after = parameters.get("after") {
            guard let value = Int64(after), value >= 0 else {
                throw APIError(.badRequest, code: "InvalidParameter", message: "after must be a sequence number")
            }
            query.afterSequence = value
        }
        return query
    }
}

struct StatusBody: Encodable {
    var maxWorkers: Int
    /// How workers are contained: `cgroup` or `process group`.
    var isolation: String
    var functions: [FunctionStatus]
    var queues: [QueueSummary]
    var topics: [TopicSummary]
}

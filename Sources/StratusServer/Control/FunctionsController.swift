import Foundation
import Hummingbird
import StratusCore
import StratusRuntime

/// `/v1/functions`, `/v1/status` and `/v1/routes`: invoke, breakers, and what the host runs.
struct FunctionsController {
    let host: StratusHost

    func register(on router: Router<ControlContext>) {
        router.get("/v1/functions") { _, _ in try JSONBody.response(host.functionStatus()) }
        router.get("/v1/status") { _, _ in
            try JSONBody.response(
                V1.Status(
                    maxWorkers: host.maxWorkers, isolation: host.isolation, functions: host.functionStatus(),
                    queues: try await QueuesController.summaries(host), topics: TopicsController.summaries(host),
                    cluster: try await host.cluster()))
        }
        router.get("/v1/routes") { _, _ in
            try JSONBody.response(
                V1.Routes(routes: host.project.triggers.routes.map { .init(route: $0.routeKey, function: $0.function) })
            )
        }
        router.post("/v1/functions/:name/invoke") { request, context in
            let name = try context.parameters.decoded("name")
            let payload = try await Self.payload(request)
            guard request.uri.queryParameters.get("async") == "true" else { return try await invoke(name, payload) }
            guard payload.readableBytes <= Limits.asyncPayloadBytes else {
                throw APIError(.contentTooLarge, code: "RequestTooLarge", message: "async payload exceeds 1 MB")
            }
            let eventId = try await host.invokeAsync(name, payload: String(buffer: payload))
            return try JSONBody.response(V1.AsyncAccepted(eventId: eventId), status: .accepted)
        }
        router.put("/v1/functions/:name") { request, context in
            let name = try context.parameters.decoded("name")
            guard FunctionConfig.isValidName(name) else {
                throw APIError.invalid("invalid function name '\(name.prefix(100))'; expected [a-z0-9][a-z0-9-]{0,63}")
            }
            guard ControlExposure.isDeploy(request, path: request.uri.path) else {
                throw APIError(
                    .unsupportedMediaType, code: "UnsupportedMediaType",
                    message: "a deploy is a tar of the function's directory: Content-Type: application/x-tar")
            }
            // Refused before a byte of it is read when it says it is too large.
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > Limits.deployArchiveBytes {
                throw APIError(
                    .contentTooLarge, code: "RequestTooLarge",
                    message: "the archive exceeds \(Limits.deployArchiveBytes / 1024 / 1024) MB")
            }
            let archive: ByteBuffer
            do {
                archive = try await request.collectBody(upTo: Limits.deployArchiveBytes)
            } catch {
                throw APIError(
                    .contentTooLarge, code: "RequestTooLarge",
                    message: "the archive exceeds \(Limits.deployArchiveBytes / 1024 / 1024) MB")
            }
            let source =
                request.headers[.stratusSource].map {
                    String(
                        $0.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.prefix(512).map(
                            Character.init))
                } ?? "upload"
            let previous = host.dispatcher.function(named: name)
            do {
                let deployed = try await host.deploy(name, archive: Array(archive.readableBytesView), source: source)
                return try JSONBody.response(deployed, status: previous == nil ? .created : .ok)
            } catch let refusal as StratusHost.DeployRefusal {
                throw Self.apiError(refusal)
            }
        }
        router.get("/v1/functions/:name/versions") { _, context in
            let name = try context.parameters.decoded("name")
            do {
                return try JSONBody.response(try host.versions(of: name))
            } catch let refusal as StratusHost.DeployRefusal {
                throw Self.apiError(refusal)
            }
        }
        router.post("/v1/functions/:name/rollback") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await request.decode(as: V1.Rollback.self, context: context)
            do {
                return try JSONBody.response(try await host.rollback(name, to: body.to))
            } catch let refusal as StratusHost.DeployRefusal {
                throw Self.apiError(refusal)
            }
        }
        router.post("/v1/functions/:name/breaker/reset") { _, context in
            let name = try context.parameters.decoded("name")
            guard host.dispatcher.function(named: name) != nil else { throw APIError.notFound(function: name) }
            guard host.dispatcher.resetBreaker(name) else {
                throw APIError(.badRequest, code: "NoCircuitBreaker", message: "\(name) has circuitBreaker: off")
            }
            return try JSONBody.response(V1.BreakerReset(function: name))
        }
    }

    /// A refused deploy, rollback or versions call in the `/v1` error shape.
    static func apiError(_ refusal: StratusHost.DeployRefusal) -> APIError {
        switch refusal {
        case .unavailable: APIError(.notImplemented, code: "NotAvailable", message: refusal.description)
        case .projectFunction: APIError(.conflict, code: "ProjectFunction", message: refusal.description)
        case .doesNotStart: APIError(.badRequest, code: "FunctionDoesNotStart", message: refusal.description)
        case .notShared: APIError(.serviceUnavailable, code: "StoreUnavailable", message: refusal.description)
        case .refused(let error):
            switch error {
            case .invalidArchive: APIError(.badRequest, code: "InvalidArchive", message: refusal.description)
            case .invalidFunction: APIError(.badRequest, code: "InvalidFunction", message: refusal.description)
            case .notDeployed: APIError(.notFound, code: "FunctionNotFound", message: refusal.description)
            case .unknownRevision: APIError(.notFound, code: "RevisionNotFound", message: refusal.description)
            case .storage: APIError(.internalServerError, code: "StorageError", message: refusal.description)
            }
        }
    }

    /// The event, up to Lambda's 6 MB.
    static func payload(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: Limits.syncPayloadBytes)
        } catch {
            throw APIError(
                .contentTooLarge, code: "RequestTooLarge", message: "payload exceeds \(Limits.syncPayloadBytes) bytes")
        }
    }

    /// Runs the function and answers `V1.InvokeAnswer`, its result passed through as the function's bytes.
    private func invoke(_ name: String, _ payload: ByteBuffer) async throws -> Response {
        let result = try await host.dispatcher.invoke(name, payload: payload, origin: .init(trigger: .cli))
        let record = result.record
        var json = JSONWriter(capacity: result.payload.readableBytes + record.output.utf8.count + 512)
        json.beginObject()
        json.field("invocationId", record.id)
        json.field("status", record.status.rawValue)
        json.key("result")
        json.jsonOrString(result.payload.readableBytesView)
        json.key("durationMs")
        json.number(record.durationMs)
        json.key("initDurationMs")
        if let initDuration = record.initDurationMs { json.number(initDuration) } else { json.null() }
        if let type = record.errorType { json.field("errorType", type) }
        if let message = record.errorMessage { json.field("errorMessage", message) }
        json.field("logs", record.lambdaLog)
        json.endObject()
        return JSONBody.bytes(json.bytes)
    }
}

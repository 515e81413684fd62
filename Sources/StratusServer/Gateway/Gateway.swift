import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime

/// The HTTP trigger gateway: routes from `triggers/*.yaml`, API Gateway HTTP API (v2) semantics.
package struct Gateway: HTTPResponder {
    package typealias Context = BasicRequestContext

    /// Largest request body, as API Gateway's 6 MB payload limit for Lambda.
    static let maxBody = 6 * 1024 * 1024

    let host: StratusHost
    /// How long a caller waits for a function whose own timeout is longer: HTTP API's longest integration timeout.
    let integrationTimeout: Duration

    package init(host: StratusHost, integrationTimeout: Duration = .seconds(30)) {
        self.host = host
        self.integrationTimeout = integrationTimeout
    }

    package func respond(to request: Request, context: Context) async throws -> Response {
        let requestId = RequestID.make()
        let path = request.uri.path
        let method = request.method.rawValue
        let origin = request.headers[.origin]
        let table = host.routes  // as they serve now: `serve --watch` swaps them

        // CORS preflight: answered here, the function is not invoked.
        if method == "OPTIONS", let origin, let wanted = request.headers[.accessControlRequestMethod],
            let match = table.match(method: wanted, path: path), let cors = match.route.cors
        {
            var response = Response(status: .noContent)
            Self.applyCORS(cors, origin: origin, preflight: true, to: &response.headers)
            response.headers[.apigwRequestId] = requestId
            return response
        }
        guard let match = table.match(method: method, path: path) else {
            return Self.message(.notFound, "Not Found", requestId: requestId)
        }
        var response = try await invoke(request, match: match, requestId: requestId)
        if let origin, let cors = match.route.cors {
            Self.applyCORS(cors, origin: origin, preflight: false, to: &response.headers)
        }
        return response
    }

    private func invoke(_ request: Request, match: RouteTable.Match, requestId: String) async throws -> Response {
        if let keys = match.route.apiKeys {
            guard let key = request.headers[.apiKey] else {
                return Self.message(.unauthorized, "Unauthorized", requestId: requestId)
            }
            guard keys.contains(key) else { return Self.message(.forbidden, "Forbidden", requestId: requestId) }
        }
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxBody)
        } catch {
            return Self.message(.contentTooLarge, "Request Entity Too Large", requestId: requestId)
        }
        var event = APIGatewayV2.Request(
            method: request.method.rawValue, rawPath: request.uri.path, rawQueryString: request.uri.query ?? "",
            headers: (request.head.authority.map { [("host", $0)] } ?? [])
                + request.headers.map { ($0.name.rawName, $0.value) } + Self.forwardingHeaders(of: request),
            body: Data(body.readableBytesView),
            requestId: requestId)
        event.time = Date()
        let payload = ByteBuffer(bytes: APIGatewayV2.event(for: event, match: match))
        let result: Dispatcher.Result
        do {
            guard let answered = try await invoke(match.route, payload: payload) else {
                // HTTP API's integration timeout: the caller gets 503, the invocation goes on to its end.
                return Self.message(.serviceUnavailable, "Service Unavailable", requestId: requestId)
            }
            result = answered
        } catch {
            // The route's function failed to load (the serve output says why): API Gateway's answer to a
            // missing integration.
            return Self.message(.badGateway, "Internal Server Error", requestId: requestId)
        }
        var response: Response
        switch result.record.status {
        case .ok:
            if let mapped = APIGatewayV2.response(fromResult: Data(result.payload.readableBytesView)) {
                response = Response(
                    status: .init(code: mapped.statusCode), body: .init(byteBuffer: ByteBuffer(bytes: mapped.body)))
                for (name, value) in mapped.headers where !Self.framingHeaders.contains(name) {
                    if let field = HTTPField.Name(name) { response.headers[field] = value }
                }
                for cookie in mapped.cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
            } else {
                response = Self.message(.badGateway, "Internal Server Error", requestId: requestId)
            }
        // A function that timed out is a function error to HTTP API (Lambda's `Sandbox.Timedout`): 502.
        case .timeout: response = Self.message(.badGateway, "Internal Server Error", requestId: requestId)
        case .throttled: response = Self.message(.tooManyRequests, "Too Many Requests", requestId: requestId)
        case .rejected:
            response = Self.message(.serviceUnavailable, "Service Unavailable", requestId: requestId)
            if let wait = result.retryAfterSeconds { response.headers[.retryAfter] = String(wait) }
        case .error, .crashed: response = Self.message(.badGateway, "Internal Server Error", requestId: requestId)
        }
        response.headers[.apigwRequestId] = requestId
        response.headers[.stratusInvocationId] = result.record.id
        return response
    }

    /// The invocation's result, or `nil` when the integration timeout passed first (the invocation goes on). Only a
    /// function whose timeout is longer than that pays for the race.
    private func invoke(_ route: HTTPRoute, payload: ByteBuffer) async throws -> Dispatcher.Result? {
        let (dispatcher, origin) = (host.dispatcher, Dispatcher.Origin(trigger: .http, source: route.routeKey))
        guard let function = dispatcher.function(named: route.function),
            function.config.timeout > integrationTimeout
        else {
            return try await dispatcher.invoke(route.function, payload: payload, origin: origin)
        }
        let first = OneShot<Result<Dispatcher.Result, any Error>?>()
        Task {
            do {
                first.give(.success(try await dispatcher.invoke(route.function, payload: payload, origin: origin)))
            } catch {
                first.give(.failure(error))
            }
        }
        let timer = Task { [integrationTimeout] in
            try? await Task.sleep(for: integrationTimeout)
            first.give(nil)
        }
        defer { timer.cancel() }
        return try await first.value()?.get()
    }

    /// What API Gateway adds to the headers a function sees: `x-forwarded-for` (the caller's address, after any
    /// the request carried: repeats are joined with commas), `-port`, `-proto`, and `x-amzn-trace-id` unless the
    /// caller sent one.
    static func forwardingHeaders(of request: Request) -> [(String, String)] {
        var headers = [("x-forwarded-for", "127.0.0.1")]
        if request.headers[.forwardedPort] == nil {
            let port = request.head.authority.flatMap { $0.split(separator: ":").last.flatMap { Int($0) } } ?? 80
            headers.append(("x-forwarded-port", String(port)))
        }
        if request.headers[.forwardedProto] == nil { headers.append(("x-forwarded-proto", "http")) }
        if request.headers[.amznTraceId] == nil { headers.append(("x-amzn-trace-id", "Root=" + IDRandom.traceRoot())) }
        return headers
    }

    /// `{"message": text}`.
    private static func messageBody(_ text: String) -> [UInt8] {
        var json = JSONWriter(capacity: text.utf8.count + 16)
        json.beginObject()
        json.field("message", text)
        json.endObject()
        return json.bytes
    }

    /// Headers a function may not set: the gateway frames the response itself (a function's
    /// `content-length` or `transfer-encoding` would corrupt the connection), as API Gateway does.
    static let framingHeaders: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
        "proxy-connection",
    ]

    /// API Gateway's own error shape: `{"message": "..."}`.
    static func message(_ status: HTTPResponse.Status, _ text: String, requestId: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .apigwRequestId: requestId],
            body: .init(byteBuffer: ByteBuffer(bytes: messageBody(text))))
    }

    static func applyCORS(_ cors: HTTPRoute.CORS, origin: String, preflight: Bool, to headers: inout HTTPFields) {
        guard cors.allowOrigins.contains("*") || cors.allowOrigins.contains(origin) else { return }
        headers[.accessControlAllowOrigin] = cors.allowOrigins.contains("*") && !cors.allowCredentials ? "*" : origin
        if cors.allowCredentials { headers[.accessControlAllowCredentials] = "true" }
        if !cors.exposeHeaders.isEmpty {
            headers[.accessControlExposeHeaders] = cors.exposeHeaders.joined(separator: ",")
        }
        guard preflight else { return }
        headers[.accessControlAllowMethods] = cors.allowMethods.joined(separator: ",")
        headers[.accessControlAllowHeaders] = cors.allowHeaders.joined(separator: ",")
        if let maxAge = cors.maxAge { headers[.accessControlMaxAge] = String(maxAge) }
    }
}

extension HTTPField.Name {
    static let apigwRequestId = HTTPField.Name("apigw-requestid")!
    static let stratusInvocationId = HTTPField.Name("x-stratus-invocation-id")!
    static let apiKey = HTTPField.Name("x-api-key")!
    static let amznTraceId = HTTPField.Name("x-amzn-trace-id")!
    static let forwardedPort = HTTPField.Name("x-forwarded-port")!
    static let forwardedProto = HTTPField.Name("x-forwarded-proto")!
}

import Foundation
import Hummingbird

/// An error of the `/v1` control API, rendered as `{"error":{"code":…,"message":…}}`.
public struct APIError: HTTPResponseError {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let object: [String: Any] = ["error": ["code": code, "message": message]]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func notFound(function name: String) -> APIError {
        APIError(.notFound, code: "FunctionNotFound", message: "no function named '\(name)' is loaded")
    }
}

/// Gives `/v1` answers that Hummingbird produces itself (no such route, wrong method, body too large) the
/// `/v1` error shape instead of an empty body.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where request.uri.path.hasPrefix("/v1/") {
            let code =
                switch error.status {
                case .notFound: "NotFound"
                case .methodNotAllowed: "MethodNotAllowed"
                case .contentTooLarge: "RequestTooLarge"
                default: error.status.code < 500 ? "InvalidRequest" : "InternalError"
                }
            let message =
                error.status == .notFound
                ? "no endpoint \(request.method) \(request.uri.path.prefix(200)); see /v1/openapi.json"
                : error.body ?? error.status.reasonPhrase
            throw APIError(error.status, code: code, message: message)
        }
    }
}

extension Parameters {
    /// The path parameter `name`, percent-decoded (`my%2Dqueue` is `my-queue`).
    func decoded(_ name: String) throws -> String {
        let raw = try require(name)
        return raw.removingPercentEncoding ?? raw
    }
}

import Foundation
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// An error of the `/v1` control API, rendered as `{"error":{"code":…,"message":…}}`.
package struct APIError: HTTPResponseError {
    package var status: HTTPResponse.Status
    package var code: String
    package var message: String

    package init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONBody.response(V1.ErrorBody(code: code, message: message), status: status)
    }

    static func notFound(function name: String) -> APIError {
        APIError(.notFound, code: "FunctionNotFound", message: "no function named '\(name.prefix(100))' is loaded")
    }

    static func invalid(_ message: String) -> APIError {
        APIError(.badRequest, code: "InvalidParameter", message: message)
    }
}

/// The one place errors become `/v1` answers: the runtime's queue, topic, store and dispatch errors, and
/// what Hummingbird answers itself (no such route, wrong method, body too large), each in the
/// `{"error":…}` shape with its status.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as QueueService.QueueError {
            let status: HTTPResponse.Status =
                switch error.code {
                case .notFound: .notFound
                case .tooLarge: .contentTooLarge
                case .invalid: .badRequest
                case .alreadyExists: .conflict
                case .overLimit: .forbidden
                }
            throw APIError(status, code: error.code.rawValue, message: error.message)
        } catch let error as TopicPublisher.TopicError {
            switch error.code {
            case .notFound: throw APIError(.notFound, code: "TopicNotFound", message: error.message)
            case .tooLarge: throw APIError(.contentTooLarge, code: "MessageTooLong", message: error.message)
            case .invalid: throw APIError(.badRequest, code: error.code.rawValue, message: error.message)
            case .overLimit: throw APIError(.forbidden, code: error.code.rawValue, message: error.message)
            }
        } catch let error as StoreError where error.code == .queueDoesNotExist {
            throw APIError(.notFound, code: "QueueDoesNotExist", message: error.message)
        } catch let error as StoreError where error.code == .topicDoesNotExist {
            throw APIError(.notFound, code: "TopicNotFound", message: error.message)
        } catch let error as StoreError where error.code == .unavailable {
            // Nothing was written: the client may try again (HTTP routes and sync invokes keep working).
            throw APIError(.serviceUnavailable, code: "StoreUnavailable", message: error.message)
        } catch Dispatcher.DispatchError.functionNotFound(let name) {
            throw APIError.notFound(function: name)
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
        } catch let error as HTTPError
            where (error.status == .notFound || error.status == .methodNotAllowed)
            && LambdaFacade.isLambdaPath(request.uri.path)
        {
            // A Lambda operation Stratus does not implement: an error the aws CLI and boto3 can show.
            return LambdaFacade.error(
                .badRequest, type: "UnsupportedOperationException",
                body: [
                    "Type": "User",
                    "message":
                        "Stratus does not implement \(request.method) \(request.uri.path.prefix(200)) of the Lambda API (see the README's Lambda operation table)",
                ])
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

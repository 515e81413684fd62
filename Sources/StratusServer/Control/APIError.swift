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

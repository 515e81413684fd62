import Foundation
import Hummingbird
import StratusCore

/// Answers with JSON.
enum JSONBody {
    /// `value` encoded with `V1.encoder`.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        bytes(try V1.encoder.encode(value), status: status)
    }

    /// JSON already written (by `JSONWriter`).
    static func bytes(_ json: some Sequence<UInt8>, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}

import Foundation
import Hummingbird
import StratusCore

/// The request context of the control plane: `/v1` bodies decode with `V1.decoder`, an empty body as `{}`,
/// and a body that does not decode is a 400 `InvalidParameter` that says which key is wrong.
package struct ControlContext: RequestContext {
    package var coreContext: CoreRequestContextStorage

    package init(source: Source) {
        coreContext = .init(source: source)
    }

    package var requestDecoder: V1RequestDecoder { V1RequestDecoder() }
    /// A `/v1` request body that is not a payload: 2 MiB.
    package var maxUploadSize: Int { Limits.requestBytes }
}

/// Decodes `/v1` request bodies (see `ControlContext`).
package struct V1RequestDecoder: RequestDecoder {
    package func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws
        -> T
    {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch {
            throw APIError(
                .contentTooLarge, code: "RequestTooLarge",
                message: "request body exceeds \(context.maxUploadSize) bytes")
        }
        let data = buffer.readableBytes == 0 ? Data("{}".utf8) : Data(buffer.readableBytesView)
        // `null` is not "absent": a key set to null is refused unless the request type lets it clear something.
        if let object = JSONValue.parseObject(data) {
            let clearable = (T.self as? any V1.Clearable.Type)?.clearableKeys ?? []
            if let key = object.filter({ $0.value == .null && !clearable.contains($0.key) }).keys.sorted().first {
                throw APIError.invalid("'\(key.prefix(100))' must not be null")
            }
        }
        do {
            return try V1.decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.invalid(Self.describe(error))
        }
    }

    /// What is wrong, naming the key: `'max' must be a number`, `'name' is required`, `unknown key 'colour'`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(
                of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "'\(path(context.codingPath + [key]))' is required"
        case .valueNotFound(_, let context):
            return "'\(path(context.codingPath))' must not be null"
        case .typeMismatch(let type, let context):
            let expected =
                switch type {
                case is String.Type, is String?.Type: "a string"
                case is Int.Type, is Int64.Type, is Int?.Type: "an integer"
                case is Bool.Type, is Bool?.Type: "true or false"
                case is [String].Type: "a list of strings"
                default:
                    context.debugDescription.hasPrefix("expected")
                        ? String(context.debugDescription.dropFirst(9)) : "\(type)"
                }
            return context.codingPath.isEmpty
                ? "request body must be a JSON object" : "'\(path(context.codingPath))' must be \(expected)"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "request body must be a JSON object" }
            return context.debugDescription.hasPrefix("unknown key")
                ? context.debugDescription : "'\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "request body does not match the API"
        }
    }
}

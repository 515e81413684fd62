import Foundation
import Hummingbird
import StratusCore

/// Small helpers to answer with JSON without a Codable round trip for payloads that are already JSON.
enum JSONBody {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(MessagingEvents.isoTimestamp(date))
        }
        return encoder
    }()

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Whether a value from `JSONSerialization` is `true` or `false` (on Linux, `1 is Bool` holds too, so the
    /// type of the number is what tells them apart).
    static func isBool(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// A JSON number that is not a boolean.
    static func number(_ value: Any) -> NSNumber? {
        guard let number = value as? NSNumber, !isBool(number) else { return nil }
        return number
    }

    /// Whether `buffer` holds one JSON value (object, array, string, number, literal).
    static func isJSON(_ buffer: ByteBuffer) -> Bool {
        guard buffer.readableBytes > 0 else { return false }
        return (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: [.fragmentsAllowed])) != nil
    }

    /// `value` as a JSON string literal.
    static func quoted(_ value: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [value], options: [.fragmentsAllowed])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}

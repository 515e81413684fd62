import Foundation

/// The `/v1` control API's requests and answers, shared by the server and the CLI. Dates are ISO 8601 in
/// UTC with milliseconds (`2026-11-29T21:18:52.012Z`).
package enum V1 {
    /// The encoder of every `/v1` answer: keys sorted, dates as above.
    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(MessagingEvents.isoTimestamp(date))
        }
        return encoder
    }()

    /// The decoder of every `/v1` request and answer.
    package static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
                return date
            }
            // Hosts before 2026-11-29 wrote no zone.
            if let date = try? Date(
                text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
            {
                return date
            }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "expected an ISO 8601 time such as 2026-11-30T10:00:00Z"))
        }
        return decoder
    }()

    /// Every `/v1` error: `{"error":{"code":…,"message":…}}`.
    package struct ErrorBody: Sendable, Codable {
        package struct Detail: Sendable, Codable {
            /// Stable, e.g. `QueueDoesNotExist`, `InvalidParameter`.
            package var code: String
            /// What is wrong, for a person.
            package var message: String
        }

        package var error: Detail

        package init(code: String, message: String) {
            error = Detail(code: code, message: message)
        }
    }
}

extension V1 {
    /// A request whose keys may be `null` to clear a setting; every other key set to `null` is refused.
    package protocol Clearable {
        static var clearableKeys: Set<String> { get }
    }
}

/// A request type that refuses keys it does not know (a typo must not be ignored silently).
package protocol StrictlyDecodable: Decodable {
    associatedtype Keys: CodingKey & CaseIterable
}

extension Decoder {
    /// Throws `DecodingError.dataCorrupted` naming the first key of the object that `Keys` does not list.
    package func refuseUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        let container = try container(keyedBy: AnyCodingKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        if let unknown = container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }).first(where: {
            !known.contains($0.stringValue)
        }) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: codingPath + [unknown],
                    debugDescription: "unknown key '\(unknown.stringValue.prefix(100))'; expected one of: "
                        + Keys.allCases.map(\.stringValue).sorted().joined(separator: ", ")))
        }
    }
}

/// Any key, to list what an object holds.
package struct AnyCodingKey: CodingKey, Sendable {
    package var stringValue: String
    package var intValue: Int?

    package init(stringValue: String) {
        self.stringValue = stringValue
    }

    package init(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

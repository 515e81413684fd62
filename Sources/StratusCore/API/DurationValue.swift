/// A duration as `/v1` takes it: a string such as `"30s"` or `"500ms"`, or a number of milliseconds.
/// Decoding never fails on the value itself; `in(_:)` checks it against a `Limits` range.
package struct DurationValue: Sendable, Equatable, Codable, ExpressibleByStringLiteral {
    /// What the client sent, for errors.
    package var text: String
    /// The duration, when `text` is one (at most `DurationParser.maximum`).
    package var duration: Duration?

    package init(_ text: String) {
        self.text = text
        duration = DurationParser.parse(text)
    }

    package init(stringLiteral value: String) {
        self.init(value)
    }

    package init(milliseconds: Int64) {
        text = String(milliseconds)
        duration =
            milliseconds >= 0 && milliseconds <= DurationParser.maximum.milliseconds ? .milliseconds(milliseconds) : nil
    }

    private init(unparsable text: String) {
        self.text = text
        duration = nil
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.init(text)
        } else if let number = try? container.decode(Double.self) {
            // A whole, finite number of milliseconds; anything else is kept only to be refused by `in(_:)`.
            if let ms = Int64(exactly: number) {
                self.init(milliseconds: ms)
            } else {
                self.init(unparsable: "\(number)")
            }
        } else {
            throw DecodingError.typeMismatch(
                DurationValue.self,
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "expected a duration such as \"30s\" or milliseconds"))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    /// The duration when it lies within `range`, else `nil`.
    package func `in`(_ range: ClosedRange<Duration>) -> Duration? {
        guard let duration, range.contains(duration) else { return nil }
        return duration
    }
}

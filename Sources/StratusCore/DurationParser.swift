/// Parses the duration syntax used in manifests and requests: `500ms`, `3s`, `2m`, `6h`, `4d`.
package enum DurationParser {
    /// What a valid duration looks like, for error messages.
    package static let expected = "a duration such as 500ms, 3s, 2m, 6h or 4d"

    /// The longest duration Stratus accepts anywhere (3650 days); each setting has its own, smaller limit.
    package static let maximum: Duration = .seconds(3650 * 86_400)

    /// Returns the duration, or `nil` when `text` is not a non-negative integer followed by a unit, or is
    /// longer than `maximum`. Never traps, whatever the digits.
    package static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 18, let value = Int64(digits) else { return nil }
        let unitMs: Int64
        switch trimmed.dropFirst(digits.count) {
        case "ms": unitMs = 1
        case "s": unitMs = 1000
        case "m": unitMs = 60_000
        case "h": unitMs = 3_600_000
        case "d": unitMs = 86_400_000
        default: return nil
        }
        let (ms, overflow) = value.multipliedReportingOverflow(by: unitMs)
        guard !overflow, ms <= maximum.milliseconds else { return nil }
        return .milliseconds(ms)
    }

    /// Parses `text` and checks it against `range`; the error says what was expected, for any caller.
    package static func parse(_ text: String, in range: ClosedRange<Duration>) -> Result<Duration, RangeError> {
        guard let value = parse(text) else { return .failure(RangeError(range: range, got: text)) }
        guard range.contains(value) else { return .failure(RangeError(range: range, got: text)) }
        return .success(value)
    }

    /// A duration that did not parse or fell outside its setting's range.
    package struct RangeError: Error, Sendable, CustomStringConvertible {
        package var range: ClosedRange<Duration>
        package var got: String
        package var description: String {
            "expected a duration between \(format(range.lowerBound)) and \(format(range.upperBound)), "
                + "such as 500ms, 3s, 2m, 6h or 4d (got '\(got)')"
        }
    }

    /// Formats a duration back into the manifest syntax, choosing the largest exact unit.
    package static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where ms >= size && ms % size == 0 {
            return "\(ms / size)\(unit)"
        }
        return "\(ms)ms"
    }
}

extension Duration {
    /// The whole number of milliseconds in this duration, saturating at `Int64`'s bounds instead of trapping.
    package var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflow2) = ms.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return overflow2 ? (ms < 0 ? .min : .max) : total
    }

    /// This duration as fractional seconds.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension Int64 {
    /// `self + other`, pinned to `Int64`'s bounds instead of trapping: for epoch-millisecond arithmetic on
    /// values that came from outside.
    package func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other < 0 ? .min : .max) : sum
    }

    /// `self - other`, pinned to `Int64`'s bounds instead of trapping.
    package func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}

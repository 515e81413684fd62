/// Parses the duration syntax used in manifests: `500ms`, `3s`, `2m`, `6h`, `4d`.
public enum DurationParser {
    /// What a valid duration looks like, for error messages.
    public static let expected = "a duration such as 500ms, 3s, 2m, 6h or 4d"

    /// Returns the duration, or `nil` when `text` is not a non-negative integer followed by a unit.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int64(digits) else { return nil }
        switch trimmed.dropFirst(digits.count) {
        case "ms": return .milliseconds(value)
        case "s": return .seconds(value)
        case "m": return .seconds(value * 60)
        case "h": return .seconds(value * 3600)
        case "d": return .seconds(value * 86_400)
        default: return nil
        }
    }

    /// Formats a duration back into the manifest syntax, choosing the largest exact unit.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where ms >= size && ms % size == 0 {
            return "\(ms / size)\(unit)"
        }
        return "\(ms)ms"
    }
}

extension Duration {
    /// The whole number of milliseconds in this duration.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// This duration as fractional seconds.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// Regular expressions (ECMA-262 syntax, which ICU, Python's `re` and editors all read alike for these) for
/// the schemas' strings, generated from the same limits the parsers use.
package enum SchemaPattern {
    /// The blanks `trimmingCharacters(in: .whitespaces)` removes: tab and Unicode's space separators (Zs).
    static let blanks = #"[\t \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]*"#

    private static let units: [(name: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Exactly the texts `DurationParser.parse(_:in: range)` accepts: blanks, at most 18 ASCII digits and a
    /// unit, blanks; the number of that unit within `range`.
    package static func duration(_ range: ClosedRange<Duration>) -> String {
        let low = range.lowerBound.milliseconds
        let high = range.upperBound.milliseconds
        var alternatives: [String] = []
        for unit in units {
            let (quotient, remainder) = low.quotientAndRemainder(dividingBy: unit.milliseconds)
            let first = remainder > 0 ? quotient + 1 : quotient
            let last = high / unit.milliseconds
            guard first <= last else { continue }
            alternatives.append(group(integers(first...last)) + unit.name)
        }
        let digitsAndUnit = "(?=[0-9]{1,18}(?:ms|s|m|h|d)\(blanks)$)"
        return "^\(blanks)\(digitsAndUnit)0*(?:\(alternatives.joined(separator: "|")))\(blanks)$"
    }

    /// The decimal numbers in `range` written without leading zeros (`0` itself is `0`).
    package static func integers(_ range: ClosedRange<Int64>) -> String {
        precondition(range.lowerBound >= 0, "non-negative ranges only")
        var parts: [String] = []
        var start = range.lowerBound
        while true {
            let digits = String(start).count
            let largest = digits >= 19 ? Int64.max : pow10(digits) - 1
            let end = min(range.upperBound, largest)
            parts.append(sameLength(Array(String(start)), Array(String(end))))
            guard end < range.upperBound else { break }
            start = end + 1
        }
        return parts.joined(separator: "|")
    }

    /// `word` in any mix of upper and lower case: `[Gg][Ee][Tt]`.
    package static func anyCase(_ word: String) -> String {
        word.map { character in
            let lower = character.lowercased()
            let upper = character.uppercased()
            return lower == upper ? String(character) : "[\(upper)\(lower)]"
        }.joined()
    }

    private static func pow10(_ exponent: Int) -> Int64 {
        (0..<exponent).reduce(Int64(1)) { value, _ in value * 10 }
    }

    /// The numbers from `low` to `high`, both `count` digits long.
    private static func sameLength(_ low: [Character], _ high: [Character]) -> String {
        guard let lowFirst = low.first, let highFirst = high.first else { return "" }
        if low == high { return String(low) }
        let rest = low.count - 1
        if lowFirst == highFirst {
            return String(lowFirst) + group(sameLength(Array(low.dropFirst()), Array(high.dropFirst())))
        }
        let lowRestIsZeros = low.dropFirst().allSatisfy { $0 == "0" }
        let highRestIsNines = high.dropFirst().allSatisfy { $0 == "9" }
        var alternatives: [String] = []
        var middleLow = lowFirst
        var middleHigh = highFirst
        if !lowRestIsZeros {
            alternatives.append(
                String(lowFirst) + group(sameLength(Array(low.dropFirst()), Array(repeating: "9", count: rest))))
            middleLow = digit(after: lowFirst)
        }
        if !highRestIsNines { middleHigh = digit(before: highFirst) }
        if middleLow <= middleHigh { alternatives.append(digits(middleLow, middleHigh) + anyDigits(rest)) }
        if !highRestIsNines {
            alternatives.append(
                String(highFirst) + group(sameLength(Array(repeating: "0", count: rest), Array(high.dropFirst()))))
        }
        return alternatives.joined(separator: "|")
    }

    private static let decimalDigits = Array("0123456789")

    /// The next decimal digit; only called with 0 to 8.
    private static func digit(after character: Character) -> Character {
        decimalDigits[min(9, (decimalDigits.firstIndex(of: character) ?? 0) + 1)]
    }

    /// The previous decimal digit; only called with 1 to 9.
    private static func digit(before character: Character) -> Character {
        decimalDigits[max(0, (decimalDigits.firstIndex(of: character) ?? 0) - 1)]
    }

    private static func digits(_ low: Character, _ high: Character) -> String {
        low == high ? String(low) : "[\(low)-\(high)]"
    }

    private static func anyDigits(_ count: Int) -> String {
        switch count {
        case 0: return ""
        case 1: return "[0-9]"
        default: return "[0-9]{\(count)}"
        }
    }

    /// `text` as one unit of a pattern: in a non-capturing group when it has alternatives.
    private static func group(_ text: String) -> String {
        text.contains("|") ? "(?:\(text))" : text
    }
}

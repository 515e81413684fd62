import Foundation

/// An SNS subscription filter policy, validated, that decides whether a message reaches a subscription.
///
/// Keys are ANDed, the conditions in one key's array are ORed, and `"$or": [{...}, {...}]` ORs whole
/// sub-policies. Attribute scope matches ``MessageAttribute``s and must be flat; body scope matches a
/// JSON-object message body and may nest. A message the policy does not match is dropped for that
/// subscription. Strings compare case-sensitively; numbers compare with five digits after the point.
package struct FilterPolicy: Sendable, Equatable {
    /// What a policy is matched against, named as the `FilterPolicyScope` subscription attribute names it.
    package enum Scope: String, Sendable {
        /// The message attributes (SNS's default); the policy must be flat.
        case messageAttributes = "MessageAttributes"
        /// The message body, which must be a JSON object; the policy may nest.
        case messageBody = "MessageBody"
    }

    /// A policy SNS would reject, with a message naming the key and what was expected.
    package struct InvalidPolicy: Error, Sendable, Equatable, CustomStringConvertible {
        /// The key path of the problem, e.g. `sport`, `store.city` or `$or[1].sport`; empty for the whole policy.
        package var key: String
        /// What is wrong and what was expected, led by the quoted key when there is one.
        package var message: String

        /// Creates an error from a key path and a complete message.
        package init(key: String, message: String) {
            self.key = key
            self.message = message
        }

        /// `FilterPolicy: <message>`: what SNS puts after `Invalid parameter: ` in an `InvalidParameter` error.
        package var description: String { "FilterPolicy: \(message)" }
    }

    /// Whether ``matches(body:attributes:)`` looks at the attributes or at the body.
    package var scope: Scope
    /// The parsed policy: every field and every `$or` group of the root must match.
    var root: Rule

    /// Tells whether a message's attributes satisfy the policy (attribute scope).
    ///
    /// `String` (and `String.<custom>`) attributes are strings, `Number` attributes are numbers,
    /// `String.Array` attributes match when any element matches, and `Binary` attributes are ignored,
    /// as if absent. A missing attribute fails every condition except `{"exists": false}`.
    package func matches(attributes: [String: MessageAttribute]) -> Bool {
        var document: [String: JSON] = [:]
        for (name, attribute) in attributes {
            document[name] = attribute.filterValue
        }
        return root.matches(document)
    }

    /// Tells whether a message body satisfies the policy (body scope); a body that is not a JSON object never does.
    ///
    /// Nested policy objects match nested body objects; a body array matches when any element matches.
    package func matches(body: String) -> Bool {
        guard case .object(let object)? = JSON(text: body) else { return false }
        return root.matches(object)
    }

    /// Tells whether a Lambda event filter's record `{"body": …}` satisfies the policy: a body that is JSON is
    /// its value, any other body a string.
    package func matches(recordBody body: String) -> Bool {
        root.matches(["body": JSON(text: body) ?? .scalar(.string(body))])
    }

    /// Tells whether a message satisfies the policy, looking at the body or the attributes as ``scope`` says.
    package func matches(body: String, attributes: [String: MessageAttribute]) -> Bool {
        switch scope {
        case .messageAttributes: matches(attributes: attributes)
        case .messageBody: matches(body: body)
        }
    }
}

/// One SNS message attribute as Publish receives it: a data type and its value as text.
package struct MessageAttribute: Sendable, Equatable, Codable {
    /// `String`, `Number`, `String.Array` or `Binary`, optionally followed by `.<custom label>`.
    package var dataType: String
    /// The value: the string, the number's text, a JSON array's text, or base64 for `Binary`.
    package var stringValue: String

    /// Creates an attribute from its data type and value text.
    package init(dataType: String, stringValue: String) {
        self.dataType = dataType
        self.stringValue = stringValue
    }

    /// The value a filter policy sees, or `nil` when filtering ignores the attribute (`Binary`, unparseable arrays).
    var filterValue: FilterPolicy.JSON? {
        if dataType == "String.Array" {
            guard case .array(let elements)? = FilterPolicy.JSON(text: stringValue) else { return nil }
            return .array(elements)
        }
        if dataType == "String" || dataType.hasPrefix("String.") {
            return .scalar(.string(stringValue))
        }
        if dataType == "Number" || dataType.hasPrefix("Number.") {
            let text = stringValue.trimmingCharacters(in: .whitespaces)
            // Swift also reads hex floats, "nan" and "inf"; SNS numbers are decimal and finite.
            if !text.contains(where: { $0 == "x" || $0 == "X" }), let number = Double(text), number.isFinite {
                return .scalar(.number(number))
            }
            return .scalar(.string(stringValue))
        }
        return nil
    }
}

// MARK: - Model and matching

extension FilterPolicy {
    /// A JSON leaf value, in a policy or in a message.
    enum Scalar: Sendable, Equatable {
        case string(String)
        case number(Double)
        case bool(Bool)
        case null

        /// Equality as SNS compares values: numbers to five digits after the point, strings exactly.
        func isSame(as other: Scalar) -> Bool {
            if case .number(let left) = self, case .number(let right) = other {
                return FilterPolicy.quantized(left) == FilterPolicy.quantized(right)
            }
            return self == other
        }
    }

    /// A JSON value: a policy as parsed, or a message body or attribute set to match.
    enum JSON: Sendable, Equatable {
        case scalar(Scalar)
        case array([JSON])
        case object([String: JSON])

        /// The leaf values a condition is tested against; arrays contribute their elements, objects nothing.
        var leaves: [Scalar] {
            switch self {
            case .scalar(let scalar): [scalar]
            case .array(let elements): elements.flatMap(\.leaves)
            case .object: []
            }
        }

        /// The objects a nested policy is tested against; arrays contribute their object elements.
        var objects: [[String: JSON]] {
            switch self {
            case .scalar: []
            case .array(let elements): elements.flatMap(\.objects)
            case .object(let object): [object]
            }
        }
    }

    /// One level of a policy: every field and every `$or` group must match.
    struct Rule: Sendable, Equatable {
        var fields: [String: Field] = [:]
        /// Each group is a `$or`: at least one of its rules must match the same object.
        var anyOf: [[Rule]] = []

        func matches(_ object: [String: JSON]) -> Bool {
            for (key, field) in fields {
                switch field {
                case .conditions(let conditions):
                    // A key without a dot names its member only: no walk over the others.
                    let values =
                        key.utf8.contains(UInt8(ascii: "."))
                        ? Self.values(key, in: object).flatMap(\.leaves) : object[key]?.leaves ?? []
                    guard conditions.contains(where: { $0.matches(values) }) else { return false }
                case .nested(let rule):
                    // A missing or non-object value is an empty object, so `exists: false` inside still holds.
                    let candidates = Self.values(key, in: object).flatMap(\.objects)
                    guard (candidates.isEmpty ? [[:]] : candidates).contains(where: rule.matches) else { return false }
                }
            }
            return anyOf.allSatisfy { group in group.contains { $0.matches(object) } }
        }

        /// What `key` names in `object`. SNS reads body keys as dotted paths, so besides the member of that name:
        /// a dotted key (`a.b`) names what its rest names in the member its first part names (`{"a": {"b": …}}`),
        /// and members whose dotted names go on past `key` (`{"a.b": …}` for `a`) make up one more object.
        static func values(_ key: String, in object: [String: JSON]) -> [JSON] {
            var found: [JSON] = []
            var deeper: [String: JSON] = [:]
            for (name, value) in object {
                if name == key {
                    found.append(value)
                } else if key.utf8.count > name.utf8.count, key.hasPrefix(name),
                    key.utf8[key.utf8.index(key.utf8.startIndex, offsetBy: name.utf8.count)] == UInt8(ascii: ".")
                {
                    let rest = String(decoding: key.utf8.dropFirst(name.utf8.count + 1), as: UTF8.self)
                    for nested in value.objects { found += values(rest, in: nested) }
                } else if name.utf8.count > key.utf8.count, name.hasPrefix(key),
                    name.utf8[name.utf8.index(name.utf8.startIndex, offsetBy: key.utf8.count)] == UInt8(ascii: ".")
                {
                    deeper[String(decoding: name.utf8.dropFirst(key.utf8.count + 1), as: UTF8.self)] = value
                }
            }
            if !deeper.isEmpty { found.append(.object(deeper)) }
            return found
        }

        /// The key names this level contributes to the five-key limit, `$or` branches included (in body scope the
        /// top-level keys, as AWS's filter policy constraints count them today).
        var keyNames: Set<String> {
            anyOf.joined().reduce(into: Set(fields.keys)) { $0.formUnion($1.keyNames) }
        }
    }

    /// What a policy key holds: conditions (ORed) or, in body scope, a nested rule.
    indirect enum Field: Sendable, Equatable {
        case conditions([Condition])
        case nested(Rule)
    }

    /// One entry of a key's condition array.
    enum Condition: Sendable, Equatable {
        case equals(Scalar)
        case prefix(String)
        case suffix(String)
        case equalsIgnoreCase(String)
        case anythingBut([Scalar])
        case anythingButPrefix(String)
        case numeric(NumericRange)
        case exists(Bool)
        case cidr(IPNetwork)

        /// Whether the condition holds for a key with these leaf values; no values means the key is missing.
        func matches(_ values: [Scalar]) -> Bool {
            if case .exists(let expected) = self { return expected != values.isEmpty }
            return values.contains(where: matches(value:))
        }

        private func matches(value: Scalar) -> Bool {
            switch (self, value) {
            case (.equals(let expected), _): expected.isSame(as: value)
            case (.prefix(let prefix), .string(let text)): text.utf8.starts(with: prefix.utf8)
            case (.suffix(let suffix), .string(let text)): text.utf8.reversed().starts(with: suffix.utf8.reversed())
            case (.equalsIgnoreCase(let expected), .string(let text)): text.lowercased() == expected.lowercased()
            case (.anythingBut(let excluded), _): !excluded.contains { $0.isSame(as: value) }
            case (.anythingButPrefix(let prefix), .string(let text)): !text.utf8.starts(with: prefix.utf8)
            case (.anythingButPrefix, _): true
            case (.numeric(let range), .number(let number)): range.contains(number)
            case (.cidr(let network), .string(let text)): IPNetwork.address(text).map(network.contains) ?? false
            default: false
            }
        }
    }

    /// A `numeric` condition: one bound, both bounds, or equality (both bounds inclusive and equal).
    struct NumericRange: Sendable, Equatable {
        struct Bound: Sendable, Equatable {
            var value: Double
            var inclusive: Bool
        }

        var lower: Bound?
        var upper: Bound?

        func contains(_ number: Double) -> Bool {
            let value = FilterPolicy.quantized(number)
            if let lower {
                let bound = FilterPolicy.quantized(lower.value)
                guard lower.inclusive ? value >= bound : value > bound else { return false }
            }
            if let upper {
                let bound = FilterPolicy.quantized(upper.value)
                guard upper.inclusive ? value <= bound : value < bound else { return false }
            }
            return true
        }
    }

    /// A number at the precision SNS compares: five digits after the decimal point.
    static func quantized(_ number: Double) -> Double {
        (number * 100_000).rounded()
    }
}

extension MessageAttribute {
    /// What the attributes add to a message's size, as SQS and SNS count it: each name, type and value (a
    /// Binary value by its bytes, not its base64 text).
    package static func size(of attributes: [String: MessageAttribute]) -> Int {
        attributes.reduce(0) { total, entry in
            let value = entry.value
            var bytes = value.stringValue.utf8.count
            if value.isBinary {
                let padding = value.stringValue.utf8.reversed().prefix(2).prefix { $0 == UInt8(ascii: "=") }.count
                bytes = bytes / 4 * 3 - padding
            }
            return total + entry.key.utf8.count + value.dataType.utf8.count + Swift.max(0, bytes)
        }
    }

    /// SQS's and SNS's allowed characters: `#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF`
    /// (what XML 1.0 can carry).
    package static func hasAllowedCharacters(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
            default: false
            }
        }
    }

    /// A decimal number as SQS takes one: optional sign, digits, optional fraction and exponent, within
    /// ±10^126 (no `NaN`, `Infinity` or hexadecimal).
    static func isDecimal(_ text: String) -> Bool {
        let bytes = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        let whole = digits()
        var fraction = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fraction = digits()
        }
        guard whole + fraction > 0 else { return false }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                index += 1
            }
            guard digits() > 0 else { return false }
        }
        guard index == bytes.count, let value = Double(String(decoding: bytes, as: UTF8.self)) else { return false }
        return value.isFinite && abs(value) <= 1e126
    }

    /// What is wrong with a message's attributes, as SQS and SNS check them, or `nil` when they are valid:
    /// at most `maxCount` (SQS's 10; SNS takes more, only a raw delivery to a queue is limited to 10); names of
    /// 1–256 letters, digits, `-`, `_` or `.`, not starting with `AWS.` or `Amazon.`; a data type of `String`,
    /// `Number` or `Binary` (with an optional `.label`); numbers that parse.
    package static func problem(in attributes: [String: MessageAttribute], maxCount: Int = Limits.messageAttributes)
        -> String?
    {
        if attributes.count > maxCount {
            return "Number of message attributes [\(attributes.count)] exceeds the allowed maximum [\(maxCount)]."
        }
        for (name, attribute) in attributes.sorted(by: { $0.key < $1.key }) {
            let validName =
                (1...256).contains(name.utf8.count)
                && name.utf8.allSatisfy { c in
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D
                        || c == 0x5F || c == 0x2E
                }
                && !name.hasPrefix(".") && !name.hasSuffix(".") && !name.contains("..")
                && !name.lowercased().hasPrefix("aws.") && !name.lowercased().hasPrefix("amazon.")
            guard validName else {
                return
                    "invalid message attribute name '\(name.prefix(300))'; expected 1-256 letters, digits, '-', '_' or '.'"
            }
            let base = attribute.dataType.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
            guard ["String", "Number", "Binary"].contains(base), attribute.dataType.utf8.count <= 256 else {
                return
                    "message attribute '\(name)' has data type '\(attribute.dataType.prefix(300))'; expected String, Number or Binary"
            }
            if base == "Number", !Self.isDecimal(attribute.stringValue) {
                return
                    "message attribute '\(name)' is a Number but its value '\(attribute.stringValue.prefix(100))' is not a decimal number between -10^126 and 10^126"
            }
            if base == "Binary", Data(base64Encoded: attribute.stringValue) == nil {
                return "message attribute '\(name)' is Binary but its value is not base64"
            }
            if !Self.hasAllowedCharacters(attribute.stringValue) || !Self.hasAllowedCharacters(attribute.dataType) {
                return
                    "message attribute '\(name)' contains characters SQS and SNS do not allow (control characters other than tab, line feed and carriage return)"
            }
            if attribute.stringValue.isEmpty {
                return "message attribute '\(name)' has an empty value"
            }
        }
        return nil
    }
}

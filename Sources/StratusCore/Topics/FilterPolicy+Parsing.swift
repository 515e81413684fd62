import Foundation

extension FilterPolicy {
    /// The most keys a policy may have; in body scope only top-level keys count.
    package static let maximumKeys = 5
    /// The most value combinations a policy may expand to (SNS's complexity limit).
    package static let maximumCombinations = 150
    /// The largest policy text SNS accepts, in bytes (256 KB).
    package static let maximumSize = 256 * 1024

    /// The words that name match operators; a `$or` branch using one as a key makes `$or` an ordinary key.
    static let operatorNames: Set<String> = [
        "prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr",
    ]

    /// Parses a policy from a JSON-compatible value, as `JSONSerialization` or Yams produce it.
    ///
    /// - Parameters:
    ///   - json: `[String: Any]` (or Yams's `[AnyHashable: Any]`) whose values are arrays of conditions or,
    ///     in body scope, nested objects; leaves are `String`, `NSNumber`/`Int`/`Double`, `Bool` or `NSNull`.
    ///   - scope: what the policy will be matched against; only ``Scope/messageBody`` allows nesting.
    /// - Throws: ``InvalidPolicy`` naming the key and what was expected.
    package init(json: Any, scope: Scope = .messageAttributes, snsLimits: Bool = true) throws(InvalidPolicy) {
        let value = try JSON(converting: json, path: [])
        guard case .object(let object) = value else {
            throw InvalidPolicy(
                at: [], #"the policy must be a JSON object such as {"sport": ["rugby"]} (got \#(value.summary))"#)
        }
        let parser = Parser(scope: scope)
        let (root, combinations) = try parser.rule(object, path: [], depth: 1)
        let names = root.keyNames.sorted()
        if snsLimits, names.count > Self.maximumKeys {
            throw InvalidPolicy(
                at: [],
                "filter policy can not have more than \(Self.maximumKeys) keys (found \(names.count): "
                    + "\(names.joined(separator: ", ")))")
        }
        if snsLimits, combinations > Self.maximumCombinations {
            throw InvalidPolicy(
                at: [],
                "filter policy is too complex: \(combinations) combinations, at most \(Self.maximumCombinations) "
                    + "(multiply the number of values in each key's array)")
        }
        self.init(scope: scope, root: root)
    }

    /// Parses a policy from its JSON text, as the `FilterPolicy` subscription attribute carries it; `snsLimits`
    /// false leaves out SNS's key and combination limits (a Lambda filter pattern has neither).
    ///
    /// - Throws: ``InvalidPolicy`` when the text is over 256 KB, is not JSON, or is not a valid policy.
    package init(jsonText: String, scope: Scope = .messageAttributes, snsLimits: Bool = true) throws(InvalidPolicy) {
        let size = jsonText.utf8.count
        guard size <= Self.maximumSize else {
            throw InvalidPolicy(at: [], "filter policy is \(size) bytes; at most \(Self.maximumSize) (256 KB) allowed")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(jsonText.utf8), options: .fragmentsAllowed)
        else {
            throw InvalidPolicy(at: [], #"failed to parse JSON; expected an object such as {"sport": ["rugby"]}"#)
        }
        try self.init(json: object, scope: scope, snsLimits: snsLimits)
    }
}

extension FilterPolicy.InvalidPolicy {
    /// An error at a key path; the message leads with the quoted path.
    init(at path: [String], _ problem: String) {
        let key = path.joined(separator: ".")
        self.init(key: key, message: key.isEmpty ? problem : "\"\(key)\": \(problem)")
    }
}

// MARK: - Policy parser

extension FilterPolicy {
    private struct Parser {
        typealias InvalidPolicy = FilterPolicy.InvalidPolicy

        var scope: Scope

        /// Parses one object level and counts its value combinations (array lengths times nesting depth,
        /// multiplied across keys, summed across `$or` branches).
        func rule(_ object: [String: JSON], path: [String], depth: Int) throws(InvalidPolicy) -> (Rule, Int) {
            var rule = Rule()
            var combinations = 1
            for key in object.keys.sorted() {
                let value = object[key]!
                if key == "$or", let branches = Self.orBranches(value) {
                    var group: [Rule] = []
                    var sum = 0
                    for (index, branch) in branches.enumerated() {
                        let (branchRule, count) = try self.rule(branch, path: path + ["$or[\(index)]"], depth: depth)
                        group.append(branchRule)
                        sum = Self.saturating(sum.addingReportingOverflow(count))
                    }
                    rule.anyOf.append(group)
                    combinations = Self.saturating(combinations.multipliedReportingOverflow(by: sum))
                    continue
                }
                let keyPath = path + [key]
                switch value {
                case .array(let items):
                    guard !items.isEmpty else {
                        throw InvalidPolicy(
                            at: keyPath, "empty arrays are not allowed; list at least one value or condition")
                    }
                    var conditions: [Condition] = []
                    for item in items {
                        conditions.append(try condition(item, path: keyPath))
                    }
                    rule.fields[key] = .conditions(conditions)
                    let count = Self.saturating(items.count.multipliedReportingOverflow(by: depth))
                    combinations = Self.saturating(combinations.multipliedReportingOverflow(by: count))
                case .object(let nested):
                    guard scope == .messageBody else {
                        throw InvalidPolicy(
                            at: keyPath,
                            "filter policy scope MessageAttributes does not support nested filter policy; "
                                + "give the key an array of values, or use FilterPolicyScope MessageBody")
                    }
                    let (nestedRule, count) = try self.rule(nested, path: keyPath, depth: depth + 1)
                    rule.fields[key] = .nested(nestedRule)
                    combinations = Self.saturating(combinations.multipliedReportingOverflow(by: count))
                case .scalar:
                    throw InvalidPolicy(
                        at: keyPath, "must be an object or an array (got \(value.summary)); write [\(value.summary)]")
                }
            }
            return (rule, combinations)
        }

        /// The branches when `value` is a `$or` SNS recognises: an array of at least two objects none of whose
        /// keys is an operator name. Anything else leaves `$or` an ordinary key.
        private static func orBranches(_ value: JSON) -> [[String: JSON]]? {
            guard case .array(let items) = value, items.count >= 2 else { return nil }
            var branches: [[String: JSON]] = []
            for item in items {
                guard case .object(let branch) = item, operatorNames.isDisjoint(with: branch.keys) else { return nil }
                branches.append(branch)
            }
            return branches
        }

        private static func saturating(_ result: (partialValue: Int, overflow: Bool)) -> Int {
            result.overflow ? .max : result.partialValue
        }

        private func condition(_ value: JSON, path: [String]) throws(InvalidPolicy) -> Condition {
            let operand: JSON
            let name: String
            switch value {
            case .scalar(let scalar):
                return .equals(scalar)
            case .array:
                throw InvalidPolicy(
                    at: path,
                    #"match value must be a string, number, true, false, null or an operator such as {"prefix": "a"} "#
                        + "(got an array)")
            case .object(let object):
                guard object.count == 1, let entry = object.first else {
                    throw InvalidPolicy(
                        at: path,
                        "only one key allowed in a match expression (got \(object.count): "
                            + "\(object.keys.sorted().joined(separator: ", ")))")
                }
                (name, operand) = (entry.key, entry.value)
            }
            switch name {
            case "prefix", "suffix", "equals-ignore-case":
                guard case .scalar(.string(let text)) = operand else {
                    throw InvalidPolicy(at: path, "\(name) match pattern must be a string (got \(operand.summary))")
                }
                return name == "prefix" ? .prefix(text) : name == "suffix" ? .suffix(text) : .equalsIgnoreCase(text)
            case "anything-but":
                return try anythingBut(operand, path: path)
            case "exists":
                guard case .scalar(.bool(let expected)) = operand else {
                    throw InvalidPolicy(
                        at: path, "exists match pattern must be either true or false (got \(operand.summary))")
                }
                return .exists(expected)
            case "numeric":
                guard case .array(let items) = operand else {
                    throw InvalidPolicy(
                        at: path, #"numeric expects an array such as [">", 0, "<=", 5] (got \#(operand.summary))"#)
                }
                return .numeric(try numericRange(items, path: path))
            case "cidr":
                return .cidr(try IPNetwork(cidr: operand, path: path))
            default:
                throw InvalidPolicy(
                    at: path,
                    "unrecognized match type \"\(name)\"; expected one of prefix, suffix, equals-ignore-case, "
                        + "anything-but, numeric, exists or cidr")
            }
        }

        private func anythingBut(_ operand: JSON, path: [String]) throws(InvalidPolicy) -> Condition {
            let expected = #"anything-but takes a value, a non-empty array of values, or {"prefix": "..."}"#
            switch operand {
            case .scalar(let scalar):
                return .anythingBut([scalar])
            case .array(let items):
                var excluded: [Scalar] = []
                for item in items {
                    guard case .scalar(let scalar) = item else {
                        throw InvalidPolicy(at: path, "\(expected) (got \(item.summary) in the array)")
                    }
                    excluded.append(scalar)
                }
                guard !excluded.isEmpty else { throw InvalidPolicy(at: path, "\(expected) (got an empty array)") }
                return .anythingBut(excluded)
            case .object(let object):
                guard object.count == 1, let prefix = object["prefix"] else {
                    let keys = object.keys.sorted().joined(separator: ", ")
                    throw InvalidPolicy(at: path, "unsupported anything-but pattern: \(keys); \(expected)")
                }
                guard case .scalar(.string(let text)) = prefix else {
                    throw InvalidPolicy(at: path, "prefix match pattern must be a string (got \(prefix.summary))")
                }
                return .anythingButPrefix(text)
            }
        }

        private func numericRange(_ items: [JSON], path: [String]) throws(InvalidPolicy) -> NumericRange {
            func fail(_ problem: String) -> InvalidPolicy {
                InvalidPolicy(at: path, #"numeric: \#(problem); expected e.g. ["=", 5], [">", 0] or [">", 0, "<=", 5]"#)
            }
            func operatorName(at index: Int, allowed: [String]) throws(InvalidPolicy) -> String {
                guard index < items.count, case .scalar(.string(let name)) = items[index] else {
                    let found = index < items.count ? items[index].summary : "nothing"
                    throw fail("expected an operator at position \(index + 1) (got \(found))")
                }
                guard allowed.contains(name) else {
                    throw fail("operator \"\(name)\" is not allowed here; use \(allowed.joined(separator: ", "))")
                }
                return name
            }
            func number(at index: Int, after name: String) throws(InvalidPolicy) -> Double {
                guard index < items.count, case .scalar(.number(let value)) = items[index] else {
                    let found = index < items.count ? items[index].summary : "nothing"
                    throw fail("the value after \"\(name)\" must be a number (got \(found))")
                }
                return value
            }

            let first = try operatorName(at: 0, allowed: ["=", "<", "<=", ">", ">="])
            let firstValue = try number(at: 1, after: first)
            var range = NumericRange()
            switch first {
            case "=":
                let exactly = NumericRange.Bound(value: firstValue, inclusive: true)
                (range.lower, range.upper) = (exactly, exactly)
            case "<", "<=": range.upper = .init(value: firstValue, inclusive: first == "<=")
            default: range.lower = .init(value: firstValue, inclusive: first == ">=")
            }
            guard items.count > 2 else { return range }
            guard range.upper == nil else {
                throw fail(
                    "only a lower bound (> or >=) can be followed by an upper bound (got \(items.count) elements)")
            }
            let second = try operatorName(at: 2, allowed: ["<", "<="])
            let secondValue = try number(at: 3, after: second)
            guard items.count == 4 else { throw fail("too many elements (\(items.count)); a range has 4") }
            guard firstValue < secondValue else {
                throw fail(
                    "the lower bound \(JSON.format(firstValue)) must be less than the upper bound "
                        + JSON.format(secondValue))
            }
            range.upper = .init(value: secondValue, inclusive: second == "<=")
            return range
        }
    }
}

// MARK: - JSON values

extension FilterPolicy.JSON {
    /// Converts what `JSONSerialization` or Yams produce; `nil` for anything else (dates, data, non-string keys).
    init?(any value: Any) {
        try? self.init(converting: value, path: [])
    }

    /// Converts what `JSONSerialization` or Yams produce, naming the key path of a value that is not JSON.
    init(converting value: Any, path: [String]) throws(FilterPolicy.InvalidPolicy) {
        switch value {
        case let string as String:
            self = .scalar(.string(string))
        case is NSNull:
            self = .scalar(.null)
        case let number as NSNumber:
            // Swift `Bool`s and JSON booleans bridge to an NSNumber of type "c" (char); no JSON number does.
            if type(of: value) == Bool.self || String(cString: number.objCType) == "c" {
                self = .scalar(.bool(number.boolValue))
            } else {
                self = .scalar(.number(number.doubleValue))
            }
        case let array as [Any]:
            var elements: [Self] = []
            for element in array {
                elements.append(try Self(converting: element, path: path))
            }
            self = .array(elements)
        case let object as [String: Any]:
            self = try Self.object(object.map { ($0.key as AnyHashable, $0.value) }, path: path)
        case let object as [AnyHashable: Any]:
            self = try Self.object(object.map { ($0.key, $0.value) }, path: path)
        default:
            throw FilterPolicy.InvalidPolicy(
                at: path,
                "holds a \(type(of: value)) value, which is not JSON; "
                    + "use a string, number, true, false, null, array or object")
        }
    }

    /// Parses JSON text; `nil` when it is not JSON.
    init?(text: String) {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) else {
            return nil
        }
        self.init(any: value)
    }

    private static func object(_ entries: [(AnyHashable, Any)], path: [String]) throws(FilterPolicy.InvalidPolicy)
        -> Self
    {
        var object: [String: Self] = [:]
        for (key, value) in entries {
            guard let name = key.base as? String else {
                throw FilterPolicy.InvalidPolicy(at: path, "has the key \(key.base), which is not a string")
            }
            object[name] = try Self(converting: value, path: path + [name])
        }
        return .object(object)
    }

    /// A short rendering for error messages: scalars as JSON, containers by kind.
    var summary: String {
        switch self {
        case .scalar(.string(let text)): text.count > 40 ? "\"\(text.prefix(40))…\"" : "\"\(text)\""
        case .scalar(.number(let number)): Self.format(number)
        case .scalar(.bool(let flag)): "\(flag)"
        case .scalar(.null): "null"
        case .array: "an array"
        case .object: "an object"
        }
    }

    static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

// MARK: - IP addresses

extension FilterPolicy {
    /// A `cidr` condition: an IPv4 or IPv6 network.
    struct IPNetwork: Sendable, Equatable {
        var bytes: [UInt8]
        var prefixLength: Int

        init(cidr operand: JSON, path: [String]) throws(InvalidPolicy) {
            guard case .scalar(.string(let text)) = operand else {
                throw InvalidPolicy(
                    at: path, #"cidr match pattern must be a string such as "10.0.0.0/24" (got \#(operand.summary))"#)
            }
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw InvalidPolicy(
                    at: path, #"malformed CIDR, one '/' required, as in "10.0.0.0/24" (got "\#(text)")"#)
            }
            guard let bytes = Self.address(String(parts[0])) else {
                throw InvalidPolicy(at: path, "nonstandard IP address: \(parts[0])")
            }
            let maximum = bytes.count * 8
            guard parts[1].allSatisfy(\.isASCII), let length = Int(parts[1]), (0...maximum).contains(length) else {
                throw InvalidPolicy(
                    at: path, "malformed CIDR, mask bits must be an integer from 0 to \(maximum) (got \(parts[1]))")
            }
            self.bytes = bytes
            self.prefixLength = length
        }

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefixLength
            for index in bytes.indices where remaining > 0 {
                let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
                guard address[index] & mask == bytes[index] & mask else { return false }
                remaining -= 8
            }
            return true
        }

        /// The 4 or 16 bytes of an IPv4 or IPv6 address in text form, or `nil`.
        static func address(_ text: String) -> [UInt8]? {
            text.contains(":") ? ipv6(text) : ipv4(Substring(text))
        }

        private static func ipv4(_ text: Substring) -> [UInt8]? {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for part in parts {
                guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                    let byte = UInt8(part)
                else { return nil }
                bytes.append(byte)
            }
            return bytes
        }

        private static func ipv6(_ text: String) -> [UInt8]? {
            let halves = text.components(separatedBy: "::")
            guard halves.count <= 2 else { return nil }
            guard let head = groups(halves[0], allowIPv4: halves.count == 1) else { return nil }
            if halves.count == 1 { return head.count == 16 ? head : nil }
            guard let tail = groups(halves[1], allowIPv4: true), head.count + tail.count <= 14 else { return nil }
            return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
        }

        /// The bytes of colon-separated hex groups, the last of which may be a dotted IPv4 address.
        private static func groups(_ text: String, allowIPv4: Bool) -> [UInt8]? {
            guard !text.isEmpty else { return [] }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            var bytes: [UInt8] = []
            for (index, part) in parts.enumerated() {
                if allowIPv4, index == parts.count - 1, part.contains(".") {
                    guard let ipv4 = ipv4(part) else { return nil }
                    bytes += ipv4
                } else {
                    guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit),
                        let group = UInt16(part, radix: 16)
                    else { return nil }
                    bytes += [UInt8(group >> 8), UInt8(group & 0xFF)]
                }
            }
            return bytes.count <= 16 ? bytes : nil
        }
    }
}

import Foundation
import Yams

/// A parsed YAML node with the file it came from, so every read can fail with a located `ManifestError`.
package struct YAMLValue {
    package let node: Node
    package let file: String
    package let key: String

    package var line: Int? { node.mark?.line }

    /// Parses `text`; an empty document is an empty mapping.
    package static func parse(_ text: String, file: String) throws(ManifestError) -> YAMLValue {
        do {
            let node = try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
            return YAMLValue(node: node, file: file, key: "")
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                throw ManifestError(file: file, line: mark.line, key: "", message: "invalid YAML: \(problem)")
            case .duplicatedKeysInMapping(let duplicates, let context):
                // Yams names a key that is not a scalar "<uncovertable>": say what it is instead.
                let named = duplicates.filter { $0 != "<uncovertable>" }
                throw ManifestError(
                    file: file, line: context.mark.line, key: named.joined(separator: ", "),
                    message: named.count == duplicates.count
                        ? "key defined twice" : "key defined twice (a key that is not a string)")
            case .reader(let problem, let offset, _, _):
                // libyaml's reader gives a byte offset, not a line.
                let line = offset.map { offset in
                    1 + text.utf8.prefix(max(0, offset)).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                }
                throw ManifestError(file: file, line: line, key: "", message: "invalid YAML: \(problem)")
            default:
                throw ManifestError(file: file, line: nil, key: "", message: "invalid YAML: \(error)")
            }
        } catch {
            throw ManifestError(file: file, line: nil, key: "", message: "invalid YAML: \(error)")
        }
    }

    package func error(_ message: String) -> ManifestError {
        ManifestError(file: file, line: line, key: key, message: message)
    }

    package func child(_ name: String, _ node: Node) -> YAMLValue {
        YAMLValue(node: node, file: file, key: key.isEmpty ? name : "\(key).\(name)")
    }

    /// The entries of a mapping, in file order; rejects keys outside `allowed` when given.
    package func mapping(allowed: Set<String>? = nil) throws(ManifestError) -> [(String, YAMLValue)] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping") }
        var entries: [(String, YAMLValue)] = []
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.string else {
                throw ManifestError(file: file, line: keyNode.mark?.line, key: key, message: "expected string keys")
            }
            let value = child(name, valueNode)
            if let allowed, !allowed.contains(name) {
                let known = allowed.sorted().joined(separator: ", ")
                throw ManifestError(
                    file: file, line: keyNode.mark?.line, key: value.key,
                    message: "unknown key; expected one of: \(known)")
            }
            entries.append((name, value))
        }
        return entries
    }

    package func sequence() throws(ManifestError) -> [YAMLValue] {
        guard case .sequence(let sequence) = node else { throw error("expected a list") }
        return sequence.enumerated().map { index, item in
            YAMLValue(node: item, file: file, key: "\(key)[\(index)]")
        }
    }

    package var isNull: Bool {
        if case .scalar(let scalar) = node {
            return scalar.string == "" || scalar.string == "~" || scalar.string == "null"
        }
        return false
    }

    /// The node as JSON-compatible values (string keys; numbers, booleans and null resolved as YAML does), for
    /// filter policies. At most `Self.maxJSONNodes` nodes and 32 levels: anchors and aliases can make a few
    /// lines stand for billions of nodes, and a filter policy is small.
    package func jsonValue() throws(ManifestError) -> JSONValue {
        var budget = Self.maxJSONNodes
        return try jsonValue(budget: &budget, depth: 0)
    }

    package static let maxJSONNodes = 10_000

    private func jsonValue(budget: inout Int, depth: Int) throws(ManifestError) -> JSONValue {
        budget -= 1
        guard budget >= 0, depth <= 32 else {
            throw error(
                "expected at most \(Self.maxJSONNodes) values nested at most 32 deep (anchors and aliases count each time)"
            )
        }
        switch node {
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                object[key.string ?? "\(key)"] = try child("", value).jsonValue(budget: &budget, depth: depth + 1)
            }
            return .object(object)
        case .sequence(let sequence):
            var array: [JSONValue] = []
            for item in sequence { array.append(try child("", item).jsonValue(budget: &budget, depth: depth + 1)) }
            return .array(array)
        case .scalar(let scalar):
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted { return .string(scalar.string) }
            if isNull { return .null }
            switch scalar.string.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: break
            }
            // Plain decimal numbers only: Yams' own conversions take YAML 1.1's base-60 (`1:30`), whose
            // arithmetic traps on overflow.
            if let int = Int(scalar.string) { return .number(Double(int)) }
            if let double = Double(scalar.string), double.isFinite,
                scalar.string.allSatisfy({ $0.isASCII && !$0.isLetter || $0 == "e" || $0 == "E" })
            {
                return .number(double)
            }
            return .string(scalar.string)
        case .alias:
            return .null
        }
    }

    package func string() throws(ManifestError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a string") }
        return scalar.string
    }

    /// A plain decimal integer within `range` (not YAML 1.1's base-60 or hexadecimal forms).
    package func int(in range: ClosedRange<Int>) throws(ManifestError) -> Int {
        try Schema.integer(range, "").validate(self)
        guard case .scalar(let scalar) = node, let value = Int(scalar.string.trimmingCharacters(in: .whitespaces))
        else { throw error("expected an integer between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }

    package func bool() throws(ManifestError) -> Bool {
        guard case .scalar = node, let value = node.bool else { throw error("expected true or false") }
        return value
    }

    /// A duration within `range` (`Limits`), with an error that names the range.
    package func duration(in range: ClosedRange<Duration>) throws(ManifestError) -> Duration {
        let text = (try? string()) ?? ""
        switch DurationParser.parse(text, in: range) {
        case .success(let value): return value
        case .failure(let failure): throw error(failure.description)
        }
    }
}

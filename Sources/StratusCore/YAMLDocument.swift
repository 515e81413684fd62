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
                throw ManifestError(
                    file: file, line: context.mark.line, key: duplicates.joined(separator: ", "),
                    message: "key defined twice")
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
        if case .scalar(let scalar) = node { return scalar.string == "" || scalar.string == "~" || scalar.string == "null" }
        return false
    }

    /// The node as JSON-compatible values (string keys; numbers, booleans and null resolved as YAML does).
    package var jsonValue: Any {
        switch node {
        case .mapping(let mapping):
            var object: [String: Any] = [:]
            for (key, value) in mapping { object[key.string ?? "\(key)"] = child("", value).jsonValue }
            return object
        case .sequence(let sequence):
            return sequence.map { child("", $0).jsonValue }
        case .scalar(let scalar):
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted { return scalar.string }
            if isNull { return NSNull() }
            if let bool = node.bool, ["true", "false"].contains(scalar.string.lowercased()) { return bool }
            if let int = node.int { return int }
            if let double = node.float { return double }
            return scalar.string
        case .alias:
            return NSNull()
        }
    }

    package func string() throws(ManifestError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a string") }
        return scalar.string
    }

    package func int(in range: ClosedRange<Int>) throws(ManifestError) -> Int {
        guard case .scalar = node, let value = node.int else {
            throw error("expected an integer between \(range.lowerBound) and \(range.upperBound)")
        }
        guard range.contains(value) else {
            throw error("expected an integer between \(range.lowerBound) and \(range.upperBound) (got \(value))")
        }
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

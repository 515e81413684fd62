import Foundation
import Yams

extension Schema {
    /// Checks `value` against this schema; throws the first problem, located at its line and key path.
    ///
    /// Only the parts of the document that the schema describes are read (a filter policy is left to its
    /// parser), and no number from the file is used in arithmetic, so no input can trap or run long.
    package func validate(_ value: YAMLValue) throws(ManifestError) {
        var patterns = PatternCache()
        try check(value, &patterns)
    }

    private func check(_ value: YAMLValue, _ patterns: inout PatternCache) throws(ManifestError) {
        if nullable && value.isNull { return }
        switch kind {
        case .object(let object):
            try check(object, value, &patterns)
        case .string(let rules):
            let text = try scalarText(value)
            if let maxLength = rules.maxLength, text.unicodeScalars.count > maxLength {
                throw value.error("expected \(expected) (got '\(Self.shown(text))')")
            }
            if let pattern = rules.pattern, !patterns.wholeMatch(pattern, text) {
                throw value.error("expected \(expected) (got '\(Self.shown(text))')")
            }
        case .integer(let range):
            let text = try scalarText(value)
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
                throw value.error("expected \(expected) (got '\(Self.shown(text))')")
            }
        case .boolean:
            let text = try scalarText(value)
            guard value.node.bool != nil else { throw value.error("expected \(expected) (got '\(Self.shown(text))')") }
        case .duration(let range):
            let text = try scalarText(value)
            guard case .success = DurationParser.parse(text, in: range) else {
                throw value.error("expected \(expected) (got '\(Self.shown(text))')")
            }
        case .array(let items, let maxItems):
            let list = try value.sequence()
            if let maxItems, list.count > maxItems { throw value.error("expected \(expected) (got \(list.count))") }
            for item in list { try items.check(item, &patterns) }
        case .enumeration(let values):
            let text = try scalarText(value)
            guard values.contains(where: { Self.matches($0, text) }) else {
                throw value.error("expected \(expected) (got '\(Self.shown(text))')")
            }
        case .scalar:
            _ = try scalarText(value)
        case .anyOf(let options):
            try checkAnyOf(options, value, &patterns)
        case .any:
            return
        }
    }

    private func check(_ object: Object, _ value: YAMLValue, _ patterns: inout PatternCache) throws(ManifestError) {
        guard case .mapping = value.node else { throw value.error("expected \(expected)") }
        // A mapping of anything (a filter policy) is its parser's to read: keys need not even be strings.
        if object.properties.isEmpty, case .any = object.additional?.kind, object.names == nil,
            object.maxProperties == nil
        {
            return
        }
        let allowed = object.additional == nil ? Set(object.properties.map(\.name)) : nil
        let entries = try value.mapping(allowed: allowed)
        if let maxProperties = object.maxProperties, entries.count > maxProperties {
            throw value.error("expected at most \(maxProperties) entries (got \(entries.count))")
        }
        let present = Dictionary(entries, uniquingKeysWith: { first, _ in first })
        let active = object.conditions.filter { condition in
            guard let entry = present[condition.key], case .scalar(let scalar) = entry.node else { return false }
            return condition.values.contains(scalar.string)
        }
        for name in object.required + active.flatMap(\.required) where present[name] == nil {
            let schema =
                active.lazy.compactMap { condition in
                    condition.properties.first { $0.name == name }?.schema
                }.first ?? object.property(name)
            throw ManifestError(
                file: value.file, line: value.key.isEmpty ? nil : value.line,
                key: value.key.isEmpty ? name : "\(value.key).\(name)",
                message: "missing; expected \(schema?.expected ?? "a value")")
        }
        if !object.exactlyOneOf.isEmpty, object.exactlyOneOf.count(where: { present[$0] != nil }) != 1 {
            throw value.error(
                "expected exactly one of \(Self.list(object.exactlyOneOf.map { "\($0):" }))")
        }
        for (name, item) in entries {
            if let schema = object.property(name) {
                try schema.check(item, &patterns)
            } else if let additional = object.additional {
                if let names = object.names {
                    let fits = names.maxLength.map { name.unicodeScalars.count <= $0 } ?? true
                    if !fits || !(names.pattern.map { patterns.wholeMatch($0, name) } ?? true) {
                        throw item.error("expected \(names.expected ?? "a valid name") (got '\(Self.shown(name))')")
                    }
                }
                if let suffixed = object.suffixed, name.hasSuffix(suffixed.suffix) {
                    try suffixed.schema.check(item, &patterns)
                } else {
                    try additional.check(item, &patterns)
                }
            }
            for condition in active {
                try condition.properties.first { $0.name == name }?.schema.check(item, &patterns)
            }
        }
    }

    /// The option whose shape (mapping, list or scalar) the value has decides; its nested errors are
    /// reported as they are, a scalar that fits no option as what any of them expected.
    private func checkAnyOf(_ options: [Schema], _ value: YAMLValue, _ patterns: inout PatternCache)
        throws(ManifestError)
    {
        let fitting = options.filter { $0.acceptsShape(of: value.node) }
        guard !fitting.isEmpty else { throw value.error("expected \(expected)") }
        var firstError: ManifestError?
        for option in fitting {
            do {
                try option.check(value, &patterns)
                return
            } catch {
                firstError = firstError ?? error
            }
        }
        if case .scalar(let scalar) = value.node {
            throw value.error("expected \(expected) (got '\(Self.shown(scalar.string))')")
        }
        if let firstError { throw firstError }
    }

    private func acceptsShape(of node: Node) -> Bool {
        if nullable, case .scalar = node { return true }
        switch (kind, node) {
        case (.object, .mapping), (.array, .sequence), (.any, _): return true
        case (.object, _), (.array, _), (_, .mapping), (_, .sequence): return false
        default: return true
        }
    }

    private func scalarText(_ value: YAMLValue) throws(ManifestError) -> String {
        guard case .scalar(let scalar) = value.node else { throw value.error("expected \(expected)") }
        return scalar.string
    }

    /// Whether a scalar's text is `value`: a boolean matches its YAML 1.2 spellings, as editors read them.
    private static func matches(_ value: JSONValue, _ text: String) -> Bool {
        switch value {
        case .string(let string): return text == string
        case .bool(let bool):
            return [bool ? "true" : "false", bool ? "True" : "False", bool ? "TRUE" : "FALSE"].contains(text)
        default: return text == value.displayText
        }
    }

    /// A value quoted in an error: at most 100 characters.
    static func shown(_ text: String) -> String {
        text.count > 100 ? text.prefix(100) + "…" : text
    }
}

/// Compiled patterns, reused within one validation.
struct PatternCache {
    private var compiled: [String: NSRegularExpression] = [:]

    /// Whether `pattern` (anchored, ECMA-262 syntax) matches all of `text`, as JSON Schema's `pattern` would:
    /// the match must cover the whole text (ICU's `$` also matches before a final newline; ECMA's does not).
    mutating func wholeMatch(_ pattern: String, _ text: String) -> Bool {
        let expression: NSRegularExpression
        if let cached = compiled[pattern] {
            expression = cached
        } else {
            // The patterns are Stratus's own, tested to compile.
            guard let made = try? NSRegularExpression(pattern: pattern) else { return false }
            compiled[pattern] = made
            expression = made
        }
        let whole = NSRange(text.startIndex..., in: text)
        return expression.firstMatch(in: text, range: whole)?.range == whole
    }
}

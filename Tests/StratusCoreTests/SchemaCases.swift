import StratusCore

/// Documents that are valid but for one value, for every key a schema describes: each bound, one past it, a
/// wrong type, an unknown key, a missing required key, every enum member and a non-member. Each says what the
/// schema should make of it and where an error should point.
struct SchemaCases {
    indirect enum Doc: Equatable {
        case text(String)
        case map([Entry])
        case list([Doc])
    }

    struct Entry: Equatable {
        var key: String
        var value: Doc
    }

    enum Segment: Equatable {
        case key(String)
        case index(Int)
    }

    struct Case {
        var document: Doc
        /// The same document without the value under test (or with its smallest valid value).
        var base: Doc
        /// What the schema should decide; `nil` when the case does not say.
        var accepted: Bool?
        /// Where the error is: its key path, and the node whose line it names (`nil`: the whole file).
        var errorAt: (key: String, linePath: String?)?
        /// The key path of the property under test.
        var property: String
        var what: String
        /// Whether the parser must read this accepted value into something (a bound, a flag, a member).
        var mustBeRead: Bool
    }

    /// A case below the root, relative to the value it describes.
    private struct Local {
        var value: Doc
        var base: Doc?
        var accepted: Bool?
        var error: (key: [Segment], line: [Segment])?
        var property: [Segment] = []
        var what: String
        var mustBeRead = false
    }

    /// Keys added to an object at a path (by its key path) because the parser checks one key against another.
    var companions: [String: [(String, String)]]

    /// Valid and invalid text for strings, by key name.
    static let valid = [
        "route": "GET /a/{id}", "handler": "app.handler", "function": "hello", "queue": "q",
        "deadLetterQueue": "q", "http": "http://127.0.0.1:9/hook", "topic": "t", "layers": "../shared",
        "expression": "rate(5 minutes)", "timezone": "Europe/Paris",
    ]
    static let invalid = [
        "route": "FETCH /a", "handler": "nodot", "queue": "'bad name'", "deadLetterQueue": "'bad name'",
        "http": "ftp://x", "layers": "/abs", "expression": "every(5 minutes)",
    ]
    /// Names for entries of maps, by the map's key.
    static let entryNames = ["topics": "t", "queues": "work", "environment": "NAME", "filter": "k"]

    func cases(_ schema: Schema, path: [Segment], name: String?) -> [Case] {
        let base = minimal(schema, path: path, name: name)
        return local(schema, path: path, name: name).map { item in
            Case(
                document: item.value, base: item.base ?? base, accepted: item.accepted,
                // A root that is not a mapping is a file-level error: its location is not checked here.
                errorAt: item.error.flatMap { error in
                    path.isEmpty && error.key.isEmpty
                        ? nil : (Self.text(path + error.key), error.line.isEmpty ? nil : Self.text(path + error.line))
                },
                property: Self.text(path + item.property), what: "\(Self.text(path + item.property)): \(item.what)",
                mustBeRead: item.mustBeRead)
        }
    }

    static func text(_ path: [Segment]) -> String {
        var out = ""
        for segment in path {
            switch segment {
            case .key(let key): out += out.isEmpty ? key : ".\(key)"
            case .index(let index): out += "[\(index)]"
            }
        }
        return out
    }

    // MARK: Cases

    private func local(_ schema: Schema, path: [Segment], name: String?) -> [Local] {
        var out: [Local] = []
        if schema.nullable { out.append(Local(value: .text("~"), accepted: true, what: "null")) }
        let here: [Segment] = []
        func reject(_ value: Doc, _ what: String) -> Local {
            Local(value: value, accepted: false, error: (here, here), what: what)
        }
        func accept(_ text: String, _ what: String) -> Local {
            Local(value: .text(text), accepted: true, what: what, mustBeRead: true)
        }
        let list = Doc.list([.text("1")])
        switch schema.kind {
        case .object(let object):
            out += objectCases(object, path: path)
            out.append(reject(.text("5"), "not a mapping"))
        case .string(let rules):
            let sample = name.flatMap { Self.valid[$0] } ?? "x"
            out.append(Local(value: .text(sample), accepted: true, what: "a valid string"))
            if rules.pattern != nil {
                if let bad = name.flatMap({ Self.invalid[$0] }) {
                    out.append(reject(.text(bad), "not matching the pattern"))
                } else {
                    out.append(Local(value: .text(""), accepted: false, what: "NO INVALID SAMPLE for \(name ?? "?")"))
                }
            }
            if let maxLength = rules.maxLength {
                let first = sample.first.map(String.init) ?? "a"
                if name != "queue" && name != "deadLetterQueue" {
                    out.append(
                        Local(value: .text(String(repeating: first, count: maxLength)), accepted: true, what: "longest")
                    )
                }
                out.append(reject(.text(String(repeating: first, count: maxLength + 1)), "too long"))
            }
            out.append(reject(list, "a list"))
        case .integer(let range):
            out.append(accept("\(range.lowerBound)", "lower bound"))
            out.append(accept("\(range.upperBound)", "upper bound"))
            out.append(reject(.text("\(range.lowerBound - 1)"), "below"))
            out.append(reject(.text("\(range.upperBound + 1)"), "above"))
            for text in ["abc", "1.5", "99999999999999999999999", "0x10", "1:30"] {
                out.append(reject(.text(text), text))
            }
            out.append(reject(list, "a list"))
        case .duration(let range):
            out.append(accept(DurationParser.format(range.lowerBound), "lower bound"))
            out.append(accept(DurationParser.format(range.upperBound), "upper bound"))
            if range.lowerBound > .zero {
                out.append(reject(.text("\(range.lowerBound.milliseconds - 1)ms"), "below"))
            }
            out.append(reject(.text("\(range.upperBound.milliseconds + 1)ms"), "above"))
            for text in ["30", "3 seconds", "-1s", "99999999999999999999s"] { out.append(reject(.text(text), text)) }
            out.append(reject(list, "a list"))
        case .boolean:
            out += [accept("true", "true"), accept("false", "false"), reject(.text("maybe"), "maybe")]
            out.append(reject(list, "a list"))
        case .enumeration(let values):
            for value in values { out.append(accept(value.displayText, "member \(value.displayText)")) }
            out.append(reject(.text("nonmember"), "a non-member"))
            out.append(reject(list, "a list"))
        case .scalar:
            out += [accept("x", "a string"), accept("1", "a number"), reject(list, "a list")]
            out[out.count - 3].mustBeRead = false
            out[out.count - 2].mustBeRead = false
        case .array(let items, let maxItems):
            for item in local(items, path: path + [.index(0)], name: name) {
                var wrapped = item
                wrapped.value = .list([item.value])
                wrapped.base = .list([])
                wrapped.error = item.error.map { ([.index(0)] + $0.key, [.index(0)] + $0.line) }
                wrapped.mustBeRead = item.mustBeRead || (item.property.isEmpty && item.accepted == true)
                out.append(wrapped)
            }
            if let maxItems {
                let one = minimal(items, path: path + [.index(0)], name: name)
                out.append(
                    Local(value: .list(Array(repeating: one, count: maxItems)), accepted: true, what: "longest list"))
                out.append(reject(.list(Array(repeating: one, count: maxItems + 1)), "a list too long"))
            }
            out.append(reject(.text("x"), "not a list"))
        case .anyOf(let options):
            for option in options { out += local(option, path: path, name: name) }
        case .any:
            out.append(Local(value: .list([.text("a")]), accepted: true, what: "anything"))
        }
        return out
    }

    private func objectCases(_ object: Schema.Object, path: [Segment]) -> [Local] {
        var out: [Local] = []
        let entries = minimalEntries(object, path: path)
        func with(_ key: String, _ value: Doc?) -> Doc {
            // One of `exactlyOneOf` stands for the others.
            let replaced = object.exactlyOneOf.contains(key) ? Set(object.exactlyOneOf) : [key]
            var copy = entries.filter { !replaced.contains($0.key) }
            if let value {
                if let index = entries.firstIndex(where: { $0.key == key }) {
                    copy.insert(Entry(key: key, value: value), at: index)
                } else {
                    copy.append(Entry(key: key, value: value))
                }
            }
            return .map(copy)
        }
        let required = Set(object.required + activeConditions(object, entries).flatMap(\.required))
        var properties = object.properties
        properties += activeConditions(object, entries).flatMap(\.properties)
        for (key, schema) in properties {
            let needed = required.contains(key) || object.exactlyOneOf.contains(key)
            let baseValue = needed ? minimal(schema, path: path + [.key(key)], name: key) : nil
            for item in local(schema, path: path + [.key(key)], name: key) {
                out.append(
                    Local(
                        value: with(key, item.value), base: with(key, item.base ?? baseValue), accepted: item.accepted,
                        error: item.error.map { ([.key(key)] + $0.key, [.key(key)] + $0.line) },
                        property: [.key(key)] + item.property, what: item.what, mustBeRead: item.mustBeRead))
            }
        }
        for key in required {
            out.append(Local(value: with(key, nil), accepted: false, error: ([.key(key)], []), what: "missing \(key)"))
        }
        if object.additional == nil {
            out.append(
                Local(
                    value: with("bogus", .text("1")), accepted: false, error: ([.key("bogus")], [.key("bogus")]),
                    what: "an unknown key"))
        }
        if !object.exactlyOneOf.isEmpty {
            let others = object.exactlyOneOf.filter { key in !entries.contains { $0.key == key } }
            out.append(
                Local(
                    value: .map(entries.filter { !object.exactlyOneOf.contains($0.key) }), accepted: false,
                    error: ([], []), what: "none of \(object.exactlyOneOf)"))
            if let second = others.first, let schema = object.property(second) {
                let both =
                    entries + [Entry(key: second, value: minimal(schema, path: path + [.key(second)], name: second))]
                out.append(
                    Local(value: .map(both), accepted: false, error: ([], []), what: "two of \(object.exactlyOneOf)"))
            }
        }
        if let additional = object.additional {
            let mapKey: String? = if case .key(let last) = path.last { last } else { nil }
            let entryName = mapKey.flatMap { Self.entryNames[$0] } ?? "k"
            for item in local(additional, path: path + [.key(entryName)], name: nil) {
                out.append(
                    Local(
                        value: with(entryName, item.value), base: with(entryName, item.base), accepted: item.accepted,
                        error: item.error.map { ([.key(entryName)] + $0.key, [.key(entryName)] + $0.line) },
                        property: [.key(entryName)] + item.property, what: item.what, mustBeRead: item.mustBeRead))
            }
            let one = minimal(additional, path: path + [.key(entryName)], name: nil)
            if let names = object.names, let maxLength = names.maxLength {
                let longest = String(repeating: "a", count: maxLength)
                out.append(Local(value: with(longest, one), accepted: true, what: "the longest name"))
                out.append(
                    Local(
                        value: with(longest + "a", one), accepted: false,
                        error: ([.key(longest + "a")], [.key(longest + "a")]), what: "a name too long"))
                out.append(
                    Local(
                        value: .map([Entry(key: "'bad name'", value: one)]), accepted: false,
                        error: ([.key("bad name")], [.key("'bad name'")]), what: "an invalid name"))
            }
            if let maxProperties = object.maxProperties {
                let names = ["q"] + (1..<maxProperties + 1).map { "n\($0)" }
                let full = names.map { Entry(key: $0, value: one) }
                out.append(Local(value: .map(Array(full.dropLast())), accepted: true, what: "the most entries"))
                out.append(Local(value: .map(full), accepted: false, error: ([], []), what: "too many entries"))
            }
        }
        return out
    }

    // MARK: Minimal valid values

    private func activeConditions(_ object: Schema.Object, _ entries: [Entry]) -> [Schema.Condition] {
        object.conditions.filter { condition in
            entries.contains { $0.key == condition.key && $0.value.scalarText.map(condition.values.contains) == true }
        }
    }

    private func minimalEntries(_ object: Schema.Object, path: [Segment]) -> [Entry] {
        var entries: [Entry] = []
        for key in object.required + object.exactlyOneOf.prefix(1) {
            guard let schema = object.property(key) else { continue }
            entries.append(Entry(key: key, value: minimal(schema, path: path + [.key(key)], name: key)))
        }
        for condition in activeConditions(object, entries) {
            for key in condition.required where !entries.contains(where: { $0.key == key }) {
                let schema = condition.properties.first { $0.name == key }?.schema ?? object.property(key)
                guard let schema else { continue }
                entries.append(Entry(key: key, value: minimal(schema, path: path + [.key(key)], name: key)))
            }
        }
        for (key, value) in companions[Self.text(path)] ?? [] { entries.append(Entry(key: key, value: .text(value))) }
        return entries
    }

    private func minimal(_ schema: Schema, path: [Segment], name: String?) -> Doc {
        switch schema.kind {
        case .object(let object): return .map(minimalEntries(object, path: path))
        case .string: return .text(name.flatMap { Self.valid[$0] } ?? "x")
        case .integer(let range): return .text("\(range.lowerBound)")
        case .duration(let range): return .text(DurationParser.format(range.lowerBound))
        case .boolean: return .text("true")
        case .enumeration(let values): return .text(values.first?.displayText ?? "")
        case .scalar: return .text("x")
        case .array: return .list([])
        case .anyOf(let options): return options.first.map { minimal($0, path: path, name: name) } ?? .text("")
        case .any: return .list([.text("a")])
        }
    }

    // MARK: Documents

    /// Declares the queue `q` that the cases' queue references name.
    static func declaringQueueQ(_ document: Doc) -> Doc {
        guard case .map(var entries) = document else { return document }
        if let index = entries.firstIndex(where: { $0.key == "queues" }) {
            guard case .map(var queues) = entries[index].value, !queues.contains(where: { $0.key == "q" }) else {
                return document
            }
            queues.append(Entry(key: "q", value: .map([])))
            entries[index].value = .map(queues)
        } else {
            entries.append(Entry(key: "queues", value: .map([Entry(key: "q", value: .map([]))])))
        }
        return .map(entries)
    }

    /// Block-style YAML, and the line where each node (by key path) starts.
    static func render(_ document: Doc) -> (text: String, lines: [String: Int]) {
        var out: [String] = []
        var lines: [String: Int] = [:]
        func block(_ doc: Doc, path: [Segment], indent: Int) {
            let pad = String(repeating: " ", count: indent)
            switch doc {
            case .map(let entries):
                for entry in entries {
                    inline(
                        entry.value, prefix: pad + entry.key + ":", path: path + [.key(entry.key)], indent: indent + 2)
                }
            case .list(let items):
                for (index, item) in items.enumerated() {
                    inline(item, prefix: pad + "-", path: path + [.index(index)], indent: indent + 2)
                }
            case .text(let text):
                out.append(pad + text)
            }
        }
        func inline(_ value: Doc, prefix: String, path: [Segment], indent: Int) {
            switch value {
            case .text(let text):
                out.append(prefix + " " + text)
                lines[Self.text(path)] = out.count
            case .map(let entries) where entries.isEmpty:
                out.append(prefix + " {}")
                lines[Self.text(path)] = out.count
            case .list(let items) where items.isEmpty:
                out.append(prefix + " []")
                lines[Self.text(path)] = out.count
            default:
                out.append(prefix)
                lines[Self.text(path)] = out.count + 1
                block(value, path: path, indent: indent)
            }
        }
        block(document, path: [], indent: 0)
        return (out.map { $0 + "\n" }.joined(), lines)
    }
}

extension SchemaCases.Doc {
    var scalarText: String? {
        if case .text(let text) = self { return text }
        return nil
    }
}

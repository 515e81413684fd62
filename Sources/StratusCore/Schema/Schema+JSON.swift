import Foundation

extension Schema {
    /// The JSON Schema dialect the documents declare.
    package static let dialect = "https://json-schema.org/draft/2020-12/schema"

    /// This schema as a JSON Schema document for editors: two-space indents, keys sorted, so the same schema
    /// always writes the same bytes (the committed `schemas/*.json` are compared with it).
    package func jsonText(id: String, title: String) -> String {
        var root = jsonObject()
        root["$schema"] = .string(Self.dialect)
        root["$id"] = .string(id)
        root["title"] = .string(title)
        var out = ""
        Self.write(.object(root), indent: 0, into: &out)
        return out + "\n"
    }

    /// The keywords of this schema. A description ends with what is expected where the keywords cannot say
    /// it to a person (duration ranges, patterns) and with the default.
    func jsonObject() -> [String: JSONValue] {
        var json: [String: JSONValue] = [:]
        var help = description
        switch kind {
        case .integer, .duration: help += " Expected: \(expected)."
        case .string(let rules) where rules.expected != nil: help += " Expected: \(expected)."
        default: break
        }
        if let defaultValue {
            var shown = ""
            Self.write(defaultValue, indent: 0, into: &shown)
            if case .string(let text) = defaultValue { shown = text }
            help += " Default: \(shown)."
            json["default"] = defaultValue
        }
        if !help.isEmpty { json["description"] = .string(help) }
        func type(_ name: String) -> JSONValue { nullable ? .array([.string(name), .string("null")]) : .string(name) }
        switch kind {
        case .object(let object):
            json["type"] = type("object")
            json.merge(Self.keywords(of: object), uniquingKeysWith: { _, new in new })
        case .string(let rules):
            json["type"] = type("string")
            if let pattern = rules.pattern { json["pattern"] = .string(pattern) }
            if let maxLength = rules.maxLength { json["maxLength"] = .number(Double(maxLength)) }
        case .integer(let range):
            json["type"] = type("integer")
            json["minimum"] = .number(Double(range.lowerBound))
            json["maximum"] = .number(Double(range.upperBound))
        case .boolean:
            json["type"] = type("boolean")
        case .duration(let range):
            json["type"] = type("string")
            json["pattern"] = .string(SchemaPattern.duration(range))
        case .array(let items, let maxItems):
            json["type"] = type("array")
            json["items"] = .object(items.jsonObject())
            if let maxItems { json["maxItems"] = .number(Double(maxItems)) }
        case .enumeration(let values):
            json["enum"] = .array(values + (nullable ? [.null] : []))
        case .scalar:
            json["type"] = .array(["boolean", "null", "number", "string"].map(JSONValue.string))
        case .anyOf(let options):
            let null: [JSONValue] = nullable ? [.object(["type": .string("null")])] : []
            json["anyOf"] = .array(options.map { .object($0.jsonObject()) } + null)
        case .any:
            break
        }
        return json
    }

    private static func keywords(of object: Object) -> [String: JSONValue] {
        var json: [String: JSONValue] = [:]
        if !object.properties.isEmpty { json["properties"] = properties(object.properties) }
        if !object.required.isEmpty { json["required"] = .array(object.required.map(JSONValue.string)) }
        json["additionalProperties"] = object.additional.map { .object($0.jsonObject()) } ?? .bool(false)
        if let suffixed = object.suffixed {
            let pattern = NSRegularExpression.escapedPattern(for: suffixed.suffix) + "$"
            json["patternProperties"] = .object([pattern: .object(suffixed.schema.jsonObject())])
        }
        if let names = object.names {
            var rules: [String: JSONValue] = [:]
            if let pattern = names.pattern { rules["pattern"] = .string(pattern) }
            if let maxLength = names.maxLength { rules["maxLength"] = .number(Double(maxLength)) }
            json["propertyNames"] = .object(rules)
        }
        if let maxProperties = object.maxProperties { json["maxProperties"] = .number(Double(maxProperties)) }
        if !object.exactlyOneOf.isEmpty {
            json["oneOf"] = .array(object.exactlyOneOf.map { .object(["required": .array([.string($0)])]) })
        }
        if !object.conditions.isEmpty {
            json["allOf"] = .array(
                object.conditions.map { condition in
                    let test: [String: JSONValue] = [
                        "properties": .object([
                            condition.key: .object(["enum": .array(condition.values.map(JSONValue.string))])
                        ]),
                        "required": .array([.string(condition.key)]),
                    ]
                    var then: [String: JSONValue] = [:]
                    if !condition.required.isEmpty {
                        then["required"] = .array(condition.required.map(JSONValue.string))
                    }
                    if !condition.properties.isEmpty { then["properties"] = properties(condition.properties) }
                    return .object(["if": .object(test), "then": .object(then)])
                })
        }
        return json
    }

    private static func properties(_ list: [(name: String, schema: Schema)]) -> JSONValue {
        .object(
            Dictionary(
                list.map { ($0.name, JSONValue.object($0.schema.jsonObject())) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Pretty JSON with sorted keys; a list of scalars on one line.
    private static func write(_ value: JSONValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent)
        switch value {
        case .object(let object) where object.isEmpty:
            out += "{}"
        case .object(let object):
            out += "{\n"
            for (index, (key, member)) in object.sorted(by: { $0.key < $1.key }).enumerated() {
                out += pad + "  " + quoted(key) + ": "
                write(member, indent: indent + 1, into: &out)
                out += index < object.count - 1 ? ",\n" : "\n"
            }
            out += pad + "}"
        case .array(let items) where items.allSatisfy(\.isScalar):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += ", " }
                write(item, indent: indent, into: &out)
            }
            out += "]"
        case .array(let items):
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += pad + "  "
                write(item, indent: indent + 1, into: &out)
                out += index < items.count - 1 ? ",\n" : "\n"
            }
            out += pad + "]"
        case .string(let text):
            out += quoted(text)
        case .number(let number):
            // Every number in a schema is a bound or a default: an integer.
            out += number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
        case .bool(let bool):
            out += bool ? "true" : "false"
        case .null:
            out += "null"
        }
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension JSONValue {
    fileprivate var isScalar: Bool {
        switch self {
        case .object, .array: return false
        default: return true
        }
    }
}

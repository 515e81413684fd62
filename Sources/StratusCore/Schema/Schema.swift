/// What a YAML file Stratus reads may contain: the subset of JSON Schema (draft 2020-12) that `function.yaml`
/// and `triggers/*.yaml` need. One value serves both the validator (`validate(_:)`, which every load, reload,
/// deploy and `stratus validate` runs) and editors (`jsonText(id:title:)`), so the two cannot drift.
package struct Schema: Sendable {
    /// What a value must be.
    package indirect enum Kind: Sendable {
        /// A mapping with known keys, and other keys only when `Object.additional` says what they hold.
        case object(Object)
        /// A scalar read as its text, with optional rules (a pattern, a length).
        case string(Text)
        /// A plain decimal integer within a range.
        case integer(ClosedRange<Int>)
        /// `true` or `false`.
        case boolean
        /// A duration such as `500ms` or `3s` within a range: a string with a generated pattern in JSON.
        case duration(ClosedRange<Duration>)
        /// A list of `items`, at most `maxItems` long.
        case array(items: Schema, maxItems: Int?)
        /// One of these values, compared with the scalar's text (`false` matches `false`, `False`, `'false'`).
        case enumeration([JSONValue])
        /// Any scalar: a string, number or boolean, taken as its text.
        case scalar
        /// A value that one of these schemas accepts; errors say `expected`.
        case anyOf([Schema])
        /// Anything; checked by the parser (a filter policy).
        case any
    }

    /// A mapping's keys and what they hold.
    package struct Object: Sendable {
        package var properties: [(name: String, schema: Schema)]
        /// Keys that must be present, in the order they are reported.
        package var required: [String] = []
        /// What a key outside `properties` holds; `nil`: no other key is allowed.
        package var additional: Schema?
        /// What a key outside `properties` that ends in `suffix` holds instead of `additional` (a FIFO queue).
        package var suffixed: (suffix: String, schema: Schema)?
        /// Rules for the names of keys outside `properties` (queue and topic names).
        package var names: Text?
        /// At most this many keys.
        package var maxProperties: Int?
        /// Exactly one of these keys must be present.
        package var exactlyOneOf: [String] = []
        /// Rules that hold when a key has one of some values.
        package var conditions: [Condition] = []

        package init(properties: [(name: String, schema: Schema)]) {
            self.properties = properties
        }

        package func property(_ name: String) -> Schema? {
            properties.first { $0.name == name }?.schema
        }
    }

    /// "When `key` is one of `values`, `required` must be present and `properties` hold too": how the
    /// handler's rule depends on the runtime.
    package struct Condition: Sendable {
        package var key: String
        package var values: [String]
        package var required: [String] = []
        package var properties: [(name: String, schema: Schema)] = []
    }

    /// Rules for a string. Lengths count Unicode scalars, as JSON Schema does; patterns are ECMA-262 regular
    /// expressions that must match the whole text (they are written anchored).
    package struct Text: Sendable {
        package var pattern: String?
        package var maxLength: Int?
        /// What a valid value looks like, for errors ("module.function, e.g. app.handler").
        package var expected: String?

        package init(pattern: String? = nil, maxLength: Int? = nil, expected: String? = nil) {
            self.pattern = pattern
            self.maxLength = maxLength
            self.expected = expected
        }
    }

    package var kind: Kind
    /// Help for a person, shown by editors.
    package var description: String
    /// Whether an empty value (``, `~`, `null`) is accepted, meaning "the default".
    package var nullable = false
    /// The value used when the key is absent, shown by editors.
    package var defaultValue: JSONValue?
    private var expectedOverride: String?

    package init(_ kind: Kind, description: String) {
        self.kind = kind
        self.description = description
    }

    /// What a valid value is, as errors say it after "expected ": "an integer between 16 and 10240".
    package var expected: String {
        if let expectedOverride { return expectedOverride }
        switch kind {
        case .object: return "a mapping"
        case .string(let text): return text.expected ?? "a string"
        case .integer(let range): return "an integer between \(range.lowerBound) and \(range.upperBound)"
        case .boolean: return "true or false"
        case .duration(let range):
            return "a duration between \(DurationParser.format(range.lowerBound)) and "
                + "\(DurationParser.format(range.upperBound)), such as 500ms, 3s, 2m, 6h or 4d"
        case .array: return "a list"
        case .enumeration(let values): return Self.list(values.map(\.displayText))
        case .scalar: return "a string value"
        case .anyOf(let options): return Self.list(options.map(\.expected))
        case .any: return "any value"
        }
    }

    /// `a`, `a or b`, `a, b or c`.
    static func list(_ items: [String]) -> String {
        guard let last = items.last else { return "nothing" }
        return items.count == 1 ? last : items.dropLast().joined(separator: ", ") + " or " + last
    }

    // MARK: Building schemas

    /// This schema, also accepting an empty value.
    package func orNull() -> Schema {
        var copy = self
        copy.nullable = true
        return copy
    }

    /// This schema with `text` as what errors say was expected.
    package func expecting(_ text: String) -> Schema {
        var copy = self
        copy.expectedOverride = text
        return copy
    }

    /// This map with keys ending in `suffix` holding `schema` instead.
    package func suffixed(_ suffix: String, _ schema: Schema) -> Schema {
        var copy = self
        if case .object(var object) = kind {
            object.suffixed = (suffix, schema)
            copy.kind = .object(object)
        }
        return copy
    }

    /// This schema with a default value for editors.
    package func defaulting(to value: JSONValue) -> Schema {
        var copy = self
        copy.defaultValue = value
        return copy
    }

    package static func object(
        _ description: String, _ properties: [(name: String, schema: Schema)], required: [String] = [],
        exactlyOneOf: [String] = [], conditions: [Condition] = []
    ) -> Schema {
        var object = Object(properties: properties)
        object.required = required
        object.exactlyOneOf = exactlyOneOf
        object.conditions = conditions
        return Schema(.object(object), description: description)
    }

    /// A mapping whose keys are names (`names`) and whose values are all `values`.
    package static func map(
        of values: Schema, _ description: String, names: Text? = nil, maxProperties: Int? = nil
    ) -> Schema {
        var object = Object(properties: [])
        object.additional = values
        object.names = names
        object.maxProperties = maxProperties
        return Schema(.object(object), description: description)
    }

    package static func string(
        _ description: String, pattern: String? = nil, maxLength: Int? = nil, expected: String? = nil
    ) -> Schema {
        Schema(.string(Text(pattern: pattern, maxLength: maxLength, expected: expected)), description: description)
    }

    package static func integer(_ range: ClosedRange<Int>, _ description: String, default value: Int? = nil)
        -> Schema
    {
        var schema = Schema(.integer(range), description: description)
        schema.defaultValue = value.map { .number(Double($0)) }
        return schema
    }

    package static func duration(
        _ range: ClosedRange<Duration>, _ description: String, default value: Duration? = nil
    ) -> Schema {
        var schema = Schema(.duration(range), description: description)
        schema.defaultValue = value.map { .string(DurationParser.format($0)) }
        return schema
    }

    package static func boolean(_ description: String, default value: Bool? = nil) -> Schema {
        var schema = Schema(.boolean, description: description)
        schema.defaultValue = value.map { .bool($0) }
        return schema
    }

    package static func array(of items: Schema, _ description: String, maxItems: Int? = nil) -> Schema {
        Schema(.array(items: items, maxItems: maxItems), description: description)
    }

    package static func enumeration(_ values: [JSONValue], _ description: String) -> Schema {
        Schema(.enumeration(values), description: description)
    }
}

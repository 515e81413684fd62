import Foundation
import StratusCore
import Testing

private func policy(_ text: String, scope: FilterPolicy.Scope = .messageAttributes) throws -> FilterPolicy {
    try FilterPolicy(jsonText: text, scope: scope)
}

private func string(_ value: String) -> MessageAttribute { MessageAttribute(dataType: "String", stringValue: value) }
private func number(_ value: String) -> MessageAttribute { MessageAttribute(dataType: "Number", stringValue: value) }
private func array(_ value: String) -> MessageAttribute {
    MessageAttribute(dataType: "String.Array", stringValue: value)
}

@Suite struct FilterPolicyTests {
    // MARK: Combination rules

    @Test func valuesInOneKeyAreOredAndCaseSensitive() throws {
        let sport = try policy(#"{"sport": ["rugby", "tennis"]}"#)
        #expect(sport.matches(attributes: ["sport": string("rugby")]))
        #expect(sport.matches(attributes: ["sport": string("tennis")]))
        #expect(!sport.matches(attributes: ["sport": string("Rugby")]))
        #expect(!sport.matches(attributes: ["sport": string("golf")]))
    }

    @Test func keysAreAnded() throws {
        let both = try policy(#"{"sport": ["rugby"], "price": [{"numeric": [">", 100]}]}"#)
        #expect(both.matches(attributes: ["sport": string("rugby"), "price": number("150")]))
        #expect(!both.matches(attributes: ["sport": string("rugby"), "price": number("50")]))
        #expect(!both.matches(attributes: ["sport": string("rugby")]))
    }

    @Test func emptyPolicyMatchesEverything() throws {
        let empty = try policy("{}")
        #expect(empty.matches(attributes: [:]))
        #expect(empty.matches(attributes: ["a": string("b")]))
        #expect(try policy("{}", scope: .messageBody).matches(body: #"{"a": 1}"#))
    }

    @Test func orOperatorAddsOrAcrossKeys() throws {
        let either = try policy(
            #"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]}"#)
        #expect(
            either.matches(attributes: ["source": string("aws.cloudwatch"), "metricName": string("CPUUtilization")]))
        #expect(either.matches(attributes: ["source": string("aws.cloudwatch"), "namespace": string("AWS/EC2")]))
        #expect(!either.matches(attributes: ["source": string("aws.cloudwatch"), "namespace": string("AWS/ES")]))
        #expect(!either.matches(attributes: ["source": string("aws.s3"), "namespace": string("AWS/EC2")]))
    }

    @Test func orWithFewerThanTwoObjectsOrOperatorKeysIsAnOrdinaryKey() throws {
        let single = try policy(#"{"$or": ["x"]}"#)
        #expect(single.matches(attributes: ["$or": string("x")]))
        #expect(!single.matches(attributes: ["a": string("x")]))
        // SNS's own example: "numeric" and "prefix" are operator names, so this "$or" is a key with two conditions.
        let reserved = try policy(#"{"$or": [{"numeric": [">", 1]}, {"prefix": "abc"}]}"#)
        #expect(reserved.matches(attributes: ["$or": string("abcd")]))
        #expect(reserved.matches(attributes: ["$or": number("2")]))
    }

    // MARK: Exact values, numbers and strings

    @Test(arguments: [
        ("5", true), ("5.0", true), ("5.000001", true), ("5.00001", false), ("0.5e1", true), ("6", false),
        ("oops", false),
    ])
    func exactNumberMatchesNumberAttributesNumerically(value: String, expected: Bool) throws {
        let five = try policy(#"{"n": [5]}"#)
        #expect(five.matches(attributes: ["n": number(value)]) == expected)
    }

    @Test func exponentNotationEqualsDecimal() throws {
        #expect(try policy(#"{"price": [3.015e2]}"#).matches(attributes: ["price": number("301.5")]))
        #expect(
            try policy(#"{"price": [{"numeric": ["=", 301.5]}]}"#).matches(attributes: ["price": number("3.015e2")]))
    }

    @Test func numbersAndStringsDoNotCrossMatch() throws {
        #expect(!(try policy(#"{"n": [5]}"#).matches(attributes: ["n": string("5")])))
        #expect(!(try policy(#"{"n": ["5"]}"#).matches(attributes: ["n": number("5")])))
        #expect(!(try policy(#"{"n": [{"numeric": [">", 1]}]}"#).matches(attributes: ["n": string("5")])))
        #expect(!(try policy(#"{"n": [{"prefix": "5"}]}"#).matches(attributes: ["n": number("5")])))
    }

    @Test func customDataTypeLabelsKeepTheirBaseType() throws {
        let both = try policy(#"{"s": ["x"], "n": [{"numeric": [">=", 2]}]}"#)
        let attributes = [
            "s": MessageAttribute(dataType: "String.label", stringValue: "x"),
            "n": MessageAttribute(dataType: "Number.float", stringValue: "2.5"),
        ]
        #expect(both.matches(attributes: attributes))
    }

    @Test func stringArrayAttributeMatchesWhenAnyElementMatches() throws {
        let sport = try policy(#"{"sport": ["rugby"]}"#)
        #expect(sport.matches(attributes: ["sport": array(#"["golf", "rugby"]"#)]))
        #expect(!sport.matches(attributes: ["sport": array(#"["golf", "tennis"]"#)]))
        #expect(!sport.matches(attributes: ["sport": array("not json")]))
        let numbers = try policy(#"{"n": [{"numeric": [">", 10]}], "flag": [true]}"#)
        #expect(numbers.matches(attributes: ["n": array("[1, 20]"), "flag": array("[false, true]")]))
        #expect(!numbers.matches(attributes: ["n": array("[1, 2]"), "flag": array("[true]")]))
    }

    @Test func binaryAttributesAreIgnored() throws {
        let binary = ["data": MessageAttribute(dataType: "Binary", stringValue: "AAE=")]
        #expect(!(try policy(#"{"data": ["AAE="]}"#).matches(attributes: binary)))
        #expect(try policy(#"{"data": [{"exists": false}]}"#).matches(attributes: binary))
    }

    // MARK: Operators

    @Test(arguments: [
        (#"{"prefix": "bas"}"#, "basketball", true), (#"{"prefix": "bas"}"#, "baseball", true),
        (#"{"prefix": "bas"}"#, "rugby", false), (#"{"prefix": "e"}"#, "e\u{301}", true),
        (#"{"suffix": ".png"}"#, "cat.png", true), (#"{"suffix": ".png"}"#, "cat.jpg", false),
        (#"{"equals-ignore-case": "RUGBY"}"#, "rugby", true), (#"{"equals-ignore-case": "RUGBY"}"#, "RugBy", true),
        (#"{"equals-ignore-case": "RUGBY"}"#, "rugbyx", false),
    ])
    func stringOperators(condition: String, value: String, expected: Bool) throws {
        let rule = try policy(#"{"k": [\#(condition)]}"#)
        #expect(rule.matches(attributes: ["k": string(value)]) == expected)
        #expect(!rule.matches(attributes: [:]))
    }

    @Test func anythingButExcludesValues() throws {
        let notBall = try policy(#"{"sport": [{"anything-but": ["rugby", "tennis"]}]}"#)
        #expect(notBall.matches(attributes: ["sport": string("golf")]))
        #expect(!notBall.matches(attributes: ["sport": string("rugby")]))
        #expect(!notBall.matches(attributes: [:]))
        #expect(notBall.matches(attributes: ["sport": array(#"["rugby", "golf"]"#)]))
        #expect(!notBall.matches(attributes: ["sport": array(#"["rugby", "tennis"]"#)]))

        let notOne = try policy(#"{"sport": [{"anything-but": "rugby"}]}"#)
        #expect(notOne.matches(attributes: ["sport": string("golf")]))
        #expect(!notOne.matches(attributes: ["sport": string("rugby")]))

        let notNumbers = try policy(#"{"n": [{"anything-but": [100, 200]}]}"#)
        #expect(notNumbers.matches(attributes: ["n": number("150")]))
        #expect(!notNumbers.matches(attributes: ["n": number("100.0")]))

        let notPrefix = try policy(#"{"event": [{"anything-but": {"prefix": "order-"}}]}"#)
        #expect(notPrefix.matches(attributes: ["event": string("refund-1")]))
        #expect(!notPrefix.matches(attributes: ["event": string("order-1")]))
        #expect(!notPrefix.matches(attributes: [:]))
    }

    @Test(arguments: [
        (#"[">", 0, "<=", 5]"#, "5", true), (#"[">", 0, "<=", 5]"#, "0", false), (#"[">", 0, "<=", 5]"#, "0.1", true),
        (#"[">=", 0, "<", 5]"#, "0", true), (#"[">=", 0, "<", 5]"#, "5", false), (#"["<", -1]"#, "-2", true),
        (#"["<", -1]"#, "-1", false), (#"["<=", -1]"#, "-1", true), (#"[">", 1e3]"#, "1000.5", true),
        (#"["=", 10]"#, "10.00000", true), (#"["=", 10]"#, "10.1", false),
    ])
    func numericRanges(range: String, value: String, expected: Bool) throws {
        let rule = try policy(#"{"n": [{"numeric": \#(range)}]}"#)
        #expect(rule.matches(attributes: ["n": number(value)]) == expected)
        #expect(!rule.matches(attributes: [:]))
    }

    @Test func existsTellsPresenceOnly() throws {
        let present = try policy(#"{"store": [{"exists": true}]}"#)
        let absent = try policy(#"{"store": [{"exists": false}]}"#)
        #expect(present.matches(attributes: ["store": string("")]))
        #expect(!present.matches(attributes: ["other": string("x")]))
        #expect(absent.matches(attributes: ["other": string("x")]))
        #expect(!absent.matches(attributes: ["store": number("1")]))
    }

    @Test func missingAttributeFailsEverythingButExistsFalse() throws {
        let conditions = [
            #""x""#, "5", "null", "true", #"{"prefix": ""}"#, #"{"suffix": ""}"#, #"{"equals-ignore-case": "x"}"#,
            #"{"anything-but": "x"}"#, #"{"anything-but": {"prefix": "x"}}"#, #"{"numeric": [">", 0]}"#,
            #"{"exists": true}"#, #"{"cidr": "0.0.0.0/0"}"#,
        ]
        for condition in conditions {
            #expect(!(try policy(#"{"k": [\#(condition)]}"#).matches(attributes: [:])), "\(condition)")
        }
        #expect(try policy(#"{"k": ["x", {"exists": false}]}"#).matches(attributes: [:]))
    }

    @Test(arguments: [
        ("10.0.0.0/24", "10.0.0.255", true), ("10.0.0.0/24", "10.0.1.0", false), ("10.0.0.7/24", "10.0.0.1", true),
        ("0.0.0.0/0", "192.168.1.1", true), ("192.168.1.1/32", "192.168.1.1", true), ("10.0.0.0/8", "not-an-ip", false),
        ("2001:db8::/32", "2001:db8:1::1", true), ("2001:db8::/32", "2001:db9::1", false),
        ("::ffff:10.0.0.0/120", "::ffff:10.0.0.9", true), ("10.0.0.0/8", "::ffff:10.0.0.9", false),
    ])
    func cidrMatchesAddressesInTheNetwork(network: String, address: String, expected: Bool) throws {
        let rule = try policy(#"{"ip": [{"cidr": "\#(network)"}]}"#)
        #expect(rule.matches(attributes: ["ip": string(address)]) == expected)
    }

    // MARK: Body scope

    @Test func bodyScopeMatchesNestedObjects() throws {
        let nested = try policy(
            #"{"store": {"city": ["Lisbon"], "size": [{"numeric": [">", 10]}]}, "kind": ["order"]}"#,
            scope: .messageBody)
        #expect(nested.matches(body: #"{"kind": "order", "store": {"city": "Lisbon", "size": 20}, "extra": 1}"#))
        #expect(!nested.matches(body: #"{"kind": "order", "store": {"city": "Porto", "size": 20}}"#))
        #expect(!nested.matches(body: #"{"kind": "order", "store": {"city": "Lisbon", "size": "20"}}"#))
        #expect(!nested.matches(body: #"{"kind": "order", "store": "Lisbon"}"#))
        #expect(!nested.matches(body: #"{"kind": "order"}"#))
    }

    /// SNS reads body keys as dotted paths (recorded against AWS in LocalStack's
    /// `test_filter_policy_on_message_body_dot_attribute`): a dotted policy key reaches into nested objects and
    /// matches a dotted body key alike, at any split.
    @Test func dottedKeysAreNestedPaths() throws {
        let dotted = try policy(#"{"object.nested": ["string.value"]}"#, scope: .messageBody)
        #expect(dotted.matches(body: #"{"object": {"nested": "string.value"}}"#))
        #expect(dotted.matches(body: #"{"object.nested": "string.value"}"#))
        #expect(dotted.matches(body: #"{"object": [{"nested": "x"}, {"nested": "string.value"}]}"#))
        #expect(!dotted.matches(body: #"{"object": {"nested": "other"}}"#))
        #expect(!dotted.matches(body: #"{"objectxnested": "string.value"}"#))

        for policyText in [
            #"{"object.nested": {"test": ["v"]}}"#, #"{"object": {"nested.test": ["v"]}}"#,
            #"{"object": {"nested": {"test": ["v"]}}}"#,
        ] {
            let deep = try policy(policyText, scope: .messageBody)
            for body in [
                #"{"object": {"nested": {"test": "v"}}}"#, #"{"object.nested.test": "v"}"#,
                #"{"object": {"nested.test": "v"}}"#, #"{"object.nested": {"test": "v"}}"#,
            ] {
                #expect(deep.matches(body: body), "\(policyText) on \(body)")
            }
            #expect(!deep.matches(body: #"{"object": {"nested": {"test": "w"}}}"#))
        }
    }

    @Test func bodyArraysMatchWhenAnyElementMatches() throws {
        let tags = try policy(#"{"tags": [{"prefix": "pri"}]}"#, scope: .messageBody)
        #expect(tags.matches(body: #"{"tags": ["low", "priority"]}"#))
        #expect(!tags.matches(body: #"{"tags": ["low"]}"#))
        #expect(!tags.matches(body: #"{"tags": []}"#))

        let items = try policy(#"{"items": {"sku": ["a"], "qty": [2]}}"#, scope: .messageBody)
        #expect(items.matches(body: #"{"items": [{"sku": "b", "qty": 1}, {"sku": "a", "qty": 2}]}"#))
        // Both conditions must hold in the same element.
        #expect(!items.matches(body: #"{"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}"#))
    }

    @Test func bodyScopeMatchesBooleansNullAndOr() throws {
        let flags = try policy(#"{"paid": [true], "note": [null]}"#, scope: .messageBody)
        #expect(flags.matches(body: #"{"paid": true, "note": null}"#))
        #expect(!flags.matches(body: #"{"paid": "true", "note": null}"#))
        #expect(!flags.matches(body: #"{"paid": true}"#))

        let either = try policy(
            #"{"a": {"$or": [{"b": ["x"]}, {"c": [{"exists": true}]}]}}"#, scope: .messageBody)
        #expect(either.matches(body: #"{"a": {"b": "x"}}"#))
        #expect(either.matches(body: #"{"a": {"c": 0}}"#))
        #expect(!either.matches(body: #"{"a": {"b": "y"}}"#))
    }

    @Test func bodyExistsFalseHoldsWhenTheParentIsMissing() throws {
        let noCity = try policy(#"{"store": {"city": [{"exists": false}]}}"#, scope: .messageBody)
        #expect(noCity.matches(body: #"{"other": 1}"#))
        #expect(noCity.matches(body: #"{"store": {"name": "x"}}"#))
        #expect(!noCity.matches(body: #"{"store": {"city": "Lisbon"}}"#))
        // A key holding only an object or an empty array has no value to test.
        let present = try policy(#"{"store": [{"exists": true}]}"#, scope: .messageBody)
        #expect(present.matches(body: #"{"store": "x"}"#))
        #expect(!present.matches(body: #"{"store": {"city": "x"}}"#))
        #expect(!present.matches(body: #"{"store": []}"#))
    }

    @Test(arguments: ["not json", "[1, 2]", #""text""#, "42", ""])
    func bodyThatIsNotAJSONObjectNeverMatches(body: String) throws {
        #expect(!(try policy("{}", scope: .messageBody).matches(body: body)))
        #expect(!(try policy(#"{"a": [{"exists": false}]}"#, scope: .messageBody).matches(body: body)))
    }

    @Test func scopeDecidesWhatIsMatched() throws {
        var rule = try policy(#"{"kind": ["order"]}"#)
        let body = #"{"kind": "order"}"#
        #expect(!rule.matches(body: body, attributes: ["kind": string("refund")]))
        rule.scope = .messageBody
        #expect(rule.matches(body: body, attributes: ["kind": string("refund")]))
    }

    // MARK: Input forms

    @Test func acceptsJSONSerializationAndSwiftLiteralValues() throws {
        let text = #"{"flag": [true], "n": [1], "s": [{"exists": true}], "z": [null]}"#
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let fromFoundation = try FilterPolicy(json: object, scope: .messageBody)
        let literal: [String: Any] = ["flag": [true], "n": [1], "s": [["exists": true]], "z": [NSNull()]]
        #expect(try FilterPolicy(json: literal, scope: .messageBody) == fromFoundation)
        #expect(fromFoundation.matches(body: #"{"flag": true, "n": 1.0, "s": "x", "z": null}"#))
        #expect(!fromFoundation.matches(body: #"{"flag": 1, "n": 1, "s": "x", "z": null}"#))
    }

    @Test func acceptsYamsShapedMappings() throws {
        // Yams produces [AnyHashable: Any] mappings with Swift Int, Double, Bool and NSNull leaves.
        let yaml: [AnyHashable: Any] = [
            "price": [["numeric": [">", 1.5, "<", 10]] as [AnyHashable: Any]], "vip": [false],
        ]
        let rule = try FilterPolicy(json: yaml)
        #expect(rule.matches(attributes: ["price": number("2"), "vip": array("[false]")]))
        #expect(!rule.matches(attributes: ["price": number("2"), "vip": array("[0]")]))
    }

    @Test func messageAttributeRoundTripsThroughCodable() throws {
        let attribute = number("42")
        let data = try JSONEncoder().encode(attribute)
        #expect(try JSONDecoder().decode(MessageAttribute.self, from: data) == attribute)
    }

    // MARK: Invalid policies

    @Test(arguments: [
        (#"["rugby"]"#, "", #"the policy must be a JSON object such as {"sport": ["rugby"]} (got an array)"#),
        (#"{"sport": "rugby"}"#, "sport", #""sport": must be an object or an array (got "rugby"); write ["rugby"]"#),
        (#"{"sport": []}"#, "sport", #""sport": empty arrays are not allowed; list at least one value or condition"#),
        (
            #"{"store": {"city": ["x"]}}"#, "store",
            #""store": filter policy scope MessageAttributes does not support nested filter policy; "#
                + "give the key an array of values, or use FilterPolicyScope MessageBody"
        ),
        (
            #"{"sport": [["a"]]}"#, "sport",
            #""sport": match value must be a string, number, true, false, null or an operator such as "#
                + #"{"prefix": "a"} (got an array)"#
        ),
        (
            #"{"sport": [{"prefix": "a", "suffix": "b"}]}"#, "sport",
            #""sport": only one key allowed in a match expression (got 2: prefix, suffix)"#
        ),
        (
            #"{"sport": [{"contains": "a"}]}"#, "sport",
            #""sport": unrecognized match type "contains"; expected one of prefix, suffix, equals-ignore-case, "#
                + "anything-but, numeric, exists or cidr"
        ),
        (#"{"k": [{"prefix": 5}]}"#, "k", #""k": prefix match pattern must be a string (got 5)"#),
        (#"{"k": [{"suffix": null}]}"#, "k", #""k": suffix match pattern must be a string (got null)"#),
        (
            #"{"k": [{"equals-ignore-case": ["a"]}]}"#, "k",
            #""k": equals-ignore-case match pattern must be a string (got an array)"#
        ),
        (#"{"k": [{"exists": "yes"}]}"#, "k", #""k": exists match pattern must be either true or false (got "yes")"#),
        (
            #"{"k": [{"anything-but": []}]}"#, "k",
            #""k": anything-but takes a value, a non-empty array of values, or {"prefix": "..."} (got an empty array)"#
        ),
        (
            #"{"k": [{"anything-but": [{"prefix": "a"}]}]}"#, "k",
            #""k": anything-but takes a value, a non-empty array of values, or {"prefix": "..."} "#
                + "(got an object in the array)"
        ),
        (
            #"{"k": [{"anything-but": {"suffix": "a"}}]}"#, "k",
            #""k": unsupported anything-but pattern: suffix; anything-but takes a value, a non-empty array of "#
                + #"values, or {"prefix": "..."}"#
        ),
        (#"{"k": [{"anything-but": {"prefix": 1}}]}"#, "k", #""k": prefix match pattern must be a string (got 1)"#),
        (#"{"k": [{"cidr": 5}]}"#, "k", #""k": cidr match pattern must be a string such as "10.0.0.0/24" (got 5)"#),
        (
            #"{"k": [{"cidr": "10.0.0.0"}]}"#, "k",
            #""k": malformed CIDR, one '/' required, as in "10.0.0.0/24" (got "10.0.0.0")"#
        ),
        (#"{"k": [{"cidr": "10.0.0.256/24"}]}"#, "k", #""k": nonstandard IP address: 10.0.0.256"#),
        (
            #"{"k": [{"cidr": "10.0.0.0/33"}]}"#, "k",
            #""k": malformed CIDR, mask bits must be an integer from 0 to 32 (got 33)"#
        ),
        (
            #"{"$or": [{"a": ["x"]}, {"b": "y"}]}"#, "$or[1].b",
            #""$or[1].b": must be an object or an array (got "y"); write ["y"]"#
        ),
    ])
    func invalidPoliciesNameTheKeyAndTheFix(text: String, key: String, message: String) {
        #expect(throws: FilterPolicy.InvalidPolicy(key: key, message: message)) { try policy(text) }
    }

    @Test(arguments: [
        (#""5""#, #"numeric expects an array such as [">", 0, "<=", 5] (got "5")"#),
        ("[]", "numeric: expected an operator at position 1 (got nothing)"),
        (#"["!=", 5]"#, #"numeric: operator "!=" is not allowed here; use =, <, <=, >, >="#),
        (#"[">", "5"]"#, #"numeric: the value after ">" must be a number (got "5")"#),
        (#"[">"]"#, #"numeric: the value after ">" must be a number (got nothing)"#),
        (
            #"["<", 5, ">", 1]"#,
            "numeric: only a lower bound (> or >=) can be followed by an upper bound (got 4 elements)"
        ),
        (#"[">", 5, "=", 10]"#, #"numeric: operator "=" is not allowed here; use <, <="#),
        (#"[">", 10, "<", 5]"#, "numeric: the lower bound 10 must be less than the upper bound 5"),
        (#"[">", 0, "<", 5, "<", 6]"#, "numeric: too many elements (6); a range has 4"),
    ])
    func invalidNumericConditions(range: String, problem: String) throws {
        let error = #expect(throws: FilterPolicy.InvalidPolicy.self) { try policy(#"{"n": [{"numeric": \#(range)}]}"#) }
        #expect(error?.key == "n")
        #expect(error?.message.hasPrefix(#""n": \#(problem)"#) == true, "\(error?.message ?? "")")
    }

    @Test func nestedErrorsNameTheFullPath() {
        let error = #expect(throws: FilterPolicy.InvalidPolicy.self) {
            try policy(#"{"store": {"address": {"city": "Lisbon"}}}"#, scope: .messageBody)
        }
        #expect(error?.key == "store.address.city")
        #expect(
            error?.description
                == #"FilterPolicy: "store.address.city": must be an object or an array (got "Lisbon"); "#
                + #"write ["Lisbon"]"#
        )
    }

    @Test func atMostFiveKeys() throws {
        _ = try policy(#"{"a": [1], "b": [1], "c": [1], "d": [1], "e": [1]}"#)
        let error = #expect(throws: FilterPolicy.InvalidPolicy.self) {
            try policy(#"{"a": [1], "b": [1], "c": [1], "$or": [{"d": [1]}, {"e": [1], "f": [1]}]}"#)
        }
        #expect(error?.message == "filter policy can not have more than 5 keys (found 6: a, b, c, d, e, f)")
        // In body scope only the top-level keys count.
        _ = try policy(
            #"{"a": {"x": [1], "y": [1], "z": [1]}, "b": {"x": [1], "y": [1], "z": [1]}}"#, scope: .messageBody)
    }

    @Test func atMost150Combinations() throws {
        func values(_ count: Int) -> String { "[" + (1...count).map(String.init).joined(separator: ", ") + "]" }
        _ = try policy(#"{"a": \#(values(10)), "b": \#(values(15))}"#)
        let error = #expect(throws: FilterPolicy.InvalidPolicy.self) {
            try policy(#"{"a": \#(values(10)), "b": \#(values(16))}"#)
        }
        #expect(
            error?.message
                == "filter policy is too complex: 160 combinations, at most 150 "
                + "(multiply the number of values in each key's array)"
        )
        // Nested arrays count once per level of depth: 75 values two levels down make 150.
        _ = try policy(#"{"a": {"b": \#(values(75))}}"#, scope: .messageBody)
        #expect(throws: FilterPolicy.InvalidPolicy.self) {
            try policy(#"{"a": {"b": \#(values(76))}}"#, scope: .messageBody)
        }
        // $or branches add up: 2 × (40 + 35) = 150.
        _ = try policy(#"{"k": [1, 2], "$or": [{"a": \#(values(40))}, {"b": \#(values(35))}]}"#)
        #expect(throws: FilterPolicy.InvalidPolicy.self) {
            try policy(#"{"k": [1, 2], "$or": [{"a": \#(values(40))}, {"b": \#(values(36))}]}"#)
        }
    }

    @Test func policyTextMustBeJSONAndAtMost256KB() {
        let notJSON = #expect(throws: FilterPolicy.InvalidPolicy.self) { try policy("{sport: rugby}") }
        #expect(notJSON?.message == #"failed to parse JSON; expected an object such as {"sport": ["rugby"]}"#)
        let padding = String(repeating: " ", count: 256 * 1024)
        let tooBig = #expect(throws: FilterPolicy.InvalidPolicy.self) { try policy("{}" + padding) }
        #expect(tooBig?.message == "filter policy is 262146 bytes; at most 262144 (256 KB) allowed")
    }

    @Test func nonJSONValuesAreRejected() {
        let date = #expect(throws: FilterPolicy.InvalidPolicy.self) { try FilterPolicy(json: ["when": [Date()]]) }
        #expect(date?.key == "when")
        #expect(
            date?.message == #""when": holds a Date value, which is not JSON; "#
                + "use a string, number, true, false, null, array or object")
        let yamlKey: [AnyHashable: Any] = [1: ["x"]]
        let key = #expect(throws: FilterPolicy.InvalidPolicy.self) { try FilterPolicy(json: yamlKey) }
        #expect(key?.message == "has the key 1, which is not a string")
    }
}

/// What a subscription may name as an HTTP endpoint, and what message attributes may carry: both sides of
/// every rule (a port past 65535 once trapped the HTTP client and crashed the host at delivery).
@Suite struct SubscriptionEndpointAndAttributeTests {
    @Test(arguments: [
        ("http://127.0.0.1:65535/hook", true), ("http://127.0.0.1:1/", true), ("https://example.com/x", true),
        ("http://[::1]:8080/", true), ("http://localhost/", true),
        ("http://127.0.0.1:65536/", false), ("http://127.0.0.1:0/", false), ("http://127.0.0.1:99999/", false),
        ("http://127.0.0.1:99999999999999999999/", false), ("http://[::1]:65536/", false), ("ftp://h/", false),
        ("http://", false), ("not a url", false),
    ])
    func httpEndpoints(url: String, valid: Bool) {
        #expect((Subscription.Endpoint.problem(withHTTPURL: url) == nil) == valid, "\(url)")
    }

    @Test(arguments: [
        ("Number", "1", true), ("Number", "-12.5e3", true), ("Number", "1e126", true), ("Number", "1e127", false),
        ("Number", "NaN", false), ("Number", "Infinity", false), ("Number", "0x10", false), ("Number", "1e400", false),
        ("Binary", "AQI=", true), ("Binary", "!!not*base64", false),
        ("String", "tab\tand\nlines\r", true), ("String", "bell\u{07}", false), ("String", "\u{FFFE}", false),
        ("String.\u{03}", "x", false),
    ])
    func attributeValues(type: String, value: String, valid: Bool) {
        let problem = MessageAttribute.problem(in: ["a": MessageAttribute(dataType: type, stringValue: value)])
        #expect((problem == nil) == valid, "\(type) \(value.debugDescription): \(problem ?? "valid")")
    }
}

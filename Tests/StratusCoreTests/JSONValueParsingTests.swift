import Foundation
import StratusCore
import Testing

/// The JSON reader every request body goes through: the grammar exactly (what Foundation accepts, it accepts;
/// what it refuses, it refuses), and no input that can exhaust the stack.
@Suite struct JSONValueParsingTests {
    @Test(arguments: [
        (
            #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
            JSONValue.object([
                "a": .number(1), "b": .array([.bool(true), .bool(false), .null]), "c": .object(["d": .string("e")]),
            ])
        ),
        (#" [ -0.5e2 , 0 , 1E+2, 12.25 ] "#, .array([.number(-50), .number(0), .number(100), .number(12.25)])),
        (#""tab\t \"q\" \\ \/ \u00e9 \ud83d\ude00 é""#, .string("tab\t \"q\" \\ / é 😀 é")),
        (#"{"k":1,"k":2}"#, .object(["k": .number(2)])),
        ("{}", .object([:])), ("[]", .array([])), ("\"\"", .string("")),
    ])
    func validJSONIsRead(text: String, expected: JSONValue) {
        #expect(JSONValue.parse(Array(text.utf8)) == expected)
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "01", "-", ".5", "1.", "1e", "+1", "1e999", "-1e999",
        "tru", "nulll", "[1] 2", "\"\u{01}\"", "\"\\x\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\u12\"", "NaN",
        "{\"a\" 1}", "[1 2]", "'a'",
    ])
    func invalidJSONIsRefused(text: String) {
        #expect(JSONValue.parse(Array(text.utf8)) == nil, "\(text.debugDescription)")
    }

    @Test func invalidUTF8IsRefused() {
        #expect(JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) == nil)
        #expect(JSONValue.parse([0x22, 0xFF, 0x22]) == nil)
    }

    @Test func nestingIsBoundedOnBothSides() {
        let deepest = JSONValue.maximumDepth
        let fits = String(repeating: "[", count: deepest) + String(repeating: "]", count: deepest)
        #expect(JSONValue.parse(Array(fits.utf8)) != nil)
        let tooDeep = String(repeating: "[", count: deepest + 1) + String(repeating: "]", count: deepest + 1)
        #expect(JSONValue.parse(Array(tooDeep.utf8)) == nil)
        // Far beyond: refused without touching the stack limit.
        #expect(JSONValue.parse(Array(String(repeating: "[", count: 1_000_000).utf8)) == nil)
    }

    @Test func agreesWithFoundationOnWhatItEncodes() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &generator))
            case 2: return .number(Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) / 8)
            case 3:
                let scalars = (0..<Int.random(in: 0...12, using: &generator)).map { _ in
                    Character(Unicode.Scalar([0x22, 0x5C, 0x0A, 0x41, 0xE9, 0x1F600, 0x7F, 0x09].randomElement()!)!)
                }
                return .string(String(scalars))
            case 4: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in random(depth + 1) })
            default:
                return .object(
                    Dictionary(
                        (0..<Int.random(in: 0...4, using: &generator)).map { ("k\($0)", random(depth + 1)) },
                        uniquingKeysWith: { a, _ in a }))
            }
        }
        for _ in 0..<500 {
            let value = random(0)
            let encoded = try JSONEncoder().encode(value)
            #expect(JSONValue.parse(encoded) == value)
        }
    }
}

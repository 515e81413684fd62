import Foundation
import Testing

@testable import StratusCore

@Suite struct JSONWriterTests {
    @Test func escapesAndNestsAsJSONSerializationReadsIt() throws {
        var json = JSONWriter()
        json.beginObject()
        json.field("text", "quote \" backslash \\ newline \n tab \t bell \u{7} ünïcode ☃")
        json.key("list")
        json.beginArray()
        json.string("a")
        json.number(Int64(-42))
        json.bool(true)
        json.endArray()
        json.object("map", ["k": "v"])
        json.endObject()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any])
        #expect(object["text"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{7} ünïcode ☃")
        #expect((object["list"] as? [Any])?.count == 3)
        #expect(object["map"] as? [String: String] == ["k": "v"])
    }

    /// Escapes at the start, the middle and the end of a string, runs of them, every control byte, and
    /// strings with none: each reads back as it was written, and escapes use JSON's short forms.
    @Test func everyStringReadsBackAsWritten() throws {
        let controls = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
        let samples = [
            "", "plain", "\"", "\\", "\"\"\\", "\nstart", "end\n", "mid\u{1}dle", controls, "☃ \u{7f} \u{10FFFF}",
            String(repeating: "long run ", count: 500) + "\"" + String(repeating: "é", count: 300),
        ]
        for sample in samples {
            let quoted = JSONWriter.quoted(sample)
            let read = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: [.fragmentsAllowed])
            #expect(read as? String == sample, "\(quoted)")
        }
        #expect(JSONWriter.quoted("a\"b\\c\n\u{1}") == #""a\"b\\c\n\u0001""#)
    }

    @Test func apiGatewayTimeFormat() {
        #expect(JSONWriter.apiGatewayTime(epochSeconds: 1_583_348_638) == "04/Mar/2020:19:03:58 +0000")
    }

    @Test func requestIDsAreVersion4UUIDs() {
        let id = RequestID.make()
        #expect(UUID(uuidString: id) != nil)
        #expect(id == id.lowercased())
        #expect(Array(id)[14] == "4")
        #expect("89ab".contains(Array(id)[19]), "RFC 4122 variant")
        let many = (0..<100_000).map { _ in RequestID.make() }
        #expect(Set(many).count == many.count, "no repeats")
        #expect(many.allSatisfy { $0.count == 36 && UUID(uuidString: $0) != nil })
        #expect(IDRandom.hex(digits: 16).count == 16 && IDRandom.hex(digits: 1).count == 1)
    }
}

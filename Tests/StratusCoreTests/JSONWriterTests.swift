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

import Foundation
import HTTPTypes
import Hummingbird
import StratusCore

/// An AWS answer before it is written in its protocol's format: AWS JSON for SQS's JSON protocol and
/// Lambda, XML for the query protocols of SQS and SNS. The XML names of list members and map entries are
/// part of the value, since each protocol spells them its own way.
indirect enum AWSShape: Sendable {
    case string(String)
    case number(Int64)
    case bool(Bool)
    case structure([(String, AWSShape)])
    /// `flattened`: each member is an element named `member` directly in the parent (SQS's query XML);
    /// otherwise members are `<member>` elements inside the list's own element (SNS).
    case list(member: String, flattened: Bool, [AWSShape])
    /// Entries as `<entry><key/><value/></entry>` with these names; flattened as for lists.
    case map(entry: String, flattened: Bool, key: String, value: String, [(String, AWSShape)])

    static func strings(_ values: [String: String], entry: String, flattened: Bool, key: String, value: String)
        -> AWSShape
    {
        .map(
            entry: entry, flattened: flattened, key: key, value: value,
            values.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// The value as AWS JSON.
    var json: [UInt8] {
        var writer = JSONWriter()
        write(into: &writer)
        return writer.bytes
    }

    private func write(into json: inout JSONWriter) {
        switch self {
        case .string(let value): json.string(value)
        case .number(let value): json.number(value)
        case .bool(let value): json.bool(value)
        case .structure(let fields):
            json.beginObject()
            for (name, value) in fields {
                json.key(name)
                value.write(into: &json)
            }
            json.endObject()
        case .list(_, _, let members):
            json.beginArray()
            for member in members { member.write(into: &json) }
            json.endArray()
        case .map(_, _, _, _, let entries):
            json.beginObject()
            for (name, value) in entries {
                json.key(name)
                value.write(into: &json)
            }
            json.endObject()
        }
    }

    /// Appends the value as the XML content of an element named `name` (flattened lists and maps repeat
    /// their member element instead).
    func writeXML(named name: String, into xml: inout String) {
        switch self {
        case .list(let member, true, let members):
            for value in members { value.writeXML(named: member, into: &xml) }
        case .map(let entry, true, let key, let valueName, let entries):
            for (entryKey, value) in entries {
                xml += "<\(entry)><\(key)>\(XML.escape(entryKey))</\(key)>"
                value.writeXML(named: valueName, into: &xml)
                xml += "</\(entry)>"
            }
        default:
            xml += "<\(name)>"
            writeXMLContent(into: &xml)
            xml += "</\(name)>"
        }
    }

    func writeXMLContent(into xml: inout String) {
        switch self {
        case .string(let value): xml += XML.escape(value)
        case .number(let value): xml += String(value)
        case .bool(let value): xml += value ? "true" : "false"
        case .structure(let fields):
            for (name, value) in fields { value.writeXML(named: name, into: &xml) }
        case .list(let member, _, let members):
            for value in members { value.writeXML(named: member, into: &xml) }
        case .map(let entry, _, let key, let valueName, let entries):
            for (entryKey, value) in entries {
                xml += "<\(entry)><\(key)>\(XML.escape(entryKey))</\(key)>"
                value.writeXML(named: valueName, into: &xml)
                xml += "</\(entry)>"
            }
        }
    }
}

enum XML {
    /// Text escaped for element content: markup characters and the carriage return a parser would drop; a
    /// character XML 1.0 cannot carry at all (what the store may hold from older versions, or an error that
    /// quotes a request) becomes U+FFFD, so that every answer parses.
    static func escape(_ text: String) -> String {
        guard
            text.utf8.contains(where: {
                $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 < 0x20 || $0 == 0xEF
            })
        else {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\r": out += "&#xD;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                switch scalar.value {
                case 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: out.unicodeScalars.append(scalar)
                default: out += "\u{FFFD}"
                }
            }
        }
        return out
    }

    /// A query-protocol answer: `<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata>…`.
    static func response(action: String, namespace: String, result: AWSShape?, requestId: String) -> Response {
        var xml = "<?xml version=\"1.0\"?><\(action)Response xmlns=\"\(namespace)\">"
        if let result { result.writeXML(named: "\(action)Result", into: &xml) }
        xml += "<ResponseMetadata><RequestId>\(requestId)</RequestId></ResponseMetadata></\(action)Response>"
        return body(xml, status: .ok, requestId: requestId)
    }

    /// A query-protocol error: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
    static func error(
        namespace: String, status: HTTPResponse.Status, code: String, message: String, sender: Bool = true,
        requestId: String
    ) -> Response {
        // SQS's query errors carry an empty `Detail`, SNS's do not.
        let detail = namespace == SQSFacade.namespace ? "<Detail/>" : ""
        let xml =
            "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"\(namespace)\"><Error><Type>\(sender ? "Sender" : "Receiver")</Type>"
            + "<Code>\(escape(code))</Code><Message>\(escape(message))</Message>\(detail)</Error>"
            + "<RequestId>\(requestId)</RequestId></ErrorResponse>"
        return body(xml, status: status, requestId: requestId)
    }

    private static func body(_ xml: String, status: HTTPResponse.Status, requestId: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/xml", .amznRequestId: requestId],
            body: .init(byteBuffer: ByteBuffer(string: xml)))
    }
}

/// What every AWS request carries besides its parameters.
struct AWSRequestInfo: Sendable {
    /// From the SigV4 credential scope; the host's default when unsigned.
    var region: String
    /// The service the request was signed for (`sqs`, `sns`, `lambda`), if signed.
    var service: String?
    /// `host:port` the client addressed, for the URLs handed back (queue URLs).
    var authority: String
    var requestId = RequestID.make()

    init(_ request: Request) {
        region = AWS.region
        if let authorization = request.headers[.authorization], let scope = Self.credentialScope(authorization) {
            // Credential=AKID/date/region/service/aws4_request
            if scope.count >= 5 {
                let region = scope[2]
                if !region.isEmpty, region.count <= 32,
                    region.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D })
                {
                    self.region = String(decoding: region, as: UTF8.self)
                }
                service = String(decoding: scope[3], as: UTF8.self)
            }
        }
        authority = request.head.authority ?? "localhost"
    }
}

extension AWSRequestInfo {
    /// The `/`-separated parts of a SigV4 `Credential=` value, read from the bytes (every AWS request has one).
    static func credentialScope(_ authorization: String) -> [ArraySlice<UInt8>]? {
        let bytes = Array(authorization.utf8)
        let key = Array("Credential=".utf8)
        guard bytes.count >= key.count else { return nil }
        for start in 0...(bytes.count - key.count) where bytes[start..<start + key.count].elementsEqual(key) {
            var end = start + key.count
            while end < bytes.count, bytes[end] != UInt8(ascii: ","), bytes[end] != UInt8(ascii: " ") { end += 1 }
            return bytes[(start + key.count)..<end].split(
                separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        }
        return nil
    }
}

/// The parameters of a query-protocol request (`Action=…&Version=…`), from the URL and a form body.
struct QueryParameters: Sendable {
    private(set) var values: [String: String] = [:]
    /// The first parameter whose percent-encoding is not valid UTF-8, if any: the request is refused.
    private(set) var undecodable: String?

    init(_ text: Substring) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else {
                undecodable = undecodable ?? String(parts[0].prefix(100))
                continue
            }
            guard !name.isEmpty else { continue }
            guard let value = parts.count > 1 ? Self.decode(parts[1]) : "" else {
                undecodable = undecodable ?? name
                continue
            }
            values[name] = value
        }
    }

    init(merging other: QueryParameters, with more: QueryParameters) {
        values = other.values.merging(more.values) { _, new in new }
        undecodable = other.undecodable ?? more.undecodable
    }

    /// Form decoding: `+` is a space, `%XX` a byte; `nil` for a bad escape or bytes that are not UTF-8.
    static func decode(_ text: Substring) -> String? {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: index)
                guard first != utf8.endIndex, utf8.index(after: first) != utf8.endIndex,
                    let high = hex(utf8[first]), let low = hex(utf8[utf8.index(after: first)])
                else { return nil }
                bytes.append(high << 4 | low)
                index = utf8.index(first, offsetBy: 2)
                continue
            }
            bytes.append(byte == UInt8(ascii: "+") ? 0x20 : byte)
            index = utf8.index(after: index)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    subscript(_ name: String) -> String? { values[name] }

    /// A parameter the protocol cannot place (`Attribute.0.Name`, a member without its name).
    struct Malformed: Error {
        var message: String
    }

    /// Numbered members `prefix.1`, `prefix.2`, … in their order: each as the parameters under it
    /// (`Entry.1.Id` is `Id` in the first), or its own value under the key "". A member number that is not
    /// 1 to 1000 is `Malformed`: nothing a client sends is silently dropped.
    func members(_ prefix: String) throws(Malformed) -> [QueryParameters] {
        var byIndex: [Int: QueryParameters] = [:]
        let start = prefix + "."
        for (name, value) in values where name.hasPrefix(start) {
            let rest = name.dropFirst(start.count)
            let indexText = rest.prefix { $0 != "." }
            guard let index = Int(indexText), (1...1000).contains(index) else {
                throw Malformed(
                    message: "Parameter \(name.prefix(100)) is invalid: member numbers run from 1 to 1000.")
            }
            let key = rest.dropFirst(indexText.count).drop { $0 == "." }
            byIndex[index, default: QueryParameters("")].values[String(key)] = value
        }
        return byIndex.sorted { $0.key < $1.key }.map(\.value)
    }
}

/// Reads typed parameters from an AWS request, naming the parameter in every error: a value of the wrong
/// type is an error, never taken for absent. (The query protocol's values are all text; numbers and booleans
/// are read from it.)
struct AWSInput: Sendable {
    /// A parameter whose value has the wrong type; each facade answers it in its protocol's shape.
    struct WrongType: Error {
        var name: String
        var expected: String
        var message: String { "Value for parameter \(name.prefix(100)) is invalid. Reason: must be \(expected)." }
    }

    var fields: [String: JSONValue]

    init(_ fields: [String: JSONValue]) {
        self.fields = fields
    }

    subscript(_ name: String) -> JSONValue? {
        if let value = fields[name], value != .null { return value }
        return nil
    }

    func string(_ name: String) throws(WrongType) -> String? {
        switch self[name] {
        case nil: return nil
        case .string(let value)?: return value
        default: throw WrongType(name: name, expected: "a string")
        }
    }

    /// An integer given as a JSON number or as the text of one.
    func int(_ name: String) throws(WrongType) -> Int? {
        switch self[name] {
        case nil: return nil
        case .number(let value)? where value.rounded() == value && abs(value) < 1e15: return Int(value)
        case .string(let text)?:
            if let value = Int(text.trimmingCharacters(in: .whitespaces)) { return value }
            throw WrongType(name: name, expected: "an integer")
        default: throw WrongType(name: name, expected: "an integer")
        }
    }

    func bool(_ name: String) throws(WrongType) -> Bool? {
        switch self[name] {
        case nil: return nil
        case .bool(let value)?: return value
        case .string(let text)? where ["true", "false"].contains(text.lowercased()): return text.lowercased() == "true"
        default: throw WrongType(name: name, expected: "true or false")
        }
    }

    func strings(_ name: String) throws(WrongType) -> [String] {
        switch self[name] {
        case nil: return []
        case .array(let values)?:
            var strings: [String] = []
            for value in values {
                guard case .string(let text) = value else { throw WrongType(name: name, expected: "a list of strings") }
                strings.append(text)
            }
            return strings
        default: throw WrongType(name: name, expected: "a list of strings")
        }
    }

    func stringMap(_ name: String) throws(WrongType) -> [String: String] {
        switch self[name] {
        case nil: return [:]
        case .object(let values)?:
            var map: [String: String] = [:]
            for (key, value) in values {
                guard case .string(let text) = value else {
                    throw WrongType(name: "\(name).\(key)", expected: "a string")
                }
                map[key] = text
            }
            return map
        default: throw WrongType(name: name, expected: "a map of strings")
        }
    }

    func objects(_ name: String) throws(WrongType) -> [AWSInput] {
        switch self[name] {
        case nil: return []
        case .array(let values)?:
            var objects: [AWSInput] = []
            for value in values {
                guard case .object(let fields) = value else {
                    throw WrongType(name: name, expected: "a list of objects")
                }
                objects.append(AWSInput(fields))
            }
            return objects
        default: throw WrongType(name: name, expected: "a list of objects")
        }
    }

    func object(_ name: String) throws(WrongType) -> AWSInput? {
        switch self[name] {
        case nil: return nil
        case .object(let fields)?: return AWSInput(fields)
        default: throw WrongType(name: name, expected: "an object")
        }
    }

    /// The value's text, for an error message that quotes what was sent.
    static func text(of value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: String(text.prefix(100))
        case .number(let number)?:
            number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case let value?: String(value.jsonText.prefix(100))
        case nil: ""
        }
    }
}

extension HTTPField.Name {
    static let amzTarget = HTTPField.Name("X-Amz-Target")!
    static let amznQueryError = HTTPField.Name("x-amzn-query-error")!
}

/// The body of an AWS request, or `nil` when it is larger than `limit`.
func collectBody(_ request: Request, limit: Int = Limits.awsRequestBytes) async -> ByteBuffer? {
    try? await request.collectBody(upTo: limit)
}

extension Request {
    /// The body, up to `limit` bytes; one whose `Content-Length` already says more is refused before a byte of it is
    /// read (Hummingbird's `HTTPError(.contentTooLarge)` either way), so that a client that announces a huge body
    /// learns at once, not after sending `limit` bytes or at the idle timeout.
    func collectBody(upTo limit: Int) async throws -> ByteBuffer {
        if let declared = headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw HTTPError(.contentTooLarge)
        }
        return try await body.collect(upTo: limit)
    }
}

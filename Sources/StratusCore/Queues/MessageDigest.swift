import Crypto
import Foundation

/// The MD5 digests SQS returns with every send and receive, and that SDKs verify
/// (`MD5OfMessageBody`, `MD5OfMessageAttributes`, `MD5OfMessageSystemAttributes`).
package enum MessageDigest {
    /// Lower-case hex SHA-256 of the body's UTF-8 bytes: a FIFO queue's content-based deduplication id.
    package static func sha256(_ body: String) -> String {
        hex(SHA256.hash(data: Array(body.utf8)))
    }

    /// Lower-case hex MD5 of the body's UTF-8 bytes.
    package static func body(_ body: String) -> String {
        hex(Insecure.MD5.hash(data: Array(body.utf8)))
    }

    /// SQS's digest of message attributes: by name in byte order, each as length-prefixed name, data type,
    /// a transport byte (1 string, 2 binary) and length-prefixed value. `nil` when there are none.
    package static func attributes(_ attributes: [String: MessageAttribute]) -> String? {
        guard !attributes.isEmpty else { return nil }
        var bytes: [UInt8] = []
        func append(_ part: some Collection<UInt8>) {
            let count = UInt32(truncatingIfNeeded: part.count)
            bytes += [UInt8(count >> 24), UInt8((count >> 16) & 0xFF), UInt8((count >> 8) & 0xFF), UInt8(count & 0xFF)]
            bytes += part
        }
        for (name, attribute) in attributes.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8) }) {
            append(Array(name.utf8))
            append(Array(attribute.dataType.utf8))
            if attribute.isBinary {
                bytes.append(2)
                append(Array(Data(base64Encoded: attribute.stringValue) ?? Data()))
            } else {
                bytes.append(1)
                append(Array(attribute.stringValue.utf8))
            }
        }
        return hex(Insecure.MD5.hash(data: bytes))
    }

    private static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension MessageAttribute {
    /// Whether the value is binary (`Binary` or `Binary.<label>`), kept as base64 in `stringValue`.
    package var isBinary: Bool {
        dataType == "Binary" || dataType.hasPrefix("Binary.")
    }
}

extension MessageDigest {
    /// A stable UUID-shaped id for `text` (the id of a consumer declared in a trigger file, which has none).
    package static func uuid(for text: String) -> String {
        let hex = Array(MessageDigest.body(text).utf8)
        let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32]
        return groups.map { String(decoding: hex[$0], as: UTF8.self) }.joined(separator: "-")
    }
}

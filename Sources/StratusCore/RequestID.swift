/// Lambda-style request ids: random (version 4) UUIDs in lower case, made without Foundation's `UUID`,
/// which reads `/dev/urandom` through a file on every call on Linux.
package enum RequestID {
    package static func make() -> String {
        var high = UInt64.random(in: .min ... .max)
        var low = UInt64.random(in: .min ... .max)
        high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let hex = Array((hex16(high) + hex16(low)).utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(36)
        for (index, byte) in hex.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex16(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}

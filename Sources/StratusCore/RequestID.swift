import Foundation
import Synchronization

/// Lambda-style request ids: random (version 4) UUIDs in lower case.
///
/// Made without Foundation's `UUID` (which reads `/dev/urandom` through a file on Linux) and without a
/// `getrandom` call per id: ids need to be unique and unguessable enough for a development host, not
/// cryptographic, so they come from `IDRandom`.
package enum RequestID {
    package static func make() -> String {
        let high = (IDRandom.next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (IDRandom.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            func put(_ value: UInt64, digits: Int) {
                for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
                    buffer[index] = IDRandom.hexDigits[Int((value >> UInt64(shift)) & 0xF)]
                    index += 1
                }
            }
            func dash() {
                buffer[index] = UInt8(ascii: "-")
                index += 1
            }
            put(high >> 32, digits: 8)
            dash()
            put(high >> 16, digits: 4)
            dash()
            put(high, digits: 4)
            dash()
            put(low >> 48, digits: 4)
            dash()
            put(low, digits: 12)
            return index
        }
    }
}

/// SplitMix64 over a shared counter seeded once from the system's generator: every call gives a different
/// value (the mix is a bijection of the counter), and a lock-free add is all it costs.
package enum IDRandom {
    private static let counter = Atomic<UInt64>(UInt64.random(in: .min ... .max))
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    package static func next() -> UInt64 {
        var z = counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An X-Ray trace root: `1-{8 hex digits of epoch seconds}-{24 hex digits}`.
    package static func traceRoot() -> String {
        let epoch = String(UInt32(clamping: Int(Date().timeIntervalSince1970)), radix: 16)
        return "1-\(epoch)-\(hex(digits: 16))\(hex(digits: 8))"
    }

    /// `next()` as `digits` lower-case hexadecimal digits (at most 16).
    package static func hex(digits: Int) -> String {
        let value = next()
        return String(unsafeUninitializedCapacity: digits) { buffer in
            for index in 0..<digits {
                buffer[index] = hexDigits[Int((value >> UInt64((digits - 1 - index) * 4)) & 0xF)]
            }
            return digits
        }
    }
}

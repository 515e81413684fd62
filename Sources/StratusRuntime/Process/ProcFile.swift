#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Reads small kernel files (`/proc`, cgroupfs) with `open`/`read` into one buffer.
///
/// Foundation's `String(contentsOfFile:)` leaks about 4 KB per call on an empty file on Linux (Swift 6.3),
/// and `/proc/PID/task/PID/children` is empty for most workers: sampling memory every 50 ms grew the host
/// by megabytes a minute under load. This also costs no Foundation round trip per sample.
enum ProcFile {
    /// The file's bytes (at most `limit`), or `nil` when it cannot be opened.
    static func read(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return bytes
    }

    /// The whitespace-separated non-negative integers of the file, in order.
    static func integers(_ path: String) -> [Int] {
        guard let bytes = read(path) else { return [] }
        var values: [Int] = []
        var current: Int?
        for byte in bytes {
            if byte >= 0x30 && byte <= 0x39 {
                let (times, o1) = (current ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int(byte - 0x30))
                current = o1 || o2 ? Int.max : sum
            } else if let value = current {
                values.append(value)
                current = nil
            }
        }
        if let current { values.append(current) }
        return values
    }

    /// The file as UTF-8 text.
    static func text(_ path: String) -> String? {
        read(path).map { String(decoding: $0, as: UTF8.self) }
    }
}

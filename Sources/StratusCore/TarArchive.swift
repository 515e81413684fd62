import Foundation

/// The tar archives `stratus deploy` uploads: written as POSIX ustar (with a PAX record for a path longer
/// than ustar holds), read from ustar, PAX and GNU tar, as `tar -c` makes them. Reading refuses whatever
/// could escape the function's directory or is not code: absolute paths, `..`, links pointing out of the
/// archive, hard links, devices and FIFOs.
package enum TarArchive {
    package struct Entry: Sendable, Equatable {
        package enum Kind: Sendable, Equatable {
            case file(Data, executable: Bool)
            case directory
            /// A symbolic link to a path inside the archive, relative to the link's directory.
            case symlink(String)
        }
        /// Relative, `/`-separated, normalized (no `.` or empty segments).
        package var path: String
        package var kind: Kind

        package init(path: String, kind: Kind) {
            self.path = path
            self.kind = kind
        }
    }

    package struct ArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Writing

    package static func write(_ entries: [Entry]) -> [UInt8] {
        var out: [UInt8] = []
        for entry in entries {
            var data = Data()
            var type: UInt8 = UInt8(ascii: "0")
            var mode = 0o644
            var link = ""
            switch entry.kind {
            case .file(let content, let executable):
                data = content
                mode = executable ? 0o755 : 0o644
            case .directory:
                type = UInt8(ascii: "5")
                mode = 0o755
            case .symlink(let target):
                type = UInt8(ascii: "2")
                mode = 0o777
                link = target
            }
            let path = entry.kind == .directory ? entry.path + "/" : entry.path
            let split = splitForUstar(path)
            if split == nil || link.utf8.count > 100 {
                var records = ""
                if split == nil { records += paxRecord("path", path) }
                if link.utf8.count > 100 { records += paxRecord("linkpath", link) }
                let body = Array(records.utf8)
                out += header(
                    name: "PaxHeader", prefix: "", size: body.count, mode: 0o644, type: UInt8(ascii: "x"), link: "")
                out += body
                out += [UInt8](repeating: 0, count: (512 - body.count % 512) % 512)
            }
            let (prefix, name) = split ?? ("", String(decoding: path.utf8.suffix(100), as: UTF8.self))
            out += header(
                name: name, prefix: prefix, size: data.count, mode: mode, type: type, link: String(link.prefix(100)))
            out += data
            out += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }

    /// `path` as ustar's (prefix, name), or `nil` when it does not fit.
    private static func splitForUstar(_ path: String) -> (String, String)? {
        let bytes = Array(path.utf8)
        if bytes.count <= 100 { return ("", path) }
        guard bytes.count <= 256 else { return nil }
        for index in stride(from: min(bytes.count - 1, 155), through: 1, by: -1)
        where bytes[index] == UInt8(ascii: "/") && bytes.count - index - 1 <= 100 {
            return (
                String(decoding: bytes[..<index], as: UTF8.self), String(decoding: bytes[(index + 1)...], as: UTF8.self)
            )
        }
        return nil
    }

    private static func paxRecord(_ key: String, _ value: String) -> String {
        let content = " \(key)=\(value)\n"
        var length = content.utf8.count + 1
        while String(length).utf8.count + content.utf8.count != length { length += 1 }
        return "\(length)\(content)"
    }

    private static func header(name: String, prefix: String, size: Int, mode: Int, type: UInt8, link: String) -> [UInt8]
    {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, length: Int) {
            for (index, byte) in text.utf8.prefix(length).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, length: Int) {
            put(
                String(String(value, radix: 8).suffix(length - 1)).leftPadded(to: length - 1), at: offset,
                length: length - 1)
        }
        put(name, at: 0, length: 100)
        octal(mode, at: 100, length: 8)
        octal(0, at: 108, length: 8)
        octal(0, at: 116, length: 8)
        octal(size, at: 124, length: 12)
        octal(0, at: 136, length: 12)
        block[156] = type
        put(link, at: 157, length: 100)
        put("ustar", at: 257, length: 6)
        put("00", at: 263, length: 2)
        put(prefix, at: 345, length: 155)
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        put(String(String(sum, radix: 8)).leftPadded(to: 6), at: 148, length: 6)
        block[154] = 0
        return block
    }

    // MARK: Reading

    /// The entries of `bytes`, checked; throws on a malformed archive or an entry that is refused.
    package static func read(_ bytes: some Collection<UInt8>, maxEntries: Int = 100_000) throws(ArchiveError) -> [Entry]
    {
        let bytes = Array(bytes)
        var entries: [Entry] = []
        var offset = 0
        var paxPath: String?
        var paxLink: String?
        var longName: String?
        var longLink: String?
        while offset + 512 <= bytes.count {
            let block = bytes[offset..<(offset + 512)]
            if block.allSatisfy({ $0 == 0 }) { return entries }
            guard checksumMatches(block) else {
                throw ArchiveError("not a tar archive (bad header checksum at byte \(offset))")
            }
            guard let size = octalValue(block, 124, 12), size >= 0 else {
                throw ArchiveError("bad size field at byte \(offset)")
            }
            let dataStart = offset + 512
            let (padded, overflow) = size.addingReportingOverflow((512 - size % 512) % 512)
            guard !overflow, size <= bytes.count - dataStart else {
                throw ArchiveError("truncated archive: an entry's data runs past the end")
            }
            let data = bytes[dataStart..<(dataStart + size)]
            offset = dataStart + padded
            let type = block[block.startIndex + 156]
            switch type {
            case UInt8(ascii: "x"):
                let records = parsePax(data)
                paxPath = records["path"]
                paxLink = records["linkpath"]
                continue
            case UInt8(ascii: "g"):
                continue
            case UInt8(ascii: "L"):
                longName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                continue
            case UInt8(ascii: "K"):
                longLink = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                continue
            default: break
            }
            let name = string(block, 0, 100)
            // Only POSIX ustar has a prefix there: GNU headers ("ustar  ") keep times in those bytes.
            let posix = block[(block.startIndex + 257)..<(block.startIndex + 263)].elementsEqual("ustar\0".utf8)
            let prefix = posix ? string(block, 345, 155) : ""
            let rawPath = paxPath ?? longName ?? (prefix.isEmpty ? name : prefix + "/" + name)
            let rawLink = paxLink ?? longLink ?? string(block, 157, 100)
            (paxPath, paxLink, longName, longLink) = (nil, nil, nil, nil)
            guard let path = try normalize(rawPath) else { continue }  // the archive's root directory itself
            let mode = octalValue(block, 100, 8) ?? 0o644
            let kind: Entry.Kind
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                kind = .file(Data(data), executable: mode & 0o111 != 0)
            case UInt8(ascii: "5"):
                kind = .directory
            case UInt8(ascii: "2"):
                try checkLink(rawLink, from: path)
                kind = .symlink(rawLink)
            case UInt8(ascii: "1"):
                throw ArchiveError("\(path): hard links are not accepted; archive the file itself")
            case UInt8(ascii: "3"), UInt8(ascii: "4"):
                throw ArchiveError("\(path): devices are not accepted in function code")
            case UInt8(ascii: "6"):
                throw ArchiveError("\(path): FIFOs are not accepted in function code")
            default:
                throw ArchiveError("\(path): entry type '\(Character(Unicode.Scalar(type)))' is not accepted")
            }
            entries.append(Entry(path: path, kind: kind))
            guard entries.count <= maxEntries else { throw ArchiveError("more than \(maxEntries) entries") }
        }
        guard offset >= bytes.count || bytes[offset...].allSatisfy({ $0 == 0 }) else {
            throw ArchiveError("truncated archive")
        }
        return entries
    }

    /// A relative path without `.` segments; `nil` for the root itself. Refuses absolute paths and `..`.
    static func normalize(_ raw: String) throws(ArchiveError) -> String? {
        guard !raw.hasPrefix("/") else { throw ArchiveError("\(raw.prefix(200)): absolute paths are not accepted") }
        guard !raw.utf8.contains(0) else { throw ArchiveError("a path contains a NUL byte") }
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            guard part != ".." else { throw ArchiveError("\(raw.prefix(200)): '..' is not accepted in paths") }
            parts.append(part)
        }
        guard !parts.isEmpty else { return nil }
        let path = parts.joined(separator: "/")
        guard path.utf8.count <= 4096 else { throw ArchiveError("a path is longer than 4096 bytes") }
        return path
    }

    /// A link must stay inside the archive: relative, and never climbing above its root.
    private static func checkLink(_ target: String, from path: String) throws(ArchiveError) {
        guard !target.isEmpty else { throw ArchiveError("\(path): a symbolic link without a target") }
        guard !target.utf8.contains(0) else {
            throw ArchiveError("\(path): a symbolic link target contains a NUL byte")
        }
        guard !target.hasPrefix("/") else {
            throw ArchiveError(
                "\(path): a symbolic link to an absolute path (\(target.prefix(200))) points out of the function")
        }
        var depth = path.split(separator: "/").count - 1
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            if part == ".." { depth -= 1 } else if part != "." { depth += 1 }
            guard depth >= 0 else {
                throw ArchiveError("\(path): a symbolic link to \(target.prefix(200)) points out of the function")
            }
        }
    }

    private static func checksumMatches(_ block: ArraySlice<UInt8>) -> Bool {
        guard let stored = octalValue(block, 148, 8) else { return false }
        var sum = 0
        for (index, byte) in block.enumerated() { sum += (148..<156).contains(index) ? 32 : Int(byte) }
        return sum == stored
    }

    private static func string(_ block: ArraySlice<UInt8>, _ offset: Int, _ length: Int) -> String {
        let start = block.startIndex + offset
        return String(decoding: block[start..<(start + length)].prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field (spaces and NULs around it allowed); `nil` when it is not octal or would overflow.
    private static func octalValue(_ block: ArraySlice<UInt8>, _ offset: Int, _ length: Int) -> Int? {
        let start = block.startIndex + offset
        let field = block[start..<(start + length)]
        if let first = field.first, first & 0x80 != 0 { return nil }  // base-256: sizes over 8 GB, refused
        var value = 0
        var seen = false
        for byte in field {
            if byte == 0 || byte == UInt8(ascii: " ") {
                if seen { break } else { continue }
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte) else { return nil }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 8)
            guard !overflow, shifted <= Int.max - 7 else { return nil }
            value = shifted + Int(byte - UInt8(ascii: "0"))
            seen = true
        }
        return seen ? value : 0
    }

    private static func parsePax(_ data: ArraySlice<UInt8>) -> [String: String] {
        var records: [String: String] = [:]
        var rest = Substring(String(decoding: data, as: UTF8.self))
        while let space = rest.firstIndex(of: " "), let length = Int(rest[..<space]), length > 0,
            length <= rest.utf8.count
        {
            let record = rest.utf8.prefix(length)
            let text = String(decoding: record, as: UTF8.self)
            rest = rest.dropFirst(text.count)
            guard let afterSpace = text.firstIndex(of: " "), let equals = text.firstIndex(of: "=") else { break }
            let key = String(text[text.index(after: afterSpace)..<equals])
            var value = String(text[text.index(after: equals)...])
            if value.hasSuffix("\n") { value.removeLast() }
            records[key] = value
        }
        return records
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}

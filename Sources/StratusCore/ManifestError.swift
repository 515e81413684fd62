/// A problem in a function manifest or trigger file, located precisely enough for a person to fix it.
package struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, relative to the project directory where possible.
    package var file: String
    /// 1-based line of the offending key or value; `nil` when the whole file is at fault.
    package var line: Int?
    /// The key path, e.g. `scaling.max`; empty for a file-level problem.
    package var key: String
    /// What was expected and, where useful, what was found.
    package var message: String

    /// Control characters in `key` and `message` (which quote the file) are escaped, so that an error is one
    /// line and a terminal shows it without obeying it.
    package init(file: String, line: Int?, key: String, message: String) {
        self.file = Self.escapingControlCharacters(file)
        self.line = line
        self.key = Self.escapingControlCharacters(key)
        self.message = Self.escapingControlCharacters(message)
    }

    /// `text` with newlines, tabs and other C0/C1 controls (and U+2028, U+2029) written as escapes.
    static func escapingControlCharacters(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case _ where isControl(scalar): out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    package var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(location): \(message)" : "\(location): \(key): \(message)"
    }
}

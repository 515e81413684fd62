/// A problem in a function manifest or trigger file, located precisely enough for a person to fix it.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, relative to the project directory where possible.
    public var file: String
    /// 1-based line of the offending key or value; `nil` when the whole file is at fault.
    public var line: Int?
    /// The key path, e.g. `scaling.max`; empty for a file-level problem.
    public var key: String
    /// What was expected and, where useful, what was found.
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(location): \(message)" : "\(location): \(key): \(message)"
    }
}

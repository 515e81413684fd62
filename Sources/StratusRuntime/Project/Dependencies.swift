import Crypto
import Foundation
import StratusCore

/// What a function needs besides its own directory: the packages of a Python function's `requirements.txt`,
/// installed once per distinct file (`pip install --target`, into the state directory) when the function is
/// loaded, reloaded or deployed — never on the invocation path — and its `layers:` directories. Both go on the
/// worker's module path after the function's own directory, as Lambda puts `/opt` after `/var/task`.
package struct Dependencies: Sendable {
    /// `<state>/deps`.
    package let root: String
    /// The interpreter whose pip installs the packages (the workers' own).
    let python: String
    /// Where progress goes (`serve` prints it).
    let progress: @Sendable (String) -> Void

    package init(root: String, python: String, progress: @escaping @Sendable (String) -> Void) {
        self.root = root
        self.python = python
        self.progress = progress
    }

    /// `function` with its module path set: the installed packages of its `requirements.txt` (installed now if
    /// this file was never installed with this interpreter) and its layers. Throws the error to report, naming
    /// `shownDirectory` (`functions/NAME`).
    package func resolve(_ function: DeployedFunction, shownDirectory: String) throws(ManifestError) -> DeployedFunction
    {
        var function = function
        var paths: [String] = []
        if function.config.runtime == .python,
            let packages = try installRequirements(of: function, shown: shownDirectory)
        {
            paths.append(packages)
        }
        paths += try Self.layerPaths(of: function, shown: shownDirectory)
        function.modulePaths = paths
        return function
    }

    /// The absolute directories of the function's layers, each with the subdirectory Lambda's layout puts
    /// modules in (`python/`, `nodejs/node_modules/`) when it has one.
    static func layerPaths(of function: DeployedFunction, shown: String) throws(ManifestError) -> [String] {
        var paths: [String] = []
        for (index, layer) in function.config.layers.enumerated() {
            let path = URL(fileURLWithPath: function.directory).appendingPathComponent(layer).standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ManifestError(
                    file: shown + "/function.yaml", line: nil, key: "layers[\(index)]",
                    message: "'\(layer)' is not a directory (layers are relative to the function's directory)")
            }
            paths.append(path)
            let nested = function.config.runtime == .node ? ["nodejs/node_modules", "node_modules"] : ["python"]
            for sub in nested where FileManager.default.fileExists(atPath: path + "/" + sub) {
                paths.append(path + "/" + sub)
            }
        }
        return paths
    }

    private func installRequirements(of function: DeployedFunction, shown: String) throws(ManifestError) -> String? {
        let file = function.directory + "/requirements.txt"
        guard let requirements = FileManager.default.contents(atPath: file) else { return nil }
        let meaningful = String(decoding: requirements, as: UTF8.self).split(separator: "\n").contains {
            let line = $0.trimmingCharacters(in: .whitespaces)
            return !line.isEmpty && !line.hasPrefix("#")
        }
        guard meaningful else { return nil }
        // Relative paths in the file resolve against the function's directory: it is part of what is installed.
        var hasher = SHA256()
        hasher.update(data: requirements)
        hasher.update(data: Data("\0\(python)\0\(function.directory)".utf8))
        let key = hasher.finalize().prefix(8).map { String(format: "%02x", $0) }.joined()
        let target = "\(root)/python/\(key)"
        if FileManager.default.fileExists(atPath: target) { return target }

        let shownFile = shown + "/requirements.txt"
        progress("  installing  \(shownFile) for \(function.name) (pip install --target, once per distinct file)")
        let started = ContinuousClock.now
        let staging = "\(target).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let (status, output) = Self.run(
            python,
            ["-m", "pip", "install", "--target", staging, "-r", file, "--disable-pip-version-check", "--no-input"],
            directory: function.directory)
        guard status == 0 else {
            try? FileManager.default.removeItem(atPath: staging)
            let tail = output.split(separator: "\n").filter { !$0.isEmpty }.suffix(8).joined(separator: "\n    ")
            throw ManifestError(
                file: shownFile, line: nil, key: "", message: "pip install failed (exit \(status)):\n    \(tail)")
        }
        if rename(staging, target) != 0 {
            try? FileManager.default.removeItem(atPath: staging)  // installed meanwhile by another load
        }
        let seconds = (ContinuousClock.now - started).seconds
        progress("  installed   \(shownFile) for \(function.name) in \(String(format: "%.1f", seconds)) s")
        return target
    }

    /// Runs a command to its end (pip: minutes at most), with its output.
    private static func run(_ executable: String, _ arguments: [String], directory: String) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["PIP_DEFAULT_TIMEOUT"] = environment["PIP_DEFAULT_TIMEOUT"] ?? "30"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return (-1, "cannot run \(executable): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

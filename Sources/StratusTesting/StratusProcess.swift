import Foundation
import Synchronization

/// The built `stratus` binary, run as a user runs it.
package enum StratusBinary {
    /// `STRATUS_BIN`, else `.build/debug/stratus` at the package root.
    package static var path: String {
        if let path = ProcessInfo.processInfo.environment["STRATUS_BIN"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/stratus").path
    }

    /// Runs a client command to completion.
    package static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        try runCommand(path, arguments, environment: environment)
    }

    /// Runs any program to completion, with the test's environment plus `environment`.
    package static func runCommand(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }
}

/// A `stratus serve` child process on ports chosen by the OS, read back from its banner.
package final class ServeProcess: Sendable {
    package let process: Process
    private let output: Box
    package let controlURL: String
    package let gatewayURL: String

    /// Starts `stratus serve DIR` and waits until it prints `Ready.`.
    package init(project: String, extraArguments: [String] = [], environment: [String: String] = [:]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: StratusBinary.path)
        process.arguments = ["serve", project, "--http", "127.0.0.1:0", "--control", "127.0.0.1:0"] + extraArguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        self.process = process
        let output = Box()
        self.output = output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { output.value.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        }
        try process.run()
        let ready = await waitUntil(timeout: .seconds(30)) {
            output.value.withLock { $0.contains("Ready.") } || !process.isRunning
        }
        let text = output.value.withLock { $0 }
        guard ready, process.isRunning else {
            process.terminate()
            throw ServeError(message: "stratus serve did not become ready:\n\(text)")
        }
        func url(_ label: String) -> String {
            let line = text.split(separator: "\n").first { $0.contains(" \(label) ") } ?? ""
            return line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init) ?? ""
        }
        controlURL = url("control")
        gatewayURL = url("gateway")
    }

    /// Everything the host printed so far.
    package var log: String { output.value.withLock { $0 } }

    /// Sends SIGTERM and waits for the exit status (SIGKILL after 20 s: a host must never outlive its test).
    package func stop() async -> Int32 {
        process.terminate()
        if !(await waitUntil(timeout: .seconds(20)) { !self.process.isRunning }) {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// A test that ends early (a failed `#require`, a thrown error) must not leave its host running.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Runs a client command against this host.
    package func cli(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try StratusBinary.run(arguments, environment: ["STRATUS_ENDPOINT": controlURL])
    }

    /// `stratus queues --json`, as `[queue: [visible, inFlight, delayed]]`.
    package func queueCounts() throws -> [String: [String: Int]] {
        try queues().mapValues { $0["counts"] as? [String: Int] ?? [:] }
    }

    /// `stratus queues --json`, each queue's summary by name.
    package func queues() throws -> [String: [String: Any]] {
        let object =
            try JSONSerialization.jsonObject(with: Data(try cli(["queues", "--json"]).stdout.utf8)) as? [String: Any]
        var byName: [String: [String: Any]] = [:]
        for queue in object?["queues"] as? [[String: Any]] ?? [] { byName[queue["name"] as? String ?? ""] = queue }
        return byName
    }

    /// `stratus status --json`: the line of `function`.
    package func functionStatus(_ function: String) throws -> [String: Any] {
        let object =
            try JSONSerialization.jsonObject(with: Data(try cli(["status", "--json"]).stdout.utf8)) as? [String: Any]
        return (object?["functions"] as? [[String: Any]])?.first { $0["name"] as? String == function } ?? [:]
    }
}

private final class Box: Sendable {
    let value = Mutex("")
}

package struct ServeError: Error, CustomStringConvertible {
    package var message: String

    package init(message: String) {
        self.message = message
    }

    package var description: String { message }
}

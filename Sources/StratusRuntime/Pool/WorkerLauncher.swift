import Foundation
import Logging
import NIOCore
import StratusCore

/// Knows how each runtime is started: the command, and the environment Lambda sets.
package struct WorkerLauncher: Sendable {
    package let group: any EventLoopGroup
    package let logger: Logger
    /// Host variables passed through to functions (Lambda passes none; a local host needs a usable PATH).
    private let inherited: [String: String]

    package init(group: any EventLoopGroup, logger: Logger) {
        self.group = group
        self.logger = logger
        let host = ProcessInfo.processInfo.environment
        inherited = host.filter { ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER"].contains($0.key) }
    }

    package func launch(_ function: DeployedFunction) async throws -> Worker {
        try await Worker.start(
            function: function, command: command(for: function), environment: environment(for: function),
            group: group, logger: logger)
    }

    package func command(for function: DeployedFunction) -> [String] {
        switch function.config.runtime {
        case .python: [Self.pythonExecutable, Self.bootstrap("python/bootstrap.py")]
        case .node: ["node", Self.bootstrap("node/bootstrap.js")]
        case .provided: [function.directory + "/bootstrap"]
        }
    }

    package func environment(for function: DeployedFunction) -> [String: String] {
        let config = function.config
        let day = Date().formatted(.iso8601.year().month().day().dateSeparator(.omitted))
        var environment = inherited
        environment.merge([
            "_HANDLER": config.handler,
            "LAMBDA_TASK_ROOT": function.directory,
            "LAMBDA_RUNTIME_DIR": Self.bootstrapsDirectory,
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": function.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(config.memoryMB),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": String(Int(config.timeout.seconds.rounded(.up))),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(config.name)",
            "AWS_LAMBDA_LOG_STREAM_NAME": "\(day)/[\(function.version)]\(function.revision)",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": AWS.region,
            "AWS_DEFAULT_REGION": AWS.region,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
            "TZ": ":UTC",
        ]) { _, new in new }
        if config.runtime == .python { environment["PYTHONDONTWRITEBYTECODE"] = "1" }
        environment.merge(config.environment) { _, new in new }
        return environment
    }

    /// The interpreter `python3` resolves to, found once: version-manager shims (pyenv, asdf) cost a
    /// shell script per start, so workers exec the real binary. `STRATUS_PYTHON` overrides it.
    package static let pythonExecutable: String = {
        if let path = ProcessInfo.processInfo.environment["STRATUS_PYTHON"] { return path }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sys; print(sys.executable)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "python3" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !path.isEmpty ? path : "python3"
    }()

    /// Where the python and node bootstraps shipped with Stratus live.
    package static let bootstrapsDirectory: String = {
        Bundle.module.resourceURL!.appendingPathComponent("Bootstraps").path
    }()

    private static func bootstrap(_ path: String) -> String { bootstrapsDirectory + "/" + path }
}

import Foundation
import Logging
import NIOCore
import StratusCore
import Synchronization

/// Knows how each runtime is started: the command, and the environment Lambda sets.
package struct WorkerLauncher: Sendable {
    package let group: any EventLoopGroup
    package let logger: Logger
    /// Host variables passed through to functions (Lambda passes none; a local host needs a usable PATH).
    private let inherited: [String: String]
    private let zygote = ZygoteSlot()

    package init(group: any EventLoopGroup, logger: Logger) {
        self.group = group
        self.logger = logger
        let host = ProcessInfo.processInfo.environment
        inherited = host.filter { ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER"].contains($0.key) }
    }

    /// Starts a worker of `function`; `exited` is called when its process has exited.
    package func launch(_ function: DeployedFunction, exited: @escaping @Sendable () -> Void = {}) async throws
        -> Worker
    {
        try await Worker.start(
            function: function, environment: environment(for: function), group: group, logger: logger
        ) { environment, onExit in
            try await spawn(function, environment: environment) { status in
                onExit(status)
                exited()
            }
        }
    }

    /// A Python worker is forked by the zygote when it can be; every other worker, and a Python one whose
    /// interpreter settings differ from the zygote's, is started by exec.
    private func spawn(
        _ function: DeployedFunction, environment: [String: String], onExit: @escaping @Sendable (Int32) -> Void
    ) async throws -> ChildProcess {
        if Self.forkable(function), let zygote = zygote.running(start: startZygote) {
            do {
                return try await zygote.fork(environment: environment, directory: function.directory, onExit: onExit)
            } catch {
                logger.debug("python worker started by exec: \(error)", metadata: ["function": "\(function.name)"])
            }
        }
        let command = command(for: function)
        return try ChildProcess.spawn(
            executable: command[0], arguments: Array(command.dropFirst()), environment: environment,
            directory: function.directory, joinCgroupBeforeExec: function.config.runtime == .provided,
            onExit: onExit)
    }

    /// Whether a fork of the zygote is what an exec would start: a Python function that sets none of the
    /// variables the interpreter reads only when it starts (`PYTHON*`, the locale).
    package static func forkable(_ function: DeployedFunction) -> Bool {
        function.config.runtime == .python
            && !function.config.environment.keys.contains {
                $0.hasPrefix("PYTHON") || $0 == "LANG" || $0.hasPrefix("LC_")
            }
    }

    /// Starts the Python zygote now when `functions` include one it can serve, so the first cold start finds it
    /// ready.
    package func prepare(for functions: [DeployedFunction]) {
        if functions.contains(where: Self.forkable) { _ = zygote.running(start: startZygote) }
    }

    /// Stops the Python zygote, if it runs (after the workers).
    package func stop() async {
        await zygote.stop()
    }

    private func startZygote() throws -> PythonZygote {
        var environment = inherited
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        environment["TZ"] = ":UTC"
        environment["LAMBDA_RUNTIME_DIR"] = Self.bootstrapsDirectory
        return try PythonZygote.start(
            python: Self.pythonExecutable, bootstrap: Self.bootstrap("python/bootstrap.py"),
            environment: environment, cgroups: WorkerCgroups.available, logger: logger)
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

/// The Python zygote of a launcher: started on first need, started again after it exited.
private final class ZygoteSlot: Sendable {
    private let state = Mutex<(zygote: PythonZygote?, failed: Bool)>((nil, false))

    /// The running zygote, started with `start` when there is none; `nil` when it cannot start.
    func running(start: () throws -> PythonZygote) -> PythonZygote? {
        state.withLock { state in
            if let zygote = state.zygote, zygote.isRunning { return zygote }
            guard !state.failed else { return nil }
            do {
                state.zygote = try start()
            } catch {
                state.failed = true  // the interpreter cannot start; exec reports why, per worker
                state.zygote = nil
            }
            return state.zygote
        }
    }

    func stop() async {
        guard
            let zygote = state.withLock({ state -> PythonZygote? in
                state.failed = true
                defer { state.zygote = nil }
                return state.zygote
            })
        else { return }
        zygote.stop()
        await zygote.waitForExit()
    }
}

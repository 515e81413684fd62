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
    /// Where the functions' AWS SDKs are pointed: this host's control plane (`AWS_ENDPOINT_URL_SQS`, …).
    private let sdk = SDKVariables()

    package init(group: any EventLoopGroup, logger: Logger) {
        self.group = group
        self.logger = logger
        let host = ProcessInfo.processInfo.environment
        inherited = host.filter { ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER"].contains($0.key) }
    }

    /// Points the AWS SDKs in functions at `endpoint` (the control plane's URL) for the services it speaks, SQS,
    /// SNS and Lambda (`AWS_ENDPOINT_URL_SQS`, …; other services still go to AWS): a function's own
    /// `boto3.client("sqs")` then talks to this host, as under LocalStack and moto. With a control-plane token,
    /// the SDKs sign with it as their access key. A function's `environment:` may set other values.
    package func pointSDKs(at endpoint: String, token: String?) {
        var variables = [
            "AWS_ENDPOINT_URL_SQS": endpoint, "AWS_ENDPOINT_URL_SNS": endpoint, "AWS_ENDPOINT_URL_LAMBDA": endpoint,
        ]
        if let token { variables["AWS_ACCESS_KEY_ID"] = token }
        sdk.set(variables)
    }

    /// Holds every worker start until `pointSDKs` is called: for a control plane whose port is chosen when it
    /// binds, so that no worker (a warm floor, a consumer's) starts without the variables.
    package func holdStartsUntilSDKsArePointed() { sdk.hold() }

    /// Lets held starts go without the variables (the host stops before its control plane listened).
    package func releaseHeldStarts() { sdk.release() }

    /// Starts a worker of `function`; `exited` is called when its process has exited.
    package func launch(_ function: DeployedFunction, exited: @escaping @Sendable () -> Void = {}) async throws
        -> Worker
    {
        await sdk.ready()
        return try await Worker.start(
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
        if Self.forkable(function), let zygote = await zygote.running(start: { try self.startZygote() }) {
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
    /// variables read only when a process or the interpreter starts (`PYTHON*`, the locale, the dynamic
    /// loader's and the C library's settings, `HOME` for the user's site-packages).
    package static func forkable(_ function: DeployedFunction) -> Bool {
        function.config.runtime == .python
            && !function.config.environment.keys.contains { key in
                key == "LANG" || key == "HOME" || key == "GLIBC_TUNABLES"
                    || ["PYTHON", "LC_", "LD_", "MALLOC_"].contains { key.hasPrefix($0) }
            }
    }

    /// Starts the Python zygote now when `functions` include one it can serve, so the first cold start finds it
    /// ready.
    package func prepare(for functions: [DeployedFunction]) async {
        if functions.contains(where: Self.forkable) { _ = await zygote.running(start: { try self.startZygote() }) }
    }

    /// Stops the Python zygote, if it runs (after the workers).
    package func stop() async {
        releaseHeldStarts()
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
        // Lambda's stream of one execution environment: `2024/01/31/[$LATEST]` and 32 hex digits.
        let day = Date().formatted(.iso8601.year().month().day().dateSeparator(.dash)).replacing("-", with: "/")
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
            "AWS_LAMBDA_LOG_STREAM_NAME": "\(day)/[\(function.version)]\(IDRandom.hex(digits: 32))",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": AWS.region,
            "AWS_DEFAULT_REGION": AWS.region,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
            "TZ": ":UTC",
        ]) { _, new in new }
        environment.merge(sdk.variables) { _, new in new }
        if config.runtime == .python { environment["PYTHONDONTWRITEBYTECODE"] = "1" }
        environment.merge(config.environment) { _, new in new }
        if !function.modulePaths.isEmpty {
            let paths = function.modulePaths.joined(separator: ":")
            switch config.runtime {
            // The bootstrap puts them after the task root (a forked worker's interpreter is already running).
            case .python: environment["STRATUS_MODULE_PATH"] = paths
            case .node: environment["NODE_PATH"] = environment["NODE_PATH"].map { paths + ":" + $0 } ?? paths
            case .provided: environment["STRATUS_MODULE_PATH"] = paths
            }
        }
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

/// The variables that point functions' AWS SDKs at the host, set once its control plane listens.
private final class SDKVariables: Sendable {
    private struct State {
        var variables: [String: String] = [:]
        /// While starts are held: what lets them go.
        var gate: OneShot<Void>?
    }
    private let state = Mutex(State())

    var variables: [String: String] { state.withLock { $0.variables } }

    func hold() { state.withLock { $0.gate = $0.gate ?? OneShot() } }

    /// Sets the variables and lets the held starts go.
    func set(_ variables: [String: String]) {
        state.withLock { $0.variables = variables }
        release()
    }

    /// Lets the held starts go (with the variables set, or without them when the host stops first).
    func release() {
        let gate = state.withLock { state in
            defer { state.gate = nil }
            return state.gate
        }
        gate?.give(())
    }

    /// Returns at once unless starts are held; then when they are released.
    func ready() async {
        guard let gate = state.withLock({ $0.gate }) else { return }
        await gate.value()
    }
}

/// The Python zygote of a launcher: started on first need (once at a time, waited for by every cold start
/// meanwhile), started again after it exited, not retried for 30 s after it failed to start.
private final class ZygoteSlot: Sendable {
    private struct State {
        var zygote: PythonZygote?
        var starting: Task<PythonZygote?, Never>?
        var retryAt: ContinuousClock.Instant?
        var stopped = false
    }

    private enum Next {
        case ready(PythonZygote?)
        case wait(Task<PythonZygote?, Never>)
    }

    private let state = Mutex(State())

    /// The running zygote, started with `start` when there is none; `nil` when it cannot start.
    func running(start: @escaping @Sendable () throws -> PythonZygote) async -> PythonZygote? {
        let next = state.withLock { state -> Next in
            if let zygote = state.zygote, zygote.isRunning { return .ready(zygote) }
            if let starting = state.starting { return .wait(starting) }
            guard !state.stopped, state.retryAt.map({ ContinuousClock.now >= $0 }) ?? true else { return .ready(nil) }
            // Started off the lock: resolving the interpreter and spawning it take a while.
            let task = Task.detached { [self] () -> PythonZygote? in
                let zygote = try? start()
                let stopped = self.state.withLock { state in
                    state.starting = nil
                    state.zygote = zygote
                    if zygote == nil { state.retryAt = .now + .seconds(30) }
                    return state.stopped
                }
                guard !stopped else {
                    zygote?.stop()
                    return nil
                }
                return zygote
            }
            state.starting = task
            return .wait(task)
        }
        switch next {
        case .ready(let zygote): return zygote
        case .wait(let task): return await task.value
        }
    }

    func stop() async {
        let zygote = state.withLock { state -> PythonZygote? in
            state.stopped = true
            defer { state.zygote = nil }
            return state.zygote
        }
        guard let zygote else { return }
        zygote.stop()
        await zygote.waitForExit()
    }
}

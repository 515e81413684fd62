import Foundation
import StratusRuntime
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A process started with `posix_spawn`, as a daemon manager or a shell starts it, whose exit status and
/// resource usage (`wait4`) the test reads itself.
package final class SpawnedProcess: Sendable {
    /// What a finished process left.
    package struct Exit: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
        /// User plus system CPU time of the process.
        package var cpu: Duration
        /// Wall time from spawn to exit.
        package var wall: Duration
    }

    package let pid: pid_t
    private let stdoutPath: String
    private let stderrPath: String
    private let started = ContinuousClock.now
    private let exit = Mutex<(value: Exit?, waiters: [CheckedContinuation<Exit, Never>])>((nil, []))

    /// Starts `executable` with `arguments`; stdin is `/dev/null`, stdout and stderr go to files.
    /// With `newSession`, the child calls `setsid` first (no controlling terminal, its own session), as
    /// systemd, `nohup … &` in a script or a CI runner leave a daemon.
    package init(
        _ executable: String, _ arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        newSession: Bool = false
    ) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stratus-spawn-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        stdoutPath = directory + "/stdout"
        stderrPath = directory + "/stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 2.26+), which the Glibc module does not export.
        if newSession { posix_spawnattr_setflags(&attributes, 0x80) }
        var pid: pid_t = 0
        let result = withSpawnArguments(
            executable: executable, arguments: arguments, environment: environment
        ) { argv, envp in
            posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        }
        guard result == 0 else {
            throw ServeError(message: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
        let reaper = Thread { [self] in reap() }
        reaper.stackSize = 256 * 1024
        reaper.start()
    }

    private func reap() {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) == -1 && errno == EINTR {}
        let wall = ContinuousClock.now - started
        func duration(_ time: timeval) -> Duration { .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec)) }
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let value = Exit(
            status: code, stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "",
            cpu: duration(usage.ru_utime) + duration(usage.ru_stime), wall: wall)
        let waiters = exit.withLock { state in
            state.value = value
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume(returning: value) }
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: stdoutPath).deletingLastPathComponent().path)
    }

    /// What the process printed so far to stdout.
    package var output: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

    package var isRunning: Bool { exit.withLock { $0.value == nil } }

    /// Waits for the process to exit.
    package func wait() async -> Exit {
        await withCheckedContinuation { continuation in
            let value = exit.withLock { state -> Exit? in
                if state.value == nil { state.waiters.append(continuation) }
                return state.value
            }
            if let value { continuation.resume(returning: value) }
        }
    }

    /// Sends `signal`.
    package func signal(_ signal: Int32) {
        _ = kill(pid, signal)
    }
}

/// `stratus serve` started as a daemon is: its own session (`setsid`), stdin from `/dev/null`, output to a
/// file, not a pipe.
package final class DaemonHost: Sendable {
    package let process: SpawnedProcess
    package let controlURL: String
    package let gatewayURL: String

    package init(project: String, extraArguments: [String] = [], environment: [String: String] = [:]) async throws {
        let env = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process = try SpawnedProcess(
            StratusBinary.path,
            ["serve", project, "--http", "127.0.0.1:0", "--control", "127.0.0.1:0"] + extraArguments,
            environment: env, newSession: true)
        let process = self.process
        let ready = await waitUntil(timeout: .seconds(30)) { process.output.contains("Ready.") || !process.isRunning }
        guard ready, process.isRunning else {
            process.signal(SIGKILL)
            throw ServeError(message: "stratus serve did not become ready:\n\(process.output)")
        }
        let text = process.output
        func url(_ label: String) -> String {
            let line = text.split(separator: "\n").first { $0.contains(" \(label) ") } ?? ""
            return line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init) ?? ""
        }
        controlURL = url("control")
        gatewayURL = url("gateway")
    }

    /// Runs a client command against this host, measuring its CPU time.
    package func cli(_ arguments: [String]) async throws -> SpawnedProcess.Exit {
        var environment = ProcessInfo.processInfo.environment
        environment["STRATUS_ENDPOINT"] = controlURL
        return try await SpawnedProcess(StratusBinary.path, arguments, environment: environment).wait()
    }

    /// SIGTERM, then the exit status.
    package func stop() async -> Int32 {
        process.signal(SIGTERM)
        return await process.wait().status
    }
}

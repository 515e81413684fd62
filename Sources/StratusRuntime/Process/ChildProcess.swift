import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process in its own process group (and, where the host may create them, its own cgroup v2), with
/// stdout and stderr merged into one pipe.
///
/// The group lets a timeout or crash take down everything the function started, so no orphan survives; the
/// cgroup also catches descendants that left the group with `setsid`.
package final class ChildProcess: Sendable {
    /// A failure to start the process.
    package struct SpawnError: Error, CustomStringConvertible {
        package var executable: String
        package var errno: Int32
        package var description: String { "cannot start \(executable): \(String(cString: strerror(errno)))" }
    }

    package let pid: pid_t
    /// Read end of the merged stdout/stderr pipe, non-blocking.
    package let outputDescriptor: Int32
    /// The process's own cgroup, when it has one.
    package let cgroup: String?
    private let onExit: @Sendable (Int32) -> Void
    /// Whether the host reaps it itself; otherwise its exit is reported by whoever started it.
    private let reapedHere: Bool
    private let exitStatus = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    /// A process started by someone else (a `PythonZygote`), who reports its exit through `exited(status:)`.
    package convenience init(
        pid: pid_t, outputDescriptor: Int32, cgroup: String?, onExit: @escaping @Sendable (Int32) -> Void
    ) {
        self.init(pid: pid, outputDescriptor: outputDescriptor, cgroup: cgroup, reapedHere: false, onExit: onExit)
    }

    private init(
        pid: pid_t, outputDescriptor: Int32, cgroup: String?, reapedHere: Bool,
        onExit: @escaping @Sendable (Int32) -> Void
    ) {
        self.pid = pid
        self.outputDescriptor = outputDescriptor
        self.cgroup = cgroup
        self.reapedHere = reapedHere
        self.onExit = onExit
    }

    /// Starts `executable` with exactly `environment`, in `directory`, as the leader of a new process group.
    /// `passing` becomes the child's descriptor 3; no other descriptor of the host's reaches it.
    package static func spawn(
        executable: String, arguments: [String], environment: [String: String], directory: String,
        cgroups: WorkerCgroups? = WorkerCgroups.available, joinCgroupBeforeExec: Bool = false, passing: Int32? = nil,
        onExit: @escaping @Sendable (Int32) -> Void = { _ in }
    ) throws(SpawnError) -> ChildProcess {
        // A program that may fork at once (a custom runtime's `bootstrap`) joins its cgroup itself, through a
        // shell that then execs it, so nothing it starts is outside. An interpreter is moved right after the
        // spawn instead, saving the shell: it runs no code of the function's before that.
        var (executable, arguments) = (executable, arguments)
        var preparedCgroup: String?
        if joinCgroupBeforeExec, let cgroup = cgroups?.create() {
            preparedCgroup = cgroup
            arguments = ["-c", #"echo $$ > "$0/cgroup.procs" 2>/dev/null; exec "$@""#, cgroup, executable] + arguments
            executable = "/bin/sh"
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SpawnError(executable: executable, errno: errno) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        _ = Self.addChdir(&actions, directory)
        if let passing { posix_spawn_file_actions_adddup2(&actions, passing, 3) }
        // Nothing else of the host's may leak into the child: an inherited socket would keep another
        // worker's Runtime API connection open after the host dies, and that worker would never exit.
        _ = Self.addCloseFrom(&actions, passing == nil ? 3 : 4)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGCHLD] { sigaddset(&defaultSignals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        let result = withSpawnArguments(
            executable: executable, arguments: arguments, environment: environment
        ) { argv, envp in
            posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        }
        close(writeEnd)
        guard result == 0 else {
            if let preparedCgroup { rmdir(preparedCgroup) }
            close(readEnd)
            throw SpawnError(executable: executable, errno: result)
        }
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        // posix_spawn returns once the child has exec'd, before the runtime has run any function code.
        let process = ChildProcess(
            pid: pid, outputDescriptor: readEnd, cgroup: preparedCgroup ?? cgroups?.adopt(pid), reapedHere: true,
            onExit: onExit)
        let reaper = Thread { [pid] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            process.exited(status: status)
        }
        reaper.name = "stratus-reaper-\(pid)"
        reaper.stackSize = 64 * 1024
        reaper.start()
        return process
    }

    /// glibc has `posix_spawn_file_actions_addchdir_np` since 2.29, but its header hides it from Swift.
    nonisolated(unsafe) private static let addChdirSymbol: UnsafeMutableRawPointer? = dlsym(
        UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")

    private static func addChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: String) -> Int32 {
        typealias AddChdir =
            @convention(c) (
                UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
            ) -> Int32
        guard let symbol = addChdirSymbol else { return ENOSYS }
        return unsafeBitCast(symbol, to: AddChdir.self)(actions, path)
    }

    nonisolated(unsafe) private static let addCloseFromSymbol: UnsafeMutableRawPointer? = dlsym(
        UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")

    /// glibc 2.34+: close every descriptor from `lowest` up in the child.
    private static func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32)
        -> Int32
    {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = addCloseFromSymbol else { return ENOSYS }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)(actions, lowest)
    }

    /// Records the exit (the raw `waitpid` status) of the reaped process; only the first report counts.
    package func exited(status: Int32) {
        // Whatever the leader left behind in its group, or anywhere in its cgroup, goes with it.
        _ = kill(-pid, SIGKILL)
        if let cgroup {
            WorkerCgroups.killAll(in: cgroup)
            WorkerCgroups.remove(cgroup)
        }
        let waiters = exitStatus.withLock { state -> [CheckedContinuation<Int32, Never>]? in
            guard state.status == nil else { return nil }
            state.status = status
            defer { state.waiters = [] }
            return state.waiters
        }
        guard let waiters else { return }
        waiters.forEach { $0.resume(returning: status) }
        onExit(status)
    }

    /// Kills the whole process group, and everything in the process's cgroup.
    package func killGroup() {
        _ = kill(-pid, SIGKILL)
        if let cgroup { WorkerCgroups.killAll(in: cgroup) }
        guard !reapedHere else { return }
        // SIGKILL cannot be ignored: if no exit report comes (its reporter is stuck), it is charged as killed
        // all the same, so that nothing waits for it forever.
        DispatchQueue.global().asyncAfter(deadline: .now() + 5) { [weak self] in self?.exited(status: SIGKILL) }
    }

    /// Whether the process has exited and been reaped.
    package var hasExited: Bool { exitStatus.withLock { $0.status != nil } }

    /// Waits for the process to exit; returns the raw `waitpid` status.
    package func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = exitStatus.withLock { state -> Int32? in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// Describes a raw exit status the way Lambda does: `exit status 1`, `signal: killed`.
    /// The status reported for a worker killed because the zygote that forked it died: SIGKILL, with a bit no
    /// wait status uses, so that its invocation can go to another worker (the function did not fail: Stratus's
    /// own process did).
    package static let orphanedStatus: Int32 = SIGKILL | 0x10000

    package static func describe(status: Int32) -> String {
        let signal = status & 0x7F
        if signal == 0 { return "exit status \((status >> 8) & 0xFF)" }
        return "signal \(signal)"
    }

    /// Resident memory of the process and its direct children, in MB, from `/proc`.
    package func residentMemoryMB() -> Int {
        var pages = Self.residentPages(pid)
        for child in ProcFile.integers("/proc/\(pid)/task/\(pid)/children") where child <= Int(Int32.max) {
            pages += Self.residentPages(pid_t(child))
        }
        return pages * Self.pageSize / (1024 * 1024)
    }

    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// The second field of `/proc/PID/statm`: resident pages.
    private static func residentPages(_ pid: pid_t) -> Int {
        let fields = ProcFile.integers("/proc/\(pid)/statm")
        return fields.count > 1 ? min(fields[1], Int.max / 65_536) : 0
    }
}

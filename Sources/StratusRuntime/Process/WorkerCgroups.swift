import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One cgroup v2 per worker, under `<the host's cgroup>/stratus-<host pid>/`, so that killing a worker
/// takes down every process it started, including one that called `setsid` to leave its process group.
///
/// Used where the host may create cgroups (root, or a delegated subtree such as a systemd user service
/// with `Delegate=yes`); elsewhere `available` is `nil` and workers are contained by their process group
/// only. A host killed with SIGKILL leaves its cgroup behind; the next host to start kills what is left in it
/// and removes it.
package final class WorkerCgroups: Sendable {
    /// The directory holding this host's worker cgroups.
    package let directory: String
    private let created = Atomic<Int>(0)
    /// Workers that could not be placed in a cgroup (they run in their process group only).
    package let failures = Atomic<Int>(0)

    private init(directory: String) {
        self.directory = directory
    }

    /// The host's worker cgroups, created now; `nil` where cgroup v2 is missing or not writable.
    package static let available: WorkerCgroups? = {
        guard let base = ownCgroupDirectory() else { return nil }
        removeStale(in: base)
        let directory = base + "/stratus-\(getpid())"
        guard mkdir(directory, 0o755) == 0 || errno == EEXIST else { return nil }
        // Prove that a process can be moved in: a cgroup we may create but not use is no help.
        let probe = directory + "/probe"
        defer { rmdir(probe) }
        guard mkdir(probe, 0o755) == 0, FileManager.default.isWritableFile(atPath: probe + "/cgroup.procs") else {
            rmdir(directory)
            return nil
        }
        return WorkerCgroups(directory: directory)
    }()

    /// Moves `pid` into a cgroup of its own; returns its directory, or `nil` when that failed.
    package func adopt(_ pid: pid_t) -> String? {
        let path = directory + "/w-p\(pid)"
        guard mkdir(path, 0o755) == 0 || errno == EEXIST, Self.write("\(pid)\n", to: path + "/cgroup.procs") else {
            rmdir(path)
            failures.wrappingAdd(1, ordering: .relaxed)
            return nil
        }
        return path
    }

    /// A new, empty cgroup for a process to join itself before it runs anything (see `ChildProcess`).
    package func create() -> String? {
        let path = directory + "/w-n\(created.wrappingAdd(1, ordering: .relaxed).oldValue)"
        guard mkdir(path, 0o755) == 0 else {
            failures.wrappingAdd(1, ordering: .relaxed)
            return nil
        }
        return path
    }

    /// Kills every process in the cgroup at `path`.
    package static func killAll(in path: String) {
        if write("1\n", to: path + "/cgroup.kill") { return }
        // Kernels before 5.14 have no cgroup.kill: kill what is listed until nothing is.
        for _ in 0..<10 {
            let pids = processes(in: path)
            if pids.isEmpty { return }
            for pid in pids { kill(pid, SIGKILL) }
        }
    }

    /// Removes the cgroup at `path` once its processes are gone (waits up to ~1 s for them to be reaped).
    package static func remove(_ path: String) {
        for _ in 0..<100 {
            if rmdir(path) == 0 || errno == ENOENT { return }
            killAll(in: path)
            usleep(10_000)
        }
    }

    /// Removes this host's directory once its workers' cgroups are gone (each goes with its worker), at
    /// shutdown. Left behind while one remains: the next host to start removes it.
    package func removeIfEmpty() {
        rmdir(directory)
    }

    // MARK: Internals

    /// `<cgroup2 mount><this process's cgroup>`, from /proc/self/mountinfo and /proc/self/cgroup.
    private static func ownCgroupDirectory() -> String? {
        guard let mounts = ProcFile.text("/proc/self/mountinfo"), let groups = ProcFile.text("/proc/self/cgroup") else {
            return nil
        }
        // mountinfo: "id parent major:minor root mountpoint options ... - fstype source superoptions"
        let mount = mounts.split(separator: "\n").lazy.compactMap { line -> String? in
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { return nil }
            let fields = halves[0].split(separator: " ")
            return fields.count > 4 ? String(fields[4]) : nil
        }.first
        let own = groups.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
        guard let mount, let own else { return nil }
        return own == "/" ? mount : mount + own
    }

    /// Kills and removes the worker cgroups of hosts that are no longer running.
    private static func removeStale(in base: String) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        for entry in entries where entry.hasPrefix("stratus-") {
            guard let pid = pid_t(entry.dropFirst("stratus-".count)), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }
            let directory = base + "/" + entry
            for child in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            where child.hasPrefix("w") || child == "probe" {
                killAll(in: directory + "/" + child)
                remove(directory + "/" + child)
            }
            rmdir(directory)
        }
    }

    private static func processes(in path: String) -> [pid_t] {
        ProcFile.integers(path + "/cgroup.procs").compactMap { pid_t(exactly: $0) }
    }

    private static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } >= 0
    }
}

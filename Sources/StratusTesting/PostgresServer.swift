import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL cluster for tests: `initdb` in a temporary directory and a server on a free loopback
/// port, started once per test process and stopped when it exits. Each test takes a database of its own
/// (`makeDatabase`), so tests run in parallel without seeing each other's rows.
///
/// The server binaries come from Debian's `postgresql` package (`make test` installs it when missing). PostgreSQL
/// refuses to run as root, so under root (CI) the cluster belongs to the `postgres` user and its commands run
/// through `runuser`.
package final class PostgresServer: Sendable {
    package let port: Int
    package let directory: String
    let binaries: String

    private static let shared = Mutex<Result<PostgresServer, PostgresServerError>?>(nil)

    /// A cluster of the caller's own (to stop and start again), stopped when the process exits.
    package static func startPrivate() throws -> PostgresServer {
        let server = try PostgresServer()
        server.stopAtExit()
        return server
    }

    /// The process's cluster, started on first use.
    package static func start() throws -> PostgresServer {
        try shared.withLock { started in
            if let started { return try started.get() }
            let result = Result { try PostgresServer() }.mapError {
                $0 as? PostgresServerError ?? PostgresServerError(message: "\($0)")
            }
            started = result
            if case .success(let server) = result { server.stopAtExit() }
            return try result.get()
        }
    }

    private init() throws {
        binaries = try Self.findBinaries()
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "stratus-pg-\(UUID().uuidString.prefix(8))"
            ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if geteuid() == 0 {
            guard let user = getpwnam("postgres") else {
                throw PostgresServerError(
                    message: "running as root but there is no 'postgres' user: install Debian's postgresql package")
            }
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        port = try Self.freePort()
        try run(
            "initdb", ["-D", directory + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        try restart()
    }

    /// A new, empty database; returns its `postgres://` URL.
    package func makeDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", name])
        return url(name)
    }

    package func url(_ database: String) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Stops the server at once (what a crashed database looks like to its clients).
    package func stop() {
        try? run("pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"])
    }

    /// Starts the server (again after `stop`, on the same port). No fsync: a killed server loses nothing the OS
    /// holds, which is all these tests need.
    package func restart() throws {
        let options = [
            "-p \(port)", "-k \(directory)", "-c listen_addresses=127.0.0.1", "-c fsync=off",
            "-c full_page_writes=off", "-c max_connections=300",
        ].joined(separator: " ")
        try run(
            "pg_ctl",
            ["-D", directory + "/data", "-o", options, "-l", directory + "/server.log", "-w", "-t", "60", "start"])
    }

    private func stopAtExit() {
        let first = Self.atExit.withLock { servers in
            defer { servers.append((binaries + "/pg_ctl", directory + "/data", directory)) }
            return servers.isEmpty
        }
        guard first else { return }
        atexit {
            for (pgCtl, data, directory) in PostgresServer.atExit.withLock({ $0 }) {
                let command = (geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + [pgCtl]
                _ = PostgresServer.spawnAndWait(
                    command + ["-D", data, "-m", "immediate", "stop"], output: "/dev/null")
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }

    private static let atExit = Mutex<[(String, String, String)]>([])

    /// Runs one of the server's programs (as `postgres` under root), failing with its output.
    private func run(_ program: String, _ arguments: [String]) throws {
        let executable = binaries + "/" + program
        let command = geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] : [executable]
        // A file, not a pipe: the server that `pg_ctl start` leaves running would hold a pipe open.
        let outputPath = directory + "/\(program)-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let status = Self.spawnAndWait(command + arguments, output: outputPath)
        guard status == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw PostgresServerError(
                message: "\(program) \(arguments.joined(separator: " ")) failed (\(status)):\n\(text)")
        }
    }

    /// `posix_spawn` and `waitpid`, stdin from /dev/null and both outputs to `output` (Foundation's `Process`
    /// waits on a run loop that a test's thread does not turn).
    static func spawnAndWait(_ command: [String], output: String) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var arguments = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid = pid_t()
        guard posix_spawn(&pid, command[0], &actions, nil, &arguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// The directory of `initdb` and `pg_ctl`: Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin.
    private static func findBinaries() throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let bin = "/usr/lib/postgresql/\(version)/bin"
            if FileManager.default.isExecutableFile(atPath: bin + "/initdb") { return bin }
        }
        for path in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if FileManager.default.isExecutableFile(atPath: "\(path)/initdb"),
                FileManager.default.isExecutableFile(atPath: "\(path)/pg_ctl")
            {
                return String(path)
            }
        }
        throw PostgresServerError(
            message: "PostgreSQL's initdb was not found (install Debian's postgresql package: `make test` does)")
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PostgresServerError(message: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw PostgresServerError(message: "bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

package struct PostgresServerError: Error, CustomStringConvertible, Sendable {
    package var message: String
    package var description: String { message }
}

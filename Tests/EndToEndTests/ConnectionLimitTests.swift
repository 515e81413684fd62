import Foundation
import StratusCore
import StratusTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The two limits on a listener's connections, each tried on both sides: at most
/// `Limits.connectionsPerListener` open at once (the next waits, and is served when one closes), and an
/// idle keep-alive connection is closed after `Limits.idleConnection` (a used one is not).
@Suite(.serialized, .timeLimit(.minutes(3))) struct ConnectionLimitTests {
    /// A plain TCP connection to 127.0.0.1:`port`, speaking HTTP/1.1 by hand.
    final class Connection {
        let descriptor: Int32

        init(port: UInt16) throws {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw ServeError(message: "socket: \(String(cString: strerror(errno)))") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard result == 0 else {
                close(descriptor)
                throw ServeError(message: "connect: \(String(cString: strerror(errno)))")
            }
        }

        deinit { close(descriptor) }

        /// Sends `GET /v1/health`, keeping the connection alive.
        func sendRequest() {
            let request = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            _ = request.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        }

        /// What arrives within `timeout`: an answer's bytes, `""` at end of stream, `nil` when nothing came.
        func read(within timeout: Duration) -> String? {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(
                timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            guard poll(&poller, 1, milliseconds) == 1 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            return count <= 0 ? "" : String(decoding: buffer[0..<count], as: UTF8.self)
        }

        /// Sends a request and reads its answer; whether it was `200 OK`.
        func roundTrip() -> Bool {
            sendRequest()
            return read(within: .seconds(10))?.hasPrefix("HTTP/1.1 200") == true
        }
    }

    static func port(of url: String) throws -> UInt16 {
        try #require(URL(string: url)?.port.flatMap { UInt16(exactly: $0) })
    }

    /// Enough descriptors for this test's side of the connections.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    @Test func theListenerHoldsItsConnectionCapAndServesTheNextWhenOneCloses() async throws {
        Self.raiseDescriptorLimit()
        let project = try TemporaryProject()
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        let port = try Self.port(of: host.controlURL)
        var open: [Connection] = []
        for index in 0..<Limits.connectionsPerListener {
            let connection = try Connection(port: port)
            #expect(connection.roundTrip(), "connection \(index + 1) of the cap is served")
            open.append(connection)
        }
        // One more connects (the kernel's backlog takes it) but is not served while the cap is held...
        let extra = try Connection(port: port)
        extra.sendRequest()
        #expect(extra.read(within: .seconds(1)) == nil, "the connection over the cap waits")
        // ...and is served as soon as one of the others closes.
        open.removeFirst()
        #expect(extra.read(within: .seconds(10))?.hasPrefix("HTTP/1.1 200") == true)
        open.removeAll()
        #expect(await host.stop() == 0)
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeAndAUsedOneIsNot() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        let port = try Self.port(of: host.controlURL)
        let idle = try Connection(port: port)
        let used = try Connection(port: port)
        #expect(idle.roundTrip() && used.roundTrip())
        let third = Limits.idleConnection / 3
        // Before the idle time: still open, and a request restarts its clock.
        try await Task.sleep(for: third * 2)
        #expect(used.roundTrip(), "a connection idle for less than the idle time is served")
        // Past the idle time for `idle`, two thirds of it for `used`.
        try await Task.sleep(for: third * 2 + .seconds(3))
        #expect(idle.read(within: .seconds(1)) == "", "closed by the host after the idle time")
        #expect(used.roundTrip(), "a connection used within the idle time stays open")
        #expect(await host.stop() == 0)
    }
}

import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A Python interpreter started once, with `site` and the bootstrap imported, that forks Python workers on
/// request (`bootstrap.py --zygote`): a cold start costs a fork, not an interpreter's start.
///
/// The host talks to it over a `SOCK_SEQPACKET` socket pair (the zygote's descriptor 3): a request is one
/// JSON message (environment, directory) with the worker's output pipe attached (`SCM_RIGHTS`); the zygote
/// answers `{"pid", "cgroup"}` in request order, and `{"exit", "status"}` when it has reaped a worker. It
/// keeps one spare child forked and already in its own cgroup, so that a cold start pays neither.
/// Its workers are what a spawned worker is: their own process group and cgroup, exactly their environment,
/// no descriptor of the host's or the zygote's, nothing of another function imported.
package final class PythonZygote: Sendable {
    /// The zygote cannot take the request (it has exited, or its socket is full): start the worker another way.
    package struct Unavailable: Error, CustomStringConvertible {
        package var description: String
    }

    private struct Request: Encodable {
        var env: [String: String]
        var cwd: String
    }

    private struct Answer: Decodable {
        var pid: Int32?
        var cgroup: String?
        var exit: Int32?
        var status: Int32?
        var error: String?
    }

    /// A request sent and not yet answered.
    private struct Pending {
        var id: Int
        var output: Int32
        var onExit: @Sendable (Int32) -> Void
        var continuation: CheckedContinuation<ChildProcess, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var children: [pid_t: ChildProcess] = [:]
        var closed = false
        var stopping = false
        var sent = 0
    }

    /// A zygote that has not answered a fork in this time is taken for stuck, and killed: the requests it
    /// holds start their workers by exec, its workers are stopped.
    private static let answerDeadline: Duration = .seconds(10)

    private let socket: Int32
    private let process: ChildProcess
    private let cgroups: WorkerCgroups?
    private let state = Mutex(State())
    private let logger: Logger

    private init(socket: Int32, process: ChildProcess, cgroups: WorkerCgroups?, logger: Logger) {
        self.socket = socket
        self.process = process
        self.cgroups = cgroups
        self.logger = logger
    }

    /// Whether it can still take requests.
    package var isRunning: Bool { state.withLock { !$0.closed } }

    /// Starts `python bootstrap --zygote` with `environment` (what every worker's interpreter starts with);
    /// each worker gets a cgroup of its own in `cgroups`, when given.
    package static func start(
        python: String, bootstrap: String, environment: [String: String], cgroups: WorkerCgroups?, logger: Logger
    ) throws -> PythonZygote {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0
        else {
            throw Unavailable(description: "socketpair: \(String(cString: strerror(errno)))")
        }
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                executable: python, arguments: [bootstrap, "--zygote"] + (cgroups.map { [$0.directory] } ?? []),
                environment: environment,
                directory: (bootstrap as NSString).deletingLastPathComponent, cgroups: nil, passing: pair[1])
        } catch {
            close(pair[0])
            close(pair[1])
            throw Unavailable(description: error.description)
        }
        close(pair[1])
        // The zygote prints nothing unless it fails; its output is drained so that it never blocks on it.
        let output = OutputCapture(descriptor: process.outputDescriptor)
        let zygote = PythonZygote(socket: pair[0], process: process, cgroups: cgroups, logger: logger)
        let reader = Thread {
            zygote.readAnswers()
            let said = output.take().trimmingCharacters(in: .whitespacesAndNewlines)
            output.cancel()
            if !said.isEmpty { logger.warning("python zygote said: \(said)") }
        }
        reader.name = "stratus-zygote"
        reader.stackSize = 256 * 1024
        reader.start()
        return zygote
    }

    /// Forks a worker in `directory` with exactly `environment`; `onExit` gets its raw wait status once the
    /// zygote has reaped it.
    package func fork(
        environment: [String: String], directory: String, onExit: @escaping @Sendable (Int32) -> Void
    ) async throws -> ChildProcess {
        let message = try JSONEncoder().encode(Request(env: environment, cwd: directory))
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw Unavailable(description: "pipe: \(String(cString: strerror(errno)))")
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // Never inherited by anything else the host starts.
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        defer { close(writeEnd) }
        return try await withCheckedThrowingContinuation { continuation in
            let sent = state.withLock { state -> Result<Int, Unavailable> in
                guard !state.closed else { return .failure(Unavailable(description: "the zygote has exited")) }
                // Never blocks: a zygote that stopped reading makes this worker start the other way.
                if let error = Self.send(message, with: writeEnd, on: socket) {
                    return .failure(Unavailable(description: error))
                }
                state.sent += 1
                state.pending.append(
                    Pending(id: state.sent, output: readEnd, onExit: onExit, continuation: continuation))
                return .success(state.sent)
            }
            switch sent {
            case .success(let id):
                DispatchQueue.global().asyncAfter(deadline: .now() + Self.answerDeadline.seconds) { [weak self] in
                    self?.killIfStillPending(id)
                }
            case .failure(let failure):
                close(readEnd)
                continuation.resume(throwing: failure)
            }
        }
    }

    private func killIfStillPending(_ id: Int) {
        guard state.withLock({ state in state.pending.contains { $0.id == id } }) else { return }
        logger.warning("the python zygote did not answer a fork in \(Self.answerDeadline); stopping it")
        _ = kill(process.pid, SIGKILL)
    }

    /// Stops the zygote; workers it forked keep running until they are stopped.
    package func stop() {
        state.withLock { state in
            state.stopping = true
            if !state.closed { shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    /// Waits for the zygote process to be gone.
    package func waitForExit() async {
        _ = await process.waitForExit()
    }

    /// Sends `message` with `descriptor` attached; returns why it could not.
    private static func send(_ message: Data, with descriptor: Int32, on socket: Int32) -> String? {
        let controlLength = MemoryLayout<cmsghdr>.stride + MemoryLayout<Int64>.stride  // CMSG_SPACE(sizeof(int))
        let control = UnsafeMutableRawPointer.allocate(byteCount: controlLength, alignment: 8)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: controlLength)
        let header = control.bindMemory(to: cmsghdr.self, capacity: 1)
        header.pointee.cmsg_len = MemoryLayout<cmsghdr>.stride + MemoryLayout<Int32>.size  // CMSG_LEN
        header.pointee.cmsg_level = SOL_SOCKET
        header.pointee.cmsg_type = Int32(SCM_RIGHTS)
        (control + MemoryLayout<cmsghdr>.stride).storeBytes(of: descriptor, as: Int32.self)
        let sent = message.withUnsafeBytes { bytes -> Int in
            var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
            return withUnsafeMutablePointer(to: &vector) { vector in
                var header = msghdr()
                header.msg_iov = vector
                header.msg_iovlen = 1
                header.msg_control = control
                header.msg_controllen = controlLength
                return sendmsg(socket, &header, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
            }
        }
        return sent == message.count ? nil : "sendmsg: \(String(cString: strerror(errno)))"
    }

    /// The reader thread: answers in order, exits as they come; when the zygote is gone, its workers are too.
    private func readAnswers() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let decoder = JSONDecoder()
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            guard let answer = try? decoder.decode(Answer.self, from: Data(buffer[0..<count])) else {
                logger.warning("python zygote: unreadable message of \(count) bytes")
                continue
            }
            handle(answer)
        }
        let (pending, children, stopping) = state.withLock { state in
            state.closed = true
            close(socket)
            defer {
                state.pending = []
                state.children = [:]
            }
            return (state.pending, state.children, state.stopping)
        }
        for request in pending {
            close(request.output)
            request.continuation.resume(throwing: Unavailable(description: "the zygote has exited"))
        }
        // Without their parent no one reports their exit: they are stopped, and charged as killed.
        for child in children.values {
            child.killGroup()
            child.exited(status: ChildProcess.orphanedStatus)
        }
        // Stopped, it lets its spare go and removes its cgroup before it leaves: give it a moment for that.
        let zygote = process
        DispatchQueue.global().asyncAfter(deadline: .now() + (stopping ? 3 : 0)) {
            if !zygote.hasExited { _ = kill(zygote.pid, SIGKILL) }
        }
    }

    private func handle(_ answer: Answer) {
        if let pid = answer.exit {
            // Off this thread: removing a cgroup may wait for the kernel, and fork answers queue behind it.
            if let child = state.withLock({ $0.children.removeValue(forKey: pid) }) {
                let status = answer.status ?? 0
                DispatchQueue.global().async { child.exited(status: status) }
            }
            return
        }
        guard let request = state.withLock({ $0.pending.isEmpty ? nil : $0.pending.removeFirst() }) else { return }
        guard let pid = answer.pid, pid > 0 else {
            close(request.output)
            request.continuation.resume(throwing: Unavailable(description: answer.error ?? "fork failed"))
            return
        }
        _ = fcntl(request.output, F_SETFL, fcntl(request.output, F_GETFL) | O_NONBLOCK)
        if let cgroups, answer.cgroup == nil { cgroups.failures.wrappingAdd(1, ordering: .relaxed) }
        let child = ChildProcess(
            pid: pid, outputDescriptor: request.output, cgroup: answer.cgroup, onExit: request.onExit)
        state.withLock { $0.children[pid] = child }
        request.continuation.resume(returning: child)
    }
}

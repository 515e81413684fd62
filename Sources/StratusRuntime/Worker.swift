import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import StratusCore
import Synchronization

/// One invocation handed to a worker.
package struct WorkerInvocation: Sendable {
    package var id: String
    package var payload: ByteBuffer
    /// JSON from the Invoke API's `X-Amz-Client-Context`, base64-decoded.
    package var clientContext: String?

    package init(id: String, payload: ByteBuffer, clientContext: String? = nil) {
        self.id = id
        self.payload = payload
        self.clientContext = clientContext
    }
}

/// How one invocation on a worker ended.
package struct WorkerResult: Sendable {
    package enum Outcome: Sendable {
        /// The runtime posted a response: its bytes, passed through untouched.
        case success(ByteBuffer)
        /// The runtime posted an error (invocation or init): Lambda's error JSON, passed through.
        case functionError(type: String, body: ByteBuffer)
        /// The host ended it: timeout, crash, out of memory.
        case hostError(status: InvocationRecord.Status, type: String, message: String)
    }

    package var outcome: Outcome
    package var output: String
    package var durationMs: Double
    package var initDurationMs: Double?
    package var maxMemoryUsedMB: Int
    /// The host ended it because it is shutting down (the drain timeout passed), not the function.
    package var abortedByHost = false
    /// The worker died idle before its runtime received the invocation: no code of the function ran for it,
    /// and it may go to another worker.
    package var neverDelivered = false
}

/// A child process running one function's runtime, with its own Runtime API endpoint on loopback.
///
/// A worker holds at most one invocation at a time; a crash, timeout or memory overrun is charged to that
/// invocation and kills the worker, whose pool then replaces it.
package final class Worker: Sendable {
    /// What the worker keeps of the invocation it holds.
    private struct Held {
        var invocation: WorkerInvocation
        var continuation: CheckedContinuation<WorkerResult, Never>
        var deliveredAt: ContinuousClock.Instant?
        var timer: Scheduled<Void>?
        var maxMemoryMB = 0
        var initDurationMs: Double?
    }

    private typealias Respond = @Sendable (RuntimeAPIResponse) -> Void

    private struct State {
        var api = RuntimeAPIState<Respond, Held>()
        var process: ChildProcess?
        var capture: OutputCapture?
        /// The init duration, from spawn to the first `/next`, for the invocation that started the worker.
        var initDurationMs: Double?
        /// Resident memory at the last sample, in MB.
        var lastMemoryMB = 0
        var memoryTask: RepeatedTask?
        /// An init error posted before the invocation that started the worker reached it (a forked worker can
        /// fail its import that fast): that invocation gets it when it arrives.
        var earlyInitError: (type: String, body: ByteBuffer, initDurationMs: Double)?
        /// How the process ended, once it has.
        var exitStatus: Int32?
        /// Callers of `ready(timeout:)`, answered at the first `/next` (true) or when the process exits.
        var readyWaiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextReadyWaiter = 0
    }

    package let function: DeployedFunction
    package let eventLoop: any EventLoop
    private let spawnedAt = ContinuousClock.now
    private let state = Mutex(State())
    private let serverChannel = Mutex<(any Channel)?>(nil)
    /// Runtime API connections open now.
    private let connections = Atomic<Int>(0)
    private static let maxConnections = 4
    private let logger: Logger

    private init(function: DeployedFunction, eventLoop: any EventLoop, logger: Logger) {
        self.function = function
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// The process id, once started.
    package var pid: pid_t? { state.withLock { $0.process?.pid } }

    /// Whether the worker can take another invocation.
    package var isAlive: Bool { state.withLock { !$0.api.dead } }

    /// Whether its runtime ever asked for work (its init ended).
    package var wasReady: Bool { state.withLock { $0.api.initialized } }

    /// Whether the worker holds an invocation.
    package var isBusy: Bool { state.withLock { $0.api.current != nil } }

    /// Starts a worker's process with the given environment; reports its raw wait status when it has exited.
    package typealias Spawn =
        @Sendable (_ environment: [String: String], _ onExit: @escaping @Sendable (Int32) -> Void) async throws ->
        ChildProcess

    /// Binds a Runtime API endpoint and starts the function's runtime against it with `spawn`.
    package static func start(
        function: DeployedFunction, environment: [String: String], group: any EventLoopGroup, logger: Logger,
        spawn: Spawn
    ) async throws -> Worker {
        let worker = Worker(function: function, eventLoop: group.next(), logger: logger)
        let channel = try await ServerBootstrap(group: worker.eventLoop)
            .serverChannelOption(.backlog, value: 8)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // A runtime needs one or two connections; a local process opening more is refused, so that
                // the endpoint's memory stays bounded (each connection buffers at most one 6 MB body).
                guard worker.connections.wrappingAdd(1, ordering: .relaxed).newValue <= Self.maxConnections else {
                    worker.connections.wrappingSubtract(1, ordering: .relaxed)
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in worker.connections.wrappingSubtract(1, ordering: .relaxed) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RuntimeAPIHandler(worker: worker))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        worker.serverChannel.withLock { $0 = channel }
        var environment = environment
        environment["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:\(channel.localAddress?.port ?? 0)"
        do {
            let process = try await spawn(environment) { [weak worker] status in worker?.processExited(status) }
            let capture = OutputCapture(descriptor: process.outputDescriptor)
            worker.state.withLock {
                $0.process = process
                $0.capture = capture
            }
        } catch {
            try? await channel.close()
            throw error
        }
        return worker
    }

    /// Runs one invocation to its end. Never throws: every failure is an outcome.
    package func invoke(_ invocation: WorkerInvocation) async -> WorkerResult {
        await withCheckedContinuation { continuation in
            let answer = state.withLock { state in
                state.api.invoke(id: invocation.id, held: Held(invocation: invocation, continuation: continuation))
            }
            switch answer {
            case .dead:
                if let failure = state.withLock({ state in
                    defer { state.earlyInitError = nil }
                    return state.earlyInitError
                }) {
                    let output = state.withLock { $0.capture }?.take() ?? ""
                    continuation.resume(
                        returning: WorkerResult(
                            outcome: .functionError(type: failure.type, body: failure.body), output: output,
                            durationMs: 0, initDurationMs: failure.initDurationMs, maxMemoryUsedMB: 0))
                    return
                }
                // A warm worker that died since it was acquired never had the invocation; one that died in
                // its init charges its crash to the invocation it was started for.
                let warm = state.withLock { $0.api.initialized }
                continuation.resume(
                    returning: WorkerResult(
                        outcome: .hostError(
                            status: .crashed, type: "Runtime.ExitError", message: "worker is not running"),
                        output: "", durationMs: 0, initDurationMs: nil, maxMemoryUsedMB: 0, neverDelivered: warm))
            case .deliver(let respond):
                respond(delivered(invocation))
            case .wait:
                // The runtime is still starting: bound the wait for one that never asks for work (a hung init).
                let guardTime = function.config.timeout + .seconds(10)
                let timer = eventLoop.scheduleTask(in: .init(guardTime)) { [self] in timedOut(invocation.id) }
                state.withLock { state in
                    state.api.update(invocation.id) { held in
                        held.deliveredAt == nil ? (held.timer = timer) : timer.cancel()
                    }
                }
            }
        }
    }

    /// Starts the clock of an invocation handed to the runtime: its timeout, its duration, its init duration;
    /// returns the `/next` answer that hands it over.
    private func delivered(_ invocation: WorkerInvocation) -> RuntimeAPIResponse {
        let id = invocation.id
        let timer = eventLoop.scheduleTask(in: .init(function.config.timeout)) { [self] in timedOut(id) }
        // Memory is sampled while the function runs, and only then: an idle worker costs no wake-ups.
        let sampler = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(20), delay: .milliseconds(50)) {
            [weak self] _ in self?.sampleMemory()
        }
        let now = ContinuousClock.now
        state.withLock { state in
            state.memoryTask?.cancel()
            state.memoryTask = sampler
            let initDuration = state.initDurationMs
            state.initDurationMs = nil
            state.api.update(id) { held in
                held.timer?.cancel()
                held.timer = timer
                held.deliveredAt = now
                held.initDurationMs = initDuration
            }
        }
        return deliveryResponse(invocation)
    }

    /// Ends the invocation the worker holds, if any, with `message` (status `crashed`), then stops the worker:
    /// the host is shutting down and will not wait for it any longer.
    package func abort(_ message: String) {
        if let id = state.withLock({ $0.api.current?.id }) {
            complete(
                id: id,
                outcome: .hostError(
                    status: .crashed, type: "Runtime.ExitError", message: "RequestId: \(id) Error: \(message)"),
                force: true, abortedByHost: true)
        }
        stop()
    }

    /// Kills the worker's process group and closes its endpoint.
    package func stop() {
        let (process, capture) = state.withLock { state in
            _ = state.api.die()
            state.memoryTask?.cancel()
            return (state.process, state.capture)
        }
        process?.killGroup()
        capture?.cancel()
        serverChannel.withLock { $0?.close(promise: nil) }
    }

    /// Waits for the process to be gone (after `stop()` or a crash).
    package func waitForExit() async {
        if let process = state.withLock({ $0.process }) { _ = await process.waitForExit() }
    }

    /// Waits until the runtime asks for its first invocation (`true`), or until it exits or `timeout` passes.
    package func ready(timeout: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let (answer, id) = state.withLock { state -> (Bool?, Int) in
                if state.api.initialized { return (true, 0) }
                if state.api.dead { return (false, 0) }
                let id = state.nextReadyWaiter
                state.nextReadyWaiter += 1
                state.readyWaiters[id] = continuation
                return (nil, id)
            }
            if let answer { return continuation.resume(returning: answer) }
            eventLoop.scheduleTask(in: .init(timeout)) { [self] in
                state.withLock { $0.readyWaiters.removeValue(forKey: id) }?.resume(returning: false)
            }
        }
    }

    /// Why the runtime never asked for work: its init error or how it exited, and the end of what it printed
    /// (a traceback, say).
    package func startFailure() -> String {
        let (early, status, capture) = state.withLock { ($0.earlyInitError, $0.exitStatus, $0.capture) }
        var reason = "its runtime did not ask for work"
        if let early {
            let message = LambdaPayloads.ErrorFields.read(early.body.readableBytesView)?.errorMessage
            reason = "\(early.type)" + (message.map { ": \($0)" } ?? "")
        } else if let status {
            reason = "its runtime exited (\(ChildProcess.describe(status: status)))"
        }
        _ = capture?.drain()
        let output = capture?.take().split(separator: "\n").suffix(12).joined(separator: "\n") ?? ""
        return output.isEmpty ? reason : reason + "\n" + output
    }

    private func answerReadyWaiters(_ ready: Bool) {
        let waiters = state.withLock { state in
            defer { state.readyWaiters = [:] }
            return Array(state.readyWaiters.values)
        }
        for waiter in waiters { waiter.resume(returning: ready) }
    }

    // MARK: Runtime API

    func nextInvocation(connection: ObjectIdentifier, respond: @escaping @Sendable (RuntimeAPIResponse) -> Void) {
        let now = ContinuousClock.now
        let (answer, invocation, readyWaiters) = state.withLock {
            state -> (RuntimeAPIState<Respond, Held>.NextAnswer, WorkerInvocation?, [CheckedContinuation<Bool, Never>])
            in
            let wasInitialized = state.api.initialized
            let answer = state.api.next(from: connection, waiter: respond)
            var readyWaiters: [CheckedContinuation<Bool, Never>] = []
            if !wasInitialized && state.api.initialized {
                state.initDurationMs = (now - spawnedAt).seconds * 1000
                readyWaiters = Array(state.readyWaiters.values)
                state.readyWaiters = [:]
            }
            return (answer, state.api.current?.held.invocation, readyWaiters)
        }
        for waiter in readyWaiters { waiter.resume(returning: true) }
        switch answer {
        case .deliver:
            if let invocation { respond(delivered(invocation)) }
        case .park:
            break
        case .refuseOpen(let id):
            respond(
                .error(
                    .forbidden, type: "InvalidStateTransition",
                    message: "State transition from Invoking to Ready failed: invocation \(id) is open"))
        case .refuseSecond:
            // One runtime asks for work at a time: a second /next would silently replace the first.
            respond(.error(.conflict, type: "InvalidStateTransition", message: "another /next is already waiting"))
        }
    }

    /// The `/next` answer carrying invocation `id` was written, or was not (its connection closed: the
    /// runtime asks again, or the worker has died and the invocation goes elsewhere; its timeout keeps running).
    func delivery(id: String, written: Bool) {
        state.withLock { state in
            if written { state.api.received(id) } else { _ = state.api.undeliver(id) }
        }
    }

    /// A Runtime API connection closed: a `/next` it had parked is gone with it.
    func connectionClosed(_ connection: ObjectIdentifier) {
        state.withLock { $0.api.connectionClosed(connection) }
    }

    /// The runtime posted a response (or error) larger than Lambda allows: the invocation fails with
    /// `Function.ResponseSizeTooLarge`, as Lambda's does; the worker stays.
    func responseTooLarge(id: String) {
        let message = "Response payload size exceeded maximum allowed payload size (\(Limits.responseBytes) bytes)."
        let body = RuntimeAPIResponse.error(.payloadTooLarge, type: "Function.ResponseSizeTooLarge", message: message)
            .body
        complete(id: id, outcome: .functionError(type: "Function.ResponseSizeTooLarge", body: body))
    }

    func invocationResponse(id: String, body: ByteBuffer) -> RuntimeAPIResponse {
        complete(id: id, outcome: .success(body)) ? .accepted() : Self.invalidRequestID(id)
    }

    func invocationError(id: String, errorType: String?, body: ByteBuffer) -> RuntimeAPIResponse {
        let type = Self.errorType(header: errorType, body: body)
        return complete(id: id, outcome: .functionError(type: type, body: body))
            ? .accepted() : Self.invalidRequestID(id)
    }

    func initError(errorType: String?, body: ByteBuffer) -> RuntimeAPIResponse {
        let type = Self.errorType(header: errorType, body: body)
        let now = ContinuousClock.now
        let id = state.withLock { state in
            let id = state.api.die()
            if id == nil { state.earlyInitError = (type, body, (now - spawnedAt).seconds * 1000) }
            return id
        }
        if let id { complete(id: id, outcome: .functionError(type: type, body: body), force: true) }
        logger.debug("init error", metadata: ["function": "\(function.name)", "error.type": "\(type)"])
        return .accepted()
    }

    // MARK: Internals

    private func deliveryResponse(_ invocation: WorkerInvocation) -> RuntimeAPIResponse {
        let deadline = Int64((Date().timeIntervalSince1970 + function.config.timeout.seconds) * 1000)
        var headers: HTTPHeaders = [
            "Lambda-Runtime-Aws-Request-Id": invocation.id,
            "Lambda-Runtime-Deadline-Ms": String(deadline),
            "Lambda-Runtime-Invoked-Function-Arn": function.arn,
            "Lambda-Runtime-Trace-Id": Self.traceId(for: invocation.id),
            "Content-Type": "application/json",
        ]
        if let clientContext = invocation.clientContext {
            headers.add(name: "Lambda-Runtime-Client-Context", value: clientContext)
        }
        return RuntimeAPIResponse(status: .ok, headers: headers, body: invocation.payload)
    }

    /// Samples resident memory while an invocation runs (one timer per worker, not per invocation) and
    /// stops the worker when it goes above the function's `memory`.
    private func sampleMemory() {
        let target = state.withLock { state -> (String, ChildProcess)? in
            guard !state.api.dead, let current = state.api.current, current.delivered, let process = state.process
            else {
                return nil
            }
            return (current.id, process)
        }
        guard let (id, process) = target else { return }
        let used = process.residentMemoryMB()
        let limitMB = function.config.memoryMB
        let exceeded = state.withLock { state -> Bool in
            state.lastMemoryMB = used
            guard state.api.current?.id == id else { return false }
            state.api.update(id) { $0.maxMemoryMB = max($0.maxMemoryMB, used) }
            return used > limitMB
        }
        guard exceeded else { return }
        killForCause(
            id: id,
            outcome: .hostError(
                status: .error, type: "Runtime.OutOfMemory",
                message:
                    "RequestId: \(id) Error: Runtime exited with error: signal: killed (memory \(used) MB > \(limitMB) MB)"
            ))
    }

    private func timedOut(_ id: String) {
        let seconds = String(format: "%.2f", function.config.timeout.seconds)
        killForCause(
            id: id,
            outcome: .hostError(
                status: .timeout, type: "Sandbox.Timedout",
                message: "RequestId: \(id) Error: Task timed out after \(seconds) seconds"))
    }

    private func killForCause(id: String, outcome: WorkerResult.Outcome) {
        let process = state.withLock { state -> ChildProcess? in
            guard state.api.current?.id == id else { return nil }
            _ = state.api.die()
            return state.process
        }
        guard let process else { return }
        // Charge the invocation first: once the group is killed, the reaper would report a crash.
        complete(id: id, outcome: outcome, force: true)
        process.killGroup()
        serverChannel.withLock { $0?.close(promise: nil) }
    }

    private func processExited(_ status: Int32) {
        let (id, neverDelivered) = state.withLock { state -> (String?, Bool) in
            state.exitStatus = status
            state.memoryTask?.cancel()
            // Killed with its zygote (Stratus's own process, not the function, failed): the invocation may go to
            // another worker even if this one had received it; at worst part of it runs twice.
            let neverDelivered = state.api.heldButNeverDelivered || status & 0x10000 != 0
            return (state.api.die(), neverDelivered)
        }
        serverChannel.withLock { $0?.close(promise: nil) }
        answerReadyWaiters(false)
        guard let id else { return }
        let reason = ChildProcess.describe(status: status)
        let message =
            reason == "exit status 0"
            ? "Runtime exited without providing a reason" : "Runtime exited with error: \(reason)"
        complete(
            id: id,
            outcome: .hostError(
                status: .crashed, type: "Runtime.ExitError", message: "RequestId: \(id) Error: \(message)"),
            force: true,
            neverDelivered: neverDelivered)
    }

    /// Ends the current invocation if it is `id` (and was delivered, unless `force`). Returns whether it did.
    @discardableResult
    private func complete(
        id: String, outcome: WorkerResult.Outcome, force: Bool = false, abortedByHost: Bool = false,
        neverDelivered: Bool = false
    ) -> Bool {
        let now = ContinuousClock.now
        let taken = state.withLock { state -> (Held, OutputCapture?, ChildProcess?, Int)? in
            guard let held = state.api.complete(id, force: force) else { return nil }
            state.memoryTask?.cancel()
            state.memoryTask = nil
            return (held, state.capture, state.process, state.lastMemoryMB)
        }
        guard let (current, capture, process, lastSample) = taken else { return false }
        current.timer?.cancel()
        let output = capture?.take() ?? ""
        var memory = max(current.maxMemoryMB, lastSample)
        if memory == 0, let process, !process.hasExited {
            // No sample yet (a first, fast invocation): read it once, and keep it for later reports.
            memory = process.residentMemoryMB()
            state.withLock { $0.lastMemoryMB = memory }
        }
        let duration = current.deliveredAt.map { (now - $0).seconds * 1000 } ?? 0
        current.continuation.resume(
            returning: WorkerResult(
                outcome: outcome, output: output, durationMs: duration, initDurationMs: current.initDurationMs,
                maxMemoryUsedMB: memory, abortedByHost: abortedByHost, neverDelivered: neverDelivered))
        return true
    }

    private static func invalidRequestID(_ id: String) -> RuntimeAPIResponse {
        .error(
            .badRequest, type: "InvalidRequestID", message: "Invalid request ID: \(id) is not the current invocation")
    }

    /// The header when present, else the body's `errorType` (awslambdaric sends only the body).
    private static func errorType(header: String?, body: ByteBuffer) -> String {
        if let header, !header.isEmpty { return header }
        return LambdaPayloads.ErrorFields.read(body.readableBytesView)?.errorType ?? "Unhandled"
    }

    /// An X-Ray trace header: a new root, a 16-digit parent.
    private static func traceId(for id: String) -> String {
        "Root=\(IDRandom.traceRoot());Parent=\(IDRandom.hex(digits: 16));Sampled=0"
    }
}

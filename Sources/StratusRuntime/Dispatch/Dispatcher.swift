import Foundation
import Logging
import NIOCore
import StratusCore
import Synchronization

/// The one invocation path: HTTP routes, topics, queues and direct invokes all come through `invoke`.
public final class Dispatcher: Sendable {
    /// Why an invocation could not even be attempted.
    public enum DispatchError: Error, Sendable, Equatable {
        case functionNotFound(String)
    }

    /// The end of one invocation: its record and the bytes to hand back to the caller.
    public struct Result: Sendable {
        public var record: InvocationRecord
        /// The function's response bytes, or Lambda's error JSON when `record.status != .ok`.
        public var payload: ByteBuffer
    }

    /// Where an invocation came from, for the record.
    public struct Origin: Sendable {
        public var trigger: String
        public var source: String
        public var attempt: Int
        public init(trigger: String, source: String = "", attempt: Int = 1) {
            self.trigger = trigger
            self.source = source
            self.attempt = attempt
        }
    }

    private let pools: Mutex<[String: WorkerPool]>
    private let log: InvocationLog
    private let logger: Logger

    package init(log: InvocationLog, logger: Logger) {
        self.pools = Mutex([:])
        self.log = log
        self.logger = logger
    }

    package func install(_ pool: WorkerPool) -> WorkerPool? {
        pools.withLock { $0.updateValue(pool, forKey: pool.function.name) }
    }

    package func allPools() -> [WorkerPool] {
        pools.withLock { Array($0.values) }.sorted { $0.function.name < $1.function.name }
    }

    /// The function named `name`, if it is loaded.
    public func function(named name: String) -> DeployedFunction? {
        pools.withLock { $0[name]?.function }
    }

    /// Runs `name` once with `payload` and records the invocation. Failures of the function are results.
    public func invoke(
        _ name: String, payload: ByteBuffer, origin: Origin, clientContext: String? = nil
    ) async throws(DispatchError) -> Result {
        guard let pool = pools.withLock({ $0[name] }) else { throw .functionNotFound(name) }
        let function = pool.function
        let id = RequestID.make()
        let start = Date()
        var record = InvocationRecord(
            id: id, function: name, version: function.version, trigger: origin.trigger, source: origin.source,
            attempt: origin.attempt, start: start, durationMs: 0, status: .ok,
            memorySizeMB: function.config.memoryMB, maxMemoryUsedMB: 0, output: "")
        let payloadOut: ByteBuffer
        do {
            let (worker, _) = try await pool.acquire()
            let result = await worker.invoke(WorkerInvocation(id: id, payload: payload, clientContext: clientContext))
            pool.release(worker)
            record.durationMs = result.durationMs
            record.initDurationMs = result.initDurationMs
            record.maxMemoryUsedMB = result.maxMemoryUsedMB
            record.output = result.output
            switch result.outcome {
            case .success(let body):
                payloadOut = body
            case .functionError(let type, let body):
                record.status = .error
                record.errorType = type
                record.errorMessage = Self.errorMessage(in: body)
                payloadOut = body
            case .hostError(let status, let type, let message):
                record.status = status
                record.errorType = type
                record.errorMessage = message
                payloadOut = Self.errorBody(type: type, message: message)
            }
        } catch .throttled {
            record.status = .throttled
            record.errorType = "TooManyRequestsException"
            record.errorMessage = "Rate Exceeded: \(name) is at its concurrency limit (\(function.config.scaling.max))"
            payloadOut = Self.errorBody(type: record.errorType!, message: record.errorMessage!)
        } catch .cannotStart(let reason) {
            record.status = .error
            record.errorType = "Runtime.InvalidEntrypoint"
            record.errorMessage = reason
            payloadOut = Self.errorBody(type: record.errorType!, message: reason)
        } catch {
            record.status = .rejected
            record.errorType = "ServiceException"
            record.errorMessage = "host is shutting down"
            payloadOut = Self.errorBody(type: record.errorType!, message: record.errorMessage!)
        }
        log.record(record)
        return Result(record: record, payload: payloadOut)
    }

    /// Lambda's error JSON for errors the host itself reports.
    package static func errorBody(type: String, message: String) -> ByteBuffer {
        let object = ["errorType": type, "errorMessage": message]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return ByteBuffer(bytes: data)
    }

    private static func errorMessage(in body: ByteBuffer) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        return object?["errorMessage"] as? String ?? body.getString(at: body.readerIndex, length: min(body.readableBytes, 1024))
    }
}

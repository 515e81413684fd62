/// Everything Stratus knows about one function, as declared in `functions/<name>/function.yaml`.
package struct FunctionConfig: Sendable, Equatable {
    /// How the function's code is run.
    package enum Runtime: String, Sendable, CaseIterable {
        case python, node, provided
    }

    /// The warm floor, the hard ceiling and the idle time after which a worker is retired.
    package struct Scaling: Sendable, Equatable {
        package var min = 0
        package var max = 10
        package var idle: Duration = .seconds(120)
        /// Workers of the host-wide budget (`--max-workers`) only this function may use.
        package var reserved = 0
        /// Callers that may wait for a worker once the pool is at `max`; beyond that, throttle.
        package var queue = 64
        /// How long a caller may wait for a worker before it is throttled.
        package var maxWait: Duration = .seconds(5)
        /// Start one worker ahead of demand while every worker is busy.
        package var prewarm = true
        package init() {}
    }

    /// Where an async event goes when its retries or age run out.
    package enum Destination: Sendable, Equatable {
        case queue(String)
        case topic(String)
    }

    /// Retry policy for topic deliveries and `Event` invokes.
    package struct Async: Sendable, Equatable {
        package var retries = 2
        package var maxEventAge: Duration = .seconds(6 * 3600)
        package var onFailure: Destination?
        /// Backoff between retries: full jitter up to base × 2^(attempt-1), at most cap.
        package var retryBase: Duration = .seconds(1)
        package var retryCap: Duration = .seconds(30)
        package init() {}
    }

    /// Per-function circuit breaker settings; `nil` on the config means the breaker is off.
    package struct CircuitBreaker: Sendable, Equatable {
        package var failureRate = 50
        package var minimumCalls = 10
        package var window = 20
        package var cooldown: Duration = .seconds(30)
        package var halfOpenCalls = 3
        package init() {}
    }

    /// The function name: the name of its directory.
    package var name: String
    package var runtime: Runtime
    /// `module.function` for python and node; informational for `provided`, which runs `./bootstrap`.
    package var handler: String
    /// Default 3s, at most 15m.
    package var timeout: Duration = .seconds(3)
    /// Memory limit in MB (default 128, as Lambda's): a worker above it is stopped.
    package var memoryMB = 128
    package var environment: [String: String] = [:]
    package var scaling = Scaling()
    package var async = Async()
    package var circuitBreaker: CircuitBreaker? = CircuitBreaker()
    /// Directories (relative to the function's) added to the module path, as Lambda layers are.
    package var layers: [String] = []

    package init(name: String, runtime: Runtime, handler: String) {
        self.name = name
        self.runtime = runtime
        self.handler = handler
    }

    /// Whether `name` is a valid function (directory) name.
    package static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 64 else { return false }
        func allowed(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
        return allowed(first) && name.utf8.allSatisfy { allowed($0) || $0 == 0x2D }
    }
}

/// Everything Stratus knows about one function, as declared in `functions/<name>/function.yaml`.
public struct FunctionConfig: Sendable, Equatable {
    /// How the function's code is run.
    public enum Runtime: String, Sendable, CaseIterable {
        case python, node, provided
    }

    /// The warm floor, the hard ceiling and the idle time after which a worker is retired.
    public struct Scaling: Sendable, Equatable {
        public var min = 0
        public var max = 10
        public var idle: Duration = .seconds(120)
        /// Workers of the host-wide budget (`--max-workers`) only this function may use.
        public var reserved = 0
        /// Callers that may wait for a worker once the pool is at `max`; beyond that, throttle.
        public var queue = 64
        /// How long a caller may wait for a worker before it is throttled.
        public var maxWait: Duration = .seconds(5)
        /// Start one worker ahead of demand while every worker is busy.
        public var prewarm = true
        public init() {}
    }

    /// Where an async event goes when its retries or age run out.
    public enum Destination: Sendable, Equatable {
        case queue(String)
        case topic(String)
    }

    /// Retry policy for topic deliveries and `Event` invokes.
    public struct Async: Sendable, Equatable {
        public var retries = 2
        public var maxEventAge: Duration = .seconds(6 * 3600)
        public var onFailure: Destination?
        /// Backoff between retries: full jitter up to base × 2^(attempt-1), at most cap.
        public var retryBase: Duration = .seconds(1)
        public var retryCap: Duration = .seconds(30)
        public init() {}
    }

    /// Per-function circuit breaker settings; `nil` on the config means the breaker is off.
    public struct CircuitBreaker: Sendable, Equatable {
        public var failureRate = 50
        public var minimumCalls = 10
        public var window = 20
        public var cooldown: Duration = .seconds(30)
        public var halfOpenCalls = 3
        public init() {}
    }

    /// The function name: the name of its directory.
    public var name: String
    public var runtime: Runtime
    /// `module.function` for python and node; informational for `provided`, which runs `./bootstrap`.
    public var handler: String
    /// Default 3s, at most 15m.
    public var timeout: Duration = .seconds(3)
    /// Memory limit in MB (default 128, as Lambda's): a worker above it is stopped.
    public var memoryMB = 128
    public var environment: [String: String] = [:]
    public var scaling = Scaling()
    public var async = Async()
    public var circuitBreaker: CircuitBreaker? = CircuitBreaker()

    public init(name: String, runtime: Runtime, handler: String) {
        self.name = name
        self.runtime = runtime
        self.handler = handler
    }

    /// Whether `name` is a valid function (directory) name.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 64 else { return false }
        func allowed(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
        return allowed(first) && name.utf8.allSatisfy { allowed($0) || $0 == 0x2D }
    }
}

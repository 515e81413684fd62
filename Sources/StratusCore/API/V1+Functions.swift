import Foundation

extension V1 {
    /// One function's line in `stratus status` and `GET /v1/functions`.
    public struct FunctionStatus: Sendable, Codable, Equatable {
        /// `CLOSED`, `OPEN`, `HALF_OPEN`, or `OFF`.
        public var breaker: String
        /// When an open breaker lets a probe through.
        public var nextProbe: Date?
        public var name: String
        public var runtime: String
        public var revision: String
        /// Workers starting, busy or idle.
        public var workers: Int
        /// Workers running an invocation: the function's invocations in flight.
        public var busy: Int
        public var idle: Int
        public var starting: Int
        /// Callers waiting for a worker.
        public var waiting: Int
        public var min: Int
        public var max: Int
        public var reserved: Int
        public var coldStarts: Int
        public var throttles: Int
        public var scaleUps: Int
        public var scaleDowns: Int
        public var replaced: Int

        public init(
            breaker: String, nextProbe: Date?, name: String, runtime: String, revision: String, workers: Int, busy: Int,
            idle: Int, starting: Int, waiting: Int, min: Int, max: Int, reserved: Int, coldStarts: Int, throttles: Int,
            scaleUps: Int, scaleDowns: Int, replaced: Int
        ) {
            self.breaker = breaker
            self.nextProbe = nextProbe
            self.name = name
            self.runtime = runtime
            self.revision = revision
            self.workers = workers
            self.busy = busy
            self.idle = idle
            self.starting = starting
            self.waiting = waiting
            self.min = min
            self.max = max
            self.reserved = reserved
            self.coldStarts = coldStarts
            self.throttles = throttles
            self.scaleUps = scaleUps
            self.scaleDowns = scaleDowns
            self.replaced = replaced
        }
    }

    /// `GET /v1/status`.
    public struct Status: Sendable, Codable {
        public var maxWorkers: Int
        /// How workers are contained: `cgroup` or `process group`.
        public var isolation: String
        public var functions: [FunctionStatus]
        public var queues: [QueueSummary]
        public var topics: [TopicSummary]

        public init(maxWorkers: Int, isolation: String, functions: [FunctionStatus], queues: [QueueSummary], topics: [TopicSummary]) {
            self.maxWorkers = maxWorkers
            self.isolation = isolation
            self.functions = functions
            self.queues = queues
            self.topics = topics
        }
    }

    /// `POST /v1/functions/{name}/invoke`: how the invocation ended. The server writes it with `JSONWriter`
    /// (the result is the function's own bytes); clients read it with this type.
    public struct InvokeAnswer: Sendable, Codable {
        public var invocationId: String
        public var status: InvocationRecord.Status
        /// The function's result, or Lambda's error JSON.
        public var result: JSONValue
        public var durationMs: Double
        public var initDurationMs: Double?
        public var errorType: String?
        public var errorMessage: String?
        /// START, output, END and REPORT, as Lambda prints them.
        public var logs: String
    }

    /// `POST /v1/functions/{name}/invoke?async=true`: 202 once the event is committed.
    public struct AsyncAccepted: Sendable, Codable {
        public var eventId: String
        public var status: String

        public init(eventId: String) {
            self.eventId = eventId
            status = "accepted"
        }
    }

    /// `POST /v1/functions/{name}/breaker/reset`.
    public struct BreakerReset: Sendable, Codable {
        public var function: String
        public var breaker: String

        public init(function: String) {
            self.function = function
            breaker = "CLOSED"
        }
    }

    /// `GET /v1/routes`.
    public struct Routes: Sendable, Codable {
        public struct Route: Sendable, Codable {
            /// `GET /hello/{name}`, `$default`.
            public var route: String
            public var function: String

            public init(route: String, function: String) {
                self.route = route
                self.function = function
            }
        }

        public var routes: [Route]

        public init(routes: [Route]) {
            self.routes = routes
        }
    }

    /// `GET /v1/logs`.
    public struct Invocations: Sendable, Codable {
        public var invocations: [InvocationRecord]

        public init(invocations: [InvocationRecord]) {
            self.invocations = invocations
        }
    }

    /// `GET /v1/events`.
    public struct Events: Sendable, Codable {
        public var events: [HostEvent]

        public init(events: [HostEvent]) {
            self.events = events
        }
    }
}

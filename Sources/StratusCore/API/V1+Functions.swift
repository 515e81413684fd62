import Foundation

extension V1 {
    /// One function's line in `stratus status` and `GET /v1/functions`.
    package struct FunctionStatus: Sendable, Codable, Equatable {
        /// `CLOSED`, `OPEN`, `HALF_OPEN`, or `OFF`.
        package var breaker: String
        /// When an open breaker lets a probe through.
        package var nextProbe: Date?
        package var name: String
        package var runtime: String
        package var revision: String
        /// Workers starting, busy or idle.
        package var workers: Int
        /// Workers running an invocation: the function's invocations in flight.
        package var busy: Int
        package var idle: Int
        package var starting: Int
        /// Callers waiting for a worker.
        package var waiting: Int
        package var min: Int
        package var max: Int
        package var reserved: Int
        package var coldStarts: Int
        package var throttles: Int
        package var scaleUps: Int
        package var scaleDowns: Int
        package var replaced: Int

        package init(
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
    package struct Status: Sendable, Codable {
        package var maxWorkers: Int
        /// How workers are contained: `cgroup` or `process group`.
        package var isolation: String
        package var functions: [FunctionStatus]
        package var queues: [QueueSummary]
        package var topics: [TopicSummary]
        /// The hosts sharing this host's PostgreSQL store; absent on SQLite.
        package var cluster: Cluster?

        package init(
            maxWorkers: Int, isolation: String, functions: [FunctionStatus], queues: [QueueSummary],
            topics: [TopicSummary], cluster: Cluster? = nil
        ) {
            self.maxWorkers = maxWorkers
            self.isolation = isolation
            self.functions = functions
            self.queues = queues
            self.topics = topics
            self.cluster = cluster
        }
    }

    /// The hosts on one shared store, and which one this is.
    package struct Cluster: Sendable, Codable {
        package var thisHost: String
        /// How long a host's deliveries stay leased to it after its last heartbeat.
        package var leaseMs: Int64
        package var hosts: [ClusterHost]

        package init(thisHost: String, leaseMs: Int64, hosts: [ClusterHost]) {
            self.thisHost = thisHost
            self.leaseMs = leaseMs
            self.hosts = hosts
        }
    }

    /// `POST /v1/functions/{name}/invoke`: how the invocation ended. The server writes it with `JSONWriter`
    /// (the result is the function's own bytes); clients read it with this type.
    package struct InvokeAnswer: Sendable, Codable {
        package var invocationId: String
        package var status: InvocationRecord.Status
        /// The function's result, or Lambda's error JSON.
        package var result: JSONValue
        package var durationMs: Double
        package var initDurationMs: Double?
        package var errorType: String?
        package var errorMessage: String?
        /// START, output, END and REPORT, as Lambda prints them.
        package var logs: String
    }

    /// `POST /v1/functions/{name}/invoke?async=true`: 202 once the event is committed.
    package struct AsyncAccepted: Sendable, Codable {
        package var eventId: String
        package var status: String

        package init(eventId: String) {
            self.eventId = eventId
            status = "accepted"
        }
    }

    /// `POST /v1/functions/{name}/breaker/reset`.
    package struct BreakerReset: Sendable, Codable {
        package var function: String
        package var breaker: String

        package init(function: String) {
            self.function = function
            breaker = "CLOSED"
        }
    }

    /// `GET /v1/routes`.
    package struct Routes: Sendable, Codable {
        package struct Route: Sendable, Codable {
            /// `GET /hello/{name}`, `$default`.
            package var route: String
            package var function: String

            package init(route: String, function: String) {
                self.route = route
                self.function = function
            }
        }

        package var routes: [Route]

        package init(routes: [Route]) {
            self.routes = routes
        }
    }

    /// `GET /v1/logs`.
    package struct Invocations: Sendable, Codable {
        package var invocations: [InvocationRecord]

        package init(invocations: [InvocationRecord]) {
            self.invocations = invocations
        }
    }

    /// `GET /v1/events`.
    package struct Events: Sendable, Codable {
        package var events: [HostEvent]

        package init(events: [HostEvent]) {
            self.events = events
        }
    }
}

extension V1 {
    /// The answer to a deploy or a rollback: the revision now live and the one it replaced.
    package struct Deployed: Sendable, Codable, Equatable {
        package var function: String
        package var revision: String
        package var previousRevision: String?

        package init(function: String, revision: String, previousRevision: String?) {
            self.function = function
            self.revision = revision
            self.previousRevision = previousRevision
        }
    }

    /// `POST /v1/functions/{name}/rollback`: the revision to make live (default: the one before the live one).
    package struct Rollback: Sendable, Codable, Equatable {
        package var to: String?

        package init(to: String?) {
            self.to = to
        }
    }

    /// `stratus versions FN`: a deployed function's kept revisions, oldest first.
    package struct Versions: Sendable, Codable, Equatable {
        package struct Version: Sendable, Codable, Equatable {
            package var revision: String
            package var time: Date
            package var source: String
            package var live: Bool

            package init(revision: String, time: Date, source: String, live: Bool) {
                self.revision = revision
                self.time = time
                self.source = source
                self.live = live
            }
        }
        package var function: String
        package var versions: [Version]

        package init(function: String, versions: [Version]) {
            self.function = function
            self.versions = versions
        }
    }
}

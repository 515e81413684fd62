/// Every bound Stratus puts on values that come from outside (files, `/v1` requests, AWS clients), in one
/// place so that parsers, the API and the README agree. AWS's own limits where AWS has one.
package enum Limits {
    // MARK: Functions (`function.yaml`)

    /// `timeout`: Lambda's 1 ms (here) to 15 minutes.
    package static let timeout: ClosedRange<Duration> = .milliseconds(1) ... .seconds(900)
    /// `scaling.idle`: how long an idle worker is kept.
    package static let idle: ClosedRange<Duration> = .milliseconds(100) ... .seconds(86_400)
    /// `scaling.maxWait`: how long a caller may wait for a worker.
    package static let maxWait: ClosedRange<Duration> = .zero ... .seconds(900)
    /// `async.maxEventAge`: Lambda allows 60 s to 6 h; shorter ages are allowed here for tests.
    package static let maxEventAge: ClosedRange<Duration> = .seconds(1) ... .seconds(21_600)
    /// `async.retryBase` and `async.retryCap`.
    package static let retryDelay: ClosedRange<Duration> = .milliseconds(1) ... .seconds(3600)
    /// `circuitBreaker.cooldown`.
    package static let cooldown: ClosedRange<Duration> = .milliseconds(100) ... .seconds(86_400)
    /// `memory`, in MB: Lambda's 128 MB to 10,240 MB, and down to 16 MB here.
    package static let memoryMB: ClosedRange<Int> = 16...10240
    /// `scaling.min`: workers kept warm.
    package static let scalingMin: ClosedRange<Int> = 0...1000
    /// `scaling.max`: the pool's hard ceiling.
    package static let scalingMax: ClosedRange<Int> = 1...1000
    /// `scaling.reserved`: workers of the host-wide budget only this function may use.
    package static let reservedWorkers: ClosedRange<Int> = 0...1000
    /// `scaling.queue`: callers that may wait for a worker once the pool is at `max`.
    package static let waitingCallers: ClosedRange<Int> = 0...100_000
    /// `async.retries`.
    package static let asyncRetries: ClosedRange<Int> = 0...10
    /// `circuitBreaker.failureRate`, in percent.
    package static let failureRate: ClosedRange<Int> = 1...100
    /// `circuitBreaker.minimumCalls`.
    package static let minimumCalls: ClosedRange<Int> = 1...10_000
    /// `circuitBreaker.window`, in calls.
    package static let breakerWindow: ClosedRange<Int> = 1...10_000
    /// `circuitBreaker.halfOpenCalls`.
    package static let halfOpenCalls: ClosedRange<Int> = 1...1000
    /// `layers`: Lambda's 5.
    package static let layers = 5
    /// The characters in one `layers` entry.
    package static let layerPathLength = 1024

    // MARK: HTTP routes

    /// A route's `cors.maxAge`, in seconds: up to a day.
    package static let corsMaxAge: ClosedRange<Int> = 0...86_400

    // MARK: Queues (SQS)

    /// A queue's `visibilityTimeout`, and the timeout of a receive or a visibility change: SQS's 0 s to 12 h.
    package static let visibilityTimeout: ClosedRange<Duration> = .zero ... .seconds(43_200)
    /// A queue's `delay` and a message's delay: SQS's 0 s to 15 minutes.
    package static let messageDelay: ClosedRange<Duration> = .zero ... .seconds(900)
    /// A receive's long-poll `wait`: SQS's 0 s to 20 s.
    package static let receiveWait: ClosedRange<Duration> = .zero ... .seconds(20)
    /// A queue's `retention`: SQS's 60 s to 14 days.
    package static let retention: ClosedRange<Duration> = .seconds(60) ... .seconds(14 * 86_400)
    /// A queue's `maxReceiveCount`: SQS's 1 to 1000.
    package static let maxReceiveCount: ClosedRange<Int> = 1...1000
    /// Messages per receive: SQS's 1 to 10.
    package static let receiveMessages: ClosedRange<Int> = 1...10
    /// Message attributes per message: SQS's and SNS's 10.
    package static let messageAttributes = 10
    /// A consumer's `batchWindow`: Lambda's 0 to 300 s.
    package static let batchWindow: ClosedRange<Duration> = .zero ... .seconds(300)
    /// A consumer's `batchSize`: Lambda's 1 to 10,000 (above 10 only with a `batchWindow` of at least 1 s).
    package static let batchSize: ClosedRange<Int> = 1...10_000
    /// The largest `batchSize` that needs no `batchWindow`, as Lambda requires.
    package static let batchSizeWithoutWindow = 10
    /// The `batchWindow` a larger batch needs at least.
    package static let largeBatchWindow: Duration = .seconds(1)
    /// A consumer's `maxConcurrency`: batches in flight at once.
    package static let consumerConcurrency: ClosedRange<Int> = 1...1000
    /// A queue name's characters: SQS's 80.
    package static let queueNameLength = 80
    /// A topic name's characters: SNS's 256.
    package static let topicNameLength = 256
    /// Queues on one host.
    package static let queues = 1000
    /// Topics on one host.
    package static let topics = 1000
    /// Schedules of a project, and the length of their names (EventBridge Scheduler's 64).
    package static let schedules = 1000
    package static let scheduleNameLength = 64
    /// A topic's `archive:` retention: a minute to ten years.
    package static let archiveRetention: ClosedRange<Duration> = .seconds(60) ... .seconds(3650 * 86_400)
    /// Archived messages a replay delivers per transaction.
    package static let replayPage = 100
    /// Missed firings a schedule with `missed: all` delivers after the host was down.
    package static let missedFirings = 100
    /// Subscriptions of one topic.
    package static let subscriptionsPerTopic = 100

    // MARK: Payloads

    /// A synchronous invocation's payload and a function's response: Lambda's 6 MB.
    package static let syncPayloadBytes = 6 * 1024 * 1024
    /// What a runtime may post as a response or error: Lambda's 6,291,556 bytes.
    package static let responseBytes = 6_291_556
    /// An async (`Event`) invocation's payload: Lambda's 1 MB.
    package static let asyncPayloadBytes = 1_048_576
    /// A `stratus deploy` archive (an uncompressed tar): Lambda's 250 MB of unzipped code, and room for the
    /// tar headers.
    package static let deployArchiveBytes = 256 * 1024 * 1024
    /// The body of a `/v1` request that is not a payload.
    package static let requestBytes = 1_048_576 * 2
    /// The body of an SQS or SNS request: room for a 1 MiB message (or batch) however its protocol encodes it
    /// (JSON escapes and percent-encoding can take up to 6 bytes a character).
    package static let awsRequestBytes = 1_048_576 * 8

    // MARK: Logs

    /// Records per `/v1/logs` or `/v1/events` answer.
    package static let logPage: ClosedRange<Int> = 1...1000
    /// How far back `since` may reach.
    package static let logSince: ClosedRange<Duration> = .zero...DurationParser.maximum

    // MARK: Connections

    /// Connections each listener (gateway, control plane) holds open at once; more wait in the backlog.
    package static let connectionsPerListener = 1024
    /// An idle keep-alive connection is closed after this.
    package static let idleConnection: Duration = .seconds(60)
}

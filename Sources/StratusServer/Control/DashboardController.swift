import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime

/// The dashboard: `/` (the page), `/dashboard.js` (its script) and `/v1/dashboard` (what it plots: the last
/// 15 minutes of every function and queue, breakers and the latest host events). The page is compiled into
/// the binary and loads nothing else, so it works offline; recent invocations come from `/v1/logs`.
struct DashboardController {
    let host: StratusHost

    /// Nothing of the page may be framed or load from elsewhere.
    static let pageHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        .xContentTypeOptions: "nosniff",
        .referrerPolicy: "no-referrer",
        .cacheControl: "no-cache",
    ]

    /// Paths that serve the page itself (no data): they need no token (the page asks for it), and a link from
    /// another origin may open them.
    static let staticPaths: Set<String> = ["/", "/dashboard.js"]

    func register(on router: Router<ControlContext>) {
        router.get("/") { request, _ in
            // An AWS query-protocol call sent as GET: refused in the protocol's own shape (a GET could come from
            // any web page, so nothing answers one with an action), not with the dashboard.
            if request.uri.queryParameters["Action"] != nil {
                let sns = request.uri.queryParameters["Version"] == "2010-03-31"
                return XML.error(
                    namespace: sns ? SNSFacade.namespace : SQSFacade.namespace, status: .badRequest,
                    code: "InvalidRequest",
                    message:
                        "Stratus takes AWS query-protocol calls as POST only (form-encoded body), as botocore and the aws CLI send them",
                    requestId: RequestID.make())
            }
            return Self.asset(PackageResources.dashboard_html, type: "text/html; charset=utf-8")
        }
        router.get("/dashboard.js") { _, _ in
            Self.asset(PackageResources.dashboard_js, type: "text/javascript; charset=utf-8")
        }
        router.get("/v1/dashboard") { _, _ in try JSONBody.response(await snapshot()) }
    }

    private static func asset(_ bytes: [UInt8], type: String) -> Response {
        var headers = pageHeaders
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func snapshot() async throws -> Dashboard {
        let summaries = try await QueuesController.summaries(host)
        host.sampleTimeline(queues: Dictionary(summaries.map { ($0.name, $0.counts) }, uniquingKeysWith: { a, _ in a }))
        let window = host.log.timeline.window()
        let start = Date(timeIntervalSince1970: Double(window.first) * Double(Timeline.bucketSeconds))
        func rounded(_ ms: Double?) -> Double? { ms.map { ($0 * 100).rounded() / 100 } }
        let statuses = host.functionStatus()
        let functions = statuses.map { status in
            let buckets = window.functions[status.name] ?? []
            let all = DurationBins.merge(buckets)
            return Dashboard.Function(
                name: status.name, runtime: status.runtime, revision: status.revision, breaker: status.breaker,
                busy: status.busy, idle: status.idle, starting: status.starting, waiting: status.waiting,
                min: status.min, max: status.max,
                invocations: buckets.map(\.invocations), errors: buckets.map(\.errors),
                refused: buckets.map(\.refused), coldStarts: buckets.map(\.coldStarts),
                p50: buckets.map { rounded($0.percentile(0.5)) }, p99: buckets.map { rounded($0.percentile(0.99)) },
                workers: buckets.map(\.workers),
                total: .init(
                    invocations: buckets.reduce(0) { $0 + $1.invocations },
                    errors: buckets.reduce(0) { $0 + $1.errors },
                    refused: buckets.reduce(0) { $0 + $1.refused },
                    p50: rounded(DurationBins.percentile(0.5, of: all)),
                    p99: rounded(DurationBins.percentile(0.99, of: all))))
        }
        let queues = summaries.map { summary in
            let samples = window.queues[summary.name] ?? []
            return Dashboard.Queue(
                name: summary.name, visible: summary.counts.visible, inFlight: summary.counts.inFlight,
                delayed: summary.counts.delayed, deadLettered: summary.deadLettered,
                deadLetterQueue: summary.deadLetterQueue, consumer: summary.consumer,
                visibleSeries: samples.map { $0?.visible }, inFlightSeries: samples.map { $0?.inFlight })
        }
        // Breakers worth a look: not closed, or changed within the window.
        let breakers = statuses.filter { $0.breaker != "OFF" }.compactMap { status -> Dashboard.Breaker? in
            let transitions = window.transitions[status.name] ?? []
            guard status.breaker != "CLOSED" || !transitions.isEmpty else { return nil }
            return Dashboard.Breaker(
                function: status.name, state: status.breaker, nextProbe: status.nextProbe,
                transitions: transitions.map { .init(time: $0.time, kind: $0.kind.rawValue, message: $0.message) })
        }
        return Dashboard(
            now: Date(), start: start, bucketSeconds: Timeline.bucketSeconds, functions: functions, queues: queues,
            breakers: breakers, closedBreakers: statuses.filter { $0.breaker != "OFF" }.count - breakers.count,
            events: window.events.reversed().prefix(30).map {
                .init(time: $0.time, function: $0.function, kind: $0.kind.rawValue, message: $0.message)
            })
    }

    /// `GET /v1/dashboard`: series are one value per bucket, oldest first, starting at `start`.
    struct Dashboard: Encodable {
        struct Totals: Encodable {
            var invocations: Int
            var errors: Int
            var refused: Int
            var p50: Double?
            var p99: Double?
        }

        struct Function: Encodable {
            var name: String
            var runtime: String
            var revision: String
            var breaker: String
            var busy: Int
            var idle: Int
            var starting: Int
            var waiting: Int
            var min: Int
            var max: Int
            var invocations: [Int]
            var errors: [Int]
            var refused: [Int]
            var coldStarts: [Int]
            /// Milliseconds; `null` where nothing ended.
            var p50: [Double?]
            var p99: [Double?]
            /// `null` where not sampled.
            var workers: [Int?]
            var total: Totals
        }

        struct Queue: Encodable {
            var name: String
            var visible: Int
            var inFlight: Int
            var delayed: Int
            var deadLettered: Int?
            var deadLetterQueue: String?
            var consumer: String?
            var visibleSeries: [Int?]
            var inFlightSeries: [Int?]
        }

        struct Transition: Encodable {
            var time: Date
            var kind: String
            var message: String
        }

        struct Breaker: Encodable {
            var function: String
            var state: String
            var nextProbe: Date?
            var transitions: [Transition]
        }

        struct Event: Encodable {
            var time: Date
            var function: String
            var kind: String
            var message: String
        }

        var now: Date
        var start: Date
        var bucketSeconds: Int
        var functions: [Function]
        var queues: [Queue]
        /// Breakers not open and without a transition in the window, shown only as a count.
        var breakers: [Breaker]
        var closedBreakers: Int
        /// Newest first.
        var events: [Event]
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}

import Hummingbird
import StratusCore
import StratusRuntime

/// `/metrics` in Prometheus text format: pools, scaling, throttles, breakers and queue depths.
enum Metrics {
    static func register(on router: Router<ControlContext>, host: StratusHost) {
        router.get("/metrics") { _, _ in
            var text = ""
            func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, Int)]) {
                text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
                for (labels, value) in samples { text += "\(name){\(labels)} \(value)\n" }
            }
            let functions = host.functionStatus()
            func per(_ value: (V1.FunctionStatus) -> Int) -> [(String, Int)] {
                functions.map { ("function=\"\($0.name)\"", value($0)) }
            }
            metric("stratus_workers", "gauge", "Worker processes (starting, busy or idle).", per(\.workers))
            metric("stratus_workers_busy", "gauge", "Workers running an invocation.", per(\.busy))
            metric("stratus_callers_waiting", "gauge", "Callers waiting for a worker.", per(\.waiting))
            metric("stratus_cold_starts_total", "counter", "Workers started for an invocation.", per(\.coldStarts))
            metric("stratus_throttles_total", "counter", "Calls throttled at the pool ceiling.", per(\.throttles))
            metric("stratus_scale_ups_total", "counter", "Workers started.", per(\.scaleUps))
            metric("stratus_scale_downs_total", "counter", "Workers retired.", per(\.scaleDowns))
            metric(
                "stratus_workers_replaced_total", "counter",
                "Workers replaced after a crash, timeout or memory overrun.", per(\.replaced))
            metric(
                "stratus_breaker_open", "gauge", "1 while the function's circuit breaker is open or half-open.",
                per { $0.breaker == "OPEN" || $0.breaker == "HALF_OPEN" ? 1 : 0 })
            var depths: [(String, Int)] = []
            for queue in try await QueuesController.summaries(host) {
                depths.append(("queue=\"\(queue.name)\",state=\"visible\"", queue.counts.visible))
                depths.append(("queue=\"\(queue.name)\",state=\"in_flight\"", queue.counts.inFlight))
                depths.append(("queue=\"\(queue.name)\",state=\"delayed\"", queue.counts.delayed))
            }
            metric("stratus_queue_messages", "gauge", "Messages per queue and state.", depths)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}

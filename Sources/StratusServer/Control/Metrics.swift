import Hummingbird
import StratusCore
import StratusRuntime

/// `/metrics` in Prometheus's text format: the host's counters and histograms (`HostMetrics`), and gauges
/// read now: workers by state, callers waiting, breakers, queue depths, the host process.
enum Metrics {
    static func register(on router: Router<ControlContext>, host: StratusHost) {
        router.get("/metrics") { _, _ in
            var samples: [HostMetrics.Sample] = []
            for function in host.functionStatus() {
                let labels = [("function", function.name)]
                samples.append(("stratus_workers", labels + [("state", "busy")], Double(function.busy)))
                samples.append(("stratus_workers", labels + [("state", "idle")], Double(function.idle)))
                samples.append(("stratus_workers", labels + [("state", "starting")], Double(function.starting)))
                samples.append(("stratus_callers_waiting", labels, Double(function.waiting)))
                if function.breaker != "OFF" {
                    let state: Double = function.breaker == "OPEN" ? 2 : function.breaker == "HALF_OPEN" ? 1 : 0
                    samples.append(("stratus_breaker_state", labels, state))
                }
            }
            for queue in try await QueuesController.summaries(host) {
                let labels = [("queue", queue.name)]
                samples.append(
                    ("stratus_queue_messages", labels + [("state", "visible")], Double(queue.counts.visible)))
                samples.append(
                    ("stratus_queue_messages", labels + [("state", "in_flight")], Double(queue.counts.inFlight)))
                samples.append(
                    ("stratus_queue_messages", labels + [("state", "delayed")], Double(queue.counts.delayed)))
                if let deadLettered = queue.deadLettered {
                    samples.append(("stratus_queue_dead_lettered", labels, Double(deadLettered)))
                }
            }
            samples += HostMetrics.processSamples()
            let text = host.log.metrics.render(gauges: samples)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
}

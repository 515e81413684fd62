import CoreMetrics
import Foundation
import Prometheus
import StratusCore
import Synchronization

/// The host's metrics, served at `/metrics` in Prometheus's text format.
///
/// Counters and histograms are swift-metrics handles, fed where things happen: the invocation log (every
/// invocation and host event passes through it) and the delivery scheduler. Gauges (workers, queues,
/// breakers, the process) are read when `/metrics` is scraped. Each host has a registry of its own, so
/// that hosts in one process (tests) never mix; every family carries its HELP text, which swift-metrics'
/// own API has no place for (`DescribedFactory` adds it from `help`).
package final class HostMetrics: Sendable {
    package let registry = PrometheusCollectorRegistry()
    private let factory: DescribedFactory
    private let functions = Mutex<[String: FunctionHandles]>([:])
    private let others = Mutex<[String: CoreMetrics.Counter]>([:])
    /// Gauge series set at the last scrape, so that a series that disappeared (a removed function or queue)
    /// is removed too rather than frozen at its last value.
    private let gaugeSeries = Mutex<[String: CoreMetrics.Gauge]>([:])

    /// Lambda-like duration buckets, 1 ms to 15 minutes.
    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
        .seconds(600), .seconds(900),
    ]

    /// HELP text by family; a family missing here is a programming error caught by the tests.
    static let help: [String: String] = [
        "stratus_invocations_total":
            "Invocations by function and how they ended (ok, error, timeout, crashed, throttled, rejected).",
        "stratus_invocation_duration_seconds": "Time in the function (Lambda's Duration), by function.",
        "stratus_init_duration_seconds":
            "Time from starting a worker to its runtime's first request (Lambda's Init Duration).",
        "stratus_cold_starts_total": "Invocations that started a worker of their own.",
        "stratus_throttles_total":
            "Invocations refused because the function's pool was at its ceiling with its queue full.",
        "stratus_rejections_total": "Invocations refused by an open circuit breaker.",
        "stratus_host_events_total":
            "Host events by function and kind (SCALE_UP, SCALE_DOWN, REPLACED, BREAKER_OPEN, RELOADED, ...).",
        "stratus_deliveries_total": "Attempts of async invokes and topic deliveries by target kind and outcome.",
        "stratus_workers": "Worker processes by function and state (busy, idle, starting).",
        "stratus_callers_waiting": "Callers waiting for a worker, by function.",
        "stratus_breaker_state": "Circuit breaker state by function: 0 closed, 1 half-open, 2 open.",
        "stratus_queue_messages": "Messages by queue and state (visible, in_flight, delayed).",
        "stratus_queue_dead_lettered": "Messages of a queue now in its dead-letter queue, by queue.",
        "stratus_process_resident_memory_bytes": "Resident memory of the host process.",
        "stratus_process_open_fds": "Open file descriptors of the host process.",
    ]

    private struct FunctionHandles {
        var invocations: [InvocationRecord.Status: CoreMetrics.Counter]
        var duration: CoreMetrics.Timer
        var initDuration: CoreMetrics.Timer
        var coldStarts: CoreMetrics.Counter
        var throttles: CoreMetrics.Counter
        var rejections: CoreMetrics.Counter
    }

    package init() {
        factory = DescribedFactory(registry: registry)
    }

    // MARK: Where things happen

    /// One invocation ended (called by the invocation log for every record).
    package func note(_ record: InvocationRecord) {
        let handles = handles(for: record.function)
        handles.invocations[record.status]?.increment()
        switch record.status {
        case .throttled:
            handles.throttles.increment()
            return
        case .rejected:
            handles.rejections.increment()
            return
        default: break
        }
        handles.duration.recordNanoseconds(Self.nanoseconds(record.durationMs))
        if let initDurationMs = record.initDurationMs {
            handles.coldStarts.increment()
            handles.initDuration.recordNanoseconds(Self.nanoseconds(initDurationMs))
        }
    }

    /// A host event was recorded.
    package func note(_ event: HostEvent) {
        counter("stratus_host_events_total", [("function", event.function), ("kind", event.kind.rawValue)])
            .increment()
    }

    /// An attempt of an async invoke or a topic delivery ended: `delivered`, `retried`, `dead_lettered`, `dropped`.
    package func delivery(to kind: String, outcome: String) {
        counter("stratus_deliveries_total", [("target", kind), ("outcome", outcome)]).increment()
    }

    private static func nanoseconds(_ ms: Double) -> Int64 {
        guard ms.isFinite, ms > 0 else { return 0 }
        return ms >= 9e12 ? Int64.max : Int64(ms * 1_000_000)
    }

    private func counter(_ name: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        let key = name + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        if let counter = others.withLock({ $0[key] }) { return counter }
        let counter = CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
        others.withLock { $0[key] = counter }
        return counter
    }

    private func handles(for function: String) -> FunctionHandles {
        if let handles = functions.withLock({ $0[function] }) { return handles }
        let labels = [("function", function)]
        var invocations: [InvocationRecord.Status: CoreMetrics.Counter] = [:]
        for status in InvocationRecord.Status.allCases {
            invocations[status] = CoreMetrics.Counter(
                label: "stratus_invocations_total", dimensions: labels + [("status", status.rawValue)], factory: factory
            )
        }
        let handles = FunctionHandles(
            invocations: invocations,
            duration: CoreMetrics.Timer(
                label: "stratus_invocation_duration_seconds", dimensions: labels, factory: factory),
            initDuration: CoreMetrics.Timer(
                label: "stratus_init_duration_seconds", dimensions: labels, factory: factory),
            coldStarts: CoreMetrics.Counter(label: "stratus_cold_starts_total", dimensions: labels, factory: factory),
            throttles: CoreMetrics.Counter(label: "stratus_throttles_total", dimensions: labels, factory: factory),
            rejections: CoreMetrics.Counter(label: "stratus_rejections_total", dimensions: labels, factory: factory))
        return functions.withLock { functions in
            if let existing = functions[function] { return existing }
            functions[function] = handles
            return handles
        }
    }

    // MARK: Read at scrape time

    /// One gauge sample: family, labels, value.
    package typealias Sample = (name: String, labels: [(String, String)], value: Double)

    /// Sets the gauges to `samples` (and removes series that are not among them), then renders every family.
    package func render(gauges samples: [Sample]) -> [UInt8] {
        var current: [String: CoreMetrics.Gauge] = [:]
        for sample in samples {
            let key = sample.name + sample.labels.map { "|\($0.0)=\($0.1)" }.joined()
            let gauge =
                gaugeSeries.withLock { $0[key] }
                ?? CoreMetrics.Gauge(label: sample.name, dimensions: sample.labels, factory: factory)
            gauge.record(sample.value)
            current[key] = gauge
        }
        let gone = gaugeSeries.withLock { series in
            defer { series = current }
            return series.filter { current[$0.key] == nil }.map(\.value)
        }
        for gauge in gone { gauge.destroy() }
        return registry.emitToBuffer()
    }

    /// The host process's resident memory and open descriptors, from `/proc/self` (nothing elsewhere).
    package static func processSamples() -> [Sample] {
        var samples: [Sample] = []
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        {
            samples.append(("stratus_process_resident_memory_bytes", [], pages * Double(sysconf(Int32(_SC_PAGESIZE)))))
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            samples.append(("stratus_process_open_fds", [], Double(descriptors.count)))
        }
        return samples
    }
}

/// swift-metrics handles made on a Prometheus registry, with each family's HELP text (`HostMetrics.help`)
/// and Lambda-like duration buckets.
struct DescribedFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    /// The family `label` with its HELP text.
    private func family(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: HostMetrics.help[label] ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: family(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: family(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: family(label), labels: dimensions) }
        return registry.makeValueHistogram(
            descriptor: family(label), labels: dimensions, buckets: [0.001, 0.01, 0.1, 1, 10, 100, 1000])
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: family(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: family(label), labels: dimensions, buckets: HostMetrics.durationBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}

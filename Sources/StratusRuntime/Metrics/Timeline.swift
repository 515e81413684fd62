import Foundation
import StratusCore
import Synchronization

/// The last 15 minutes of the host in 10-second buckets, for the dashboard: per function the invocations,
/// errors, throttles and a duration histogram (fed by the invocation log as records arrive), workers and
/// queue depths (sampled, see `TimelineSampler`), and the latest host events. Memory only: the history
/// starts when the host does.
package final class Timeline: Sendable {
    package static let bucketSeconds = 10
    package static let bucketCount = 90
    /// Host events kept for the dashboard.
    static let eventCount = 100

    /// One function's 10 seconds.
    package struct FunctionBucket: Sendable, Equatable {
        package var invocations = 0
        /// Ended in `error`, `timeout` or `crashed`.
        package var errors = 0
        /// Refused: `throttled` or `rejected` by a breaker.
        package var refused = 0
        package var coldStarts = 0
        /// Most workers seen (starting, busy or idle); `nil` when none was sampled in these 10 seconds.
        package var workers: Int?
        /// Counts by duration bin (`DurationBins`); empty until an invocation ends.
        var durations: [UInt32] = []

        package func percentile(_ fraction: Double) -> Double? { DurationBins.percentile(fraction, of: durations) }
    }

    /// One queue's depth at the last sample of its 10 seconds.
    package struct QueueSample: Sendable, Equatable {
        package var visible: Int
        package var inFlight: Int
        package var delayed: Int

        package init(visible: Int, inFlight: Int, delayed: Int) {
            self.visible = visible
            self.inFlight = inFlight
            self.delayed = delayed
        }
    }

    /// A ring of buckets addressed by their absolute index (seconds since 1970 ÷ 10).
    struct Ring<Value: Sendable>: Sendable {
        private var slots: [(index: Int64, value: Value)?] = Array(repeating: nil, count: Timeline.bucketCount)

        subscript(index: Int64) -> Value? {
            get {
                guard let slot = slots[Self.slot(index)], slot.index == index else { return nil }
                return slot.value
            }
            set { slots[Self.slot(index)] = newValue.map { (index, $0) } }
        }

        /// The newest index that holds a value.
        var newest: Int64? { slots.compactMap { $0?.index }.max() }

        private static func slot(_ index: Int64) -> Int {
            Int(((index % Int64(Timeline.bucketCount)) + Int64(Timeline.bucketCount)) % Int64(Timeline.bucketCount))
        }
    }

    private struct State {
        var functions: [String: Ring<FunctionBucket>] = [:]
        var queues: [String: Ring<QueueSample>] = [:]
        /// The last sample of each queue, carried into buckets that were not sampled (nothing changed).
        var lastQueueSample: [String: QueueSample] = [:]
        var events: [HostEvent] = []
        /// Breaker transitions by function, kept apart so that other events do not push them out.
        var transitions: [String: [HostEvent]] = [:]
    }

    static let breakerKinds: Set<HostEvent.Kind> = [.breakerOpen, .breakerHalfOpen, .breakerClosed]
    /// Transitions kept per function.
    static let transitionCount = 50

    private let state = Mutex(State())

    package init() {}

    /// The bucket of `date`.
    package static func index(of date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int64(seconds) / Int64(bucketSeconds)
    }

    /// An invocation ended now.
    package func note(_ record: InvocationRecord, at date: Date = Date()) {
        let index = Self.index(of: date)
        let bin = DurationBins.bin(record.durationMs)
        state.withLock { state in
            var bucket = state.functions[record.function, default: Ring()][index] ?? FunctionBucket()
            switch record.status {
            case .throttled, .rejected:
                bucket.refused += 1
            case .ok, .error, .timeout, .crashed:
                bucket.invocations += 1
                if record.status != .ok { bucket.errors += 1 }
                if record.initDurationMs != nil { bucket.coldStarts += 1 }
                if bucket.durations.isEmpty { bucket.durations = Array(repeating: 0, count: DurationBins.count) }
                bucket.durations[bin] &+= 1
            }
            state.functions[record.function, default: Ring()][index] = bucket
        }
    }

    /// A host event was recorded.
    package func note(_ event: HostEvent) {
        state.withLock { state in
            state.events.append(event)
            if state.events.count > Self.eventCount { state.events.removeFirst(state.events.count - Self.eventCount) }
            if Self.breakerKinds.contains(event.kind) {
                state.transitions[event.function, default: []].append(event)
                if state.transitions[event.function]!.count > Self.transitionCount {
                    state.transitions[event.function]!.removeFirst()
                }
            }
        }
    }

    /// Workers by function and queue depths now.
    package func sample(workers: [String: Int], queues: [String: QueueSample], at date: Date = Date()) {
        let index = Self.index(of: date)
        state.withLock { state in
            for (function, count) in workers {
                var bucket = state.functions[function, default: Ring()][index] ?? FunctionBucket()
                bucket.workers = max(bucket.workers ?? 0, count)
                state.functions[function, default: Ring()][index] = bucket
            }
            for (queue, sample) in queues {
                state.queues[queue, default: Ring()][index] = sample
                state.lastQueueSample[queue] = sample
            }
            // What no longer exists and has left the window is forgotten.
            let oldest = index - Int64(Self.bucketCount)
            state.functions = state.functions.filter { workers[$0.key] != nil || ($0.value.newest ?? 0) > oldest }
            state.queues = state.queues.filter { queues[$0.key] != nil || ($0.value.newest ?? 0) > oldest }
            state.lastQueueSample = state.lastQueueSample.filter { queues[$0.key] != nil }
        }
    }

    /// The window ending at `date`: oldest bucket first.
    package struct Window: Sendable {
        /// Index of the first bucket (× `bucketSeconds` = its start in seconds since 1970).
        package var first: Int64
        package var functions: [String: [FunctionBucket]]
        /// Depth per bucket; a bucket that was not sampled repeats the sample before it (`nil` before any).
        package var queues: [String: [QueueSample?]]
        /// Within the window, newest last.
        package var events: [HostEvent]
        /// Breaker transitions within the window by function, newest last.
        package var transitions: [String: [HostEvent]]
    }

    package func window(endingAt date: Date = Date()) -> Window {
        let last = Self.index(of: date)
        let first = last - Int64(Self.bucketCount) + 1
        return state.withLock { state in
            var functions: [String: [FunctionBucket]] = [:]
            for (name, ring) in state.functions {
                functions[name] = (first...last).map { ring[$0] ?? FunctionBucket() }
            }
            var queues: [String: [QueueSample?]] = [:]
            for (name, ring) in state.queues {
                var carried: QueueSample?
                queues[name] = (first...last).map { index in
                    if let sample = ring[index] { carried = sample }
                    return carried
                }
                // Never sampled within the window, but known: it has not changed since.
                if carried == nil, let known = state.lastQueueSample[name] {
                    queues[name] = Array(repeating: known, count: Self.bucketCount)
                }
            }
            let start = Date(timeIntervalSince1970: Double(first) * Double(Self.bucketSeconds))
            return Window(
                first: first, functions: functions, queues: queues, events: state.events.filter { $0.time >= start },
                transitions: state.transitions.mapValues { $0.filter { $0.time >= start } }.filter { !$0.value.isEmpty }
            )
        }
    }
}

/// Durations in logarithmic bins, four per doubling from 0.1 ms (so a percentile read from them is within
/// 10 % of the true one) up to beyond 15 minutes.
package enum DurationBins {
    static let count = 100
    static let base = 0.1

    static func bin(_ ms: Double) -> Int {
        guard ms.isFinite, ms > base else { return 0 }
        let bin = (4 * log2(ms / base)).rounded(.down)
        return bin >= Double(count - 1) ? count - 1 : Int(bin)
    }

    /// The middle of `bin` in milliseconds.
    static func value(_ bin: Int) -> Double { base * exp2((Double(bin) + 0.5) / 4) }

    /// The `fraction` percentile (0.5, 0.99) of the counts, or `nil` when there are none.
    package static func percentile(_ fraction: Double, of counts: [UInt32]) -> Double? {
        let total = counts.reduce(0) { $0 + Int($1) }
        guard total > 0 else { return nil }
        let target = max(1, Int((Double(total) * fraction).rounded(.up)))
        var seen = 0
        for (bin, count) in counts.enumerated() {
            seen += Int(count)
            if seen >= target { return value(bin) }
        }
        return value(count - 1)
    }

    /// Counts of several buckets added up.
    package static func merge(_ buckets: [Timeline.FunctionBucket]) -> [UInt32] {
        var counts = Array(repeating: UInt32(0), count: count)
        for bucket in buckets where !bucket.durations.isEmpty {
            for bin in 0..<count { counts[bin] &+= bucket.durations[bin] }
        }
        return counts
    }
}

import Foundation
import StratusCore
import Testing

@testable import StratusRuntime

/// The dashboard's 15 minutes: buckets, percentiles, sampled gauges and what is forgotten.
@Suite struct TimelineTests {
    /// A moment at the start of a bucket, far from 1970.
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func record(_ function: String, ms: Double, status: InvocationRecord.Status = .ok, cold: Bool = false)
        -> InvocationRecord
    {
        InvocationRecord(
            id: RequestID.make(), function: function, trigger: .http, start: t0, durationMs: ms,
            initDurationMs: cold ? 50 : nil, status: status, memorySizeMB: 128, maxMemoryUsedMB: 20, output: "")
    }

    @Test func invocationsAreCountedInTheBucketTheyEndedIn() {
        let timeline = Timeline()
        timeline.note(record("a", ms: 3), at: t0)
        timeline.note(record("a", ms: 3, status: .error, cold: true), at: t0.addingTimeInterval(9.9))
        timeline.note(record("a", ms: 3, status: .throttled), at: t0.addingTimeInterval(10))
        timeline.note(record("a", ms: 3, status: .timeout), at: t0.addingTimeInterval(10))
        let window = timeline.window(endingAt: t0.addingTimeInterval(10))
        let buckets = window.functions["a"]!
        #expect(buckets.count == Timeline.bucketCount)
        #expect(window.first == Timeline.index(of: t0) - Int64(Timeline.bucketCount) + 2)
        let (previous, current) = (buckets[buckets.count - 2], buckets[buckets.count - 1])
        #expect(previous.invocations == 2 && previous.errors == 1 && previous.coldStarts == 1 && previous.refused == 0)
        #expect(current.invocations == 1 && current.errors == 1 && current.refused == 1)
        #expect(buckets.dropLast(2).allSatisfy { $0 == Timeline.FunctionBucket() })
    }

    @Test func bucketsOlderThan15MinutesLeaveTheWindowAndTheRingReusesTheirSlots() {
        let timeline = Timeline()
        timeline.note(record("a", ms: 1), at: t0)
        // 90 buckets later the same slot of the ring holds a new bucket: the old count is not added to it.
        let later = t0.addingTimeInterval(Double(Timeline.bucketSeconds * Timeline.bucketCount))
        #expect(timeline.window(endingAt: later).functions["a"]!.allSatisfy { $0.invocations == 0 })
        timeline.note(record("a", ms: 1), at: later)
        #expect(timeline.window(endingAt: later).functions["a"]!.last!.invocations == 1)
        #expect(timeline.window(endingAt: t0).functions["a"]!.last!.invocations == 0, "the old bucket is gone")
    }

    @Test func percentilesAreWithinTenPercent() {
        let timeline = Timeline()
        for ms in 1...100 { timeline.note(record("a", ms: Double(ms)), at: t0) }
        let bucket = timeline.window(endingAt: t0).functions["a"]!.last!
        let p50 = bucket.percentile(0.5)!
        let p99 = bucket.percentile(0.99)!
        #expect(abs(p50 - 50) / 50 < 0.1, "p50 \(p50)")
        #expect(abs(p99 - 99) / 99 < 0.1, "p99 \(p99)")
        #expect(Timeline.FunctionBucket().percentile(0.5) == nil)
    }

    @Test(arguments: [-1, 0, 0.01, .nan, .infinity, -.infinity, 1e300, 15 * 60_000])
    func anyDurationFallsInABin(ms: Double) {
        let bin = DurationBins.bin(ms)
        #expect((0..<DurationBins.count).contains(bin))
    }

    @Test func workersAreTheMostSeenInABucketAndQueueDepthsAreCarriedForward() {
        let timeline = Timeline()
        let sample = Timeline.QueueSample(visible: 7, inFlight: 2, delayed: 0)
        timeline.sample(workers: ["a": 3], queues: ["q": sample], at: t0)
        timeline.sample(workers: ["a": 1], queues: [:], at: t0.addingTimeInterval(1))
        let end = t0.addingTimeInterval(30)
        let window = timeline.window(endingAt: end)
        let workers = window.functions["a"]!.map(\.workers)
        #expect(workers[workers.count - 4] == 3)
        #expect(workers.suffix(3).allSatisfy { $0 == nil }, "not sampled: unknown, not zero")
        let depths = window.queues["q"]!
        #expect(depths.suffix(4).allSatisfy { $0 == sample }, "nothing was written: the depth is unchanged")
        #expect(depths.first! == nil, "before the first sample: unknown")
    }

    @Test func aQueueLastSampledBeforeTheWindowKeepsItsDepth() {
        let timeline = Timeline()
        let sample = Timeline.QueueSample(visible: 4, inFlight: 0, delayed: 1)
        timeline.sample(workers: [:], queues: ["q": sample], at: t0)
        let later = t0.addingTimeInterval(3600)
        #expect(timeline.window(endingAt: later).queues["q"] == Array(repeating: sample, count: Timeline.bucketCount))
    }

    @Test func removedFunctionsAndQueuesAreForgottenOnceOutOfTheWindow() {
        let timeline = Timeline()
        timeline.note(record("gone", ms: 1), at: t0)
        timeline.sample(workers: ["gone": 1], queues: ["old": .init(visible: 1, inFlight: 0, delayed: 0)], at: t0)
        timeline.sample(workers: [:], queues: [:], at: t0.addingTimeInterval(60))
        #expect(timeline.window(endingAt: t0.addingTimeInterval(60)).functions["gone"] != nil, "still in the window")
        let later = t0.addingTimeInterval(Double(Timeline.bucketSeconds * (Timeline.bucketCount + 1)))
        timeline.sample(workers: ["new": 0], queues: [:], at: later)
        let window = timeline.window(endingAt: later)
        #expect(window.functions["gone"] == nil && window.queues["old"] == nil)
        #expect(window.functions["new"] != nil)
    }

    @Test func theLatestEventsAreKept() {
        let timeline = Timeline()
        for n in 0..<(Timeline.eventCount + 5) {
            timeline.note(HostEvent(function: "a", kind: .scaleUp, message: "\(n)"))
        }
        let events = timeline.window().events
        #expect(events.count == Timeline.eventCount)
        #expect(events.first?.message == "5" && events.last?.message == "\(Timeline.eventCount + 4)")
    }

    @Test func breakerTransitionsAreKeptApartAndOnlyThoseOfTheWindowShown() {
        let timeline = Timeline()
        let now = Date()
        timeline.note(HostEvent(time: now.addingTimeInterval(-1000), function: "a", kind: .breakerOpen, message: "old"))
        timeline.note(HostEvent(time: now.addingTimeInterval(-10), function: "a", kind: .breakerOpen, message: "new"))
        for n in 0..<(Timeline.eventCount * 2) {
            timeline.note(HostEvent(time: now, function: "b", kind: .scaleUp, message: "\(n)"))
        }
        let window = timeline.window(endingAt: now)
        #expect(window.transitions["a"]?.map(\.message) == ["new"], "older than 15 minutes: out; pushed out: no")
        #expect(window.events.allSatisfy { $0.function == "b" })
    }

    /// The sampler's wake-up: without it, this test would wait for the hour-long timeout (and hit its limit).
    @Test(.timeLimit(.minutes(1))) func aWaiterOnAnyNameWakesOnEveryNotify() async {
        let signal = QueueSignal()
        let generation = signal.generation(QueueSignal.anyName)
        async let woken: Void = signal.wait(QueueSignal.anyName, since: generation, timeout: .seconds(3600))
        try? await Task.sleep(for: .milliseconds(50))
        signal.notify("orders")
        await woken
        #expect(signal.generation(QueueSignal.anyName) == generation + 1)
    }
}

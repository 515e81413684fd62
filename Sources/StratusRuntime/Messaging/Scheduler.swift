import Foundation
import Logging
import StratusCore
import StratusStore
import Synchronization

/// Fires the project's schedules (`schedules:` in `triggers/*.yaml`).
///
/// A firing is an async invocation: its delivery is committed together with the schedule's new state (the
/// next run) in one transaction, then the delivery scheduler runs it with the function's retries,
/// `onFailure` and breaker. A host killed at any moment therefore neither loses a firing nor repeats one:
/// either both were written or neither. Firings that fell before the host started, or more than a minute
/// late while it ran (held up or asleep), are missed, and handled by the schedule's `missed` policy. Between firings nothing runs: the loop sleeps on
/// a timer until the earliest next run, or until the schedules change.
final class Scheduler: Sendable {
    /// One schedule as `stratus schedules` shows it.
    struct Status: Sendable {
        var schedule: ScheduleConfig
        var nextMs: Int64?
        var lastMs: Int64?
        var lastEventId: String?
    }

    /// How late a firing may be and still count as on time: EventBridge's precision.
    static let lateness: Int64 = 60_000
    /// On-time firings delivered in one pass at most (a rate in seconds after the loop was held up).
    static let maxOnTime = 100

    private struct State {
        var schedules: [ScheduleConfig] = []
        var states: [String: ScheduleState] = [:]
        var loaded = false
    }

    private let queues: QueueService
    private let log: InvocationLog
    private let logger: Logger
    private let state = Mutex(State())
    private let changes: QueueSignal
    private static let key = "schedules"
    /// When this host started: firings before it fell while no host ran.
    private let startedMs: Int64

    init(queues: QueueService, log: InvocationLog, logger: Logger) {
        self.queues = queues
        self.log = log
        self.logger = logger
        changes = QueueSignal(clock: queues.clock)
        startedMs = queues.nowMs
    }

    /// The schedules to run from now on (at start and on every reload).
    func update(_ schedules: [ScheduleConfig]) {
        state.withLock { $0.schedules = schedules }
        changes.notify(Self.key)
    }

    func status() -> [Status] {
        state.withLock { state in
            state.schedules.map { schedule in
                let stored = state.states[schedule.name].flatMap { $0.fingerprint == schedule.fingerprint ? $0 : nil }
                return Status(
                    schedule: schedule, nextMs: stored?.nextMs, lastMs: state.states[schedule.name]?.lastMs,
                    lastEventId: state.states[schedule.name]?.lastEventId)
            }
        }
    }

    func run() async {
        while !Task.isCancelled {
            let generation = changes.generation(Self.key)
            let wait: Duration
            do {
                wait = try await pass()
            } catch {
                logger.warning("schedules: \(error); retrying in 1s")
                wait = .seconds(1)
            }
            await changes.wait(Self.key, since: generation, timeout: wait)
        }
    }

    /// Fires what is due; returns how long until the next run.
    private func pass() async throws -> Duration {
        if !state.withLock({ $0.loaded }) {
            let stored = try await queues.store.scheduleStates()
            state.withLock { state in
                state.states = Dictionary(stored.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                state.loaded = true
            }
        }
        let nowMs = queues.nowMs
        let (schedules, states) = state.withLock { ($0.schedules, $0.states) }
        // New and changed schedules start afresh: a rate at once (as EventBridge Scheduler without a start date),
        // a cron at its next time. Those no longer declared are forgotten.
        var fresh: [ScheduleState] = []
        var current = states
        for schedule in schedules where states[schedule.name]?.fingerprint != schedule.fingerprint {
            let next: Int64? =
                if case .rate = schedule.expression.kind { nowMs } else { after(nowMs, schedule, anchorMs: nowMs) }
            var started = ScheduleState(
                name: schedule.name, fingerprint: schedule.fingerprint, anchorMs: nowMs, nextMs: next)
            started.lastMs = states[schedule.name]?.lastMs
            started.lastEventId = states[schedule.name]?.lastEventId
            fresh.append(started)
            current[schedule.name] = started
        }
        let names = Set(schedules.map(\.name))
        if !fresh.isEmpty || current.keys.contains(where: { !names.contains($0) }) {
            try await queues.store.putScheduleStates(fresh, keepingOnly: names)
            current = current.filter { names.contains($0.key) }
            state.withLock { $0.states = current }
        }

        var earliest: Int64?
        for schedule in schedules {
            guard var stored = current[schedule.name] else { continue }
            if let next = stored.nextMs, next <= nowMs {
                stored = try await fire(schedule, stored, nowMs: nowMs)
            }
            if let next = stored.nextMs { earliest = min(earliest ?? next, next) }
        }
        guard let earliest else { return .seconds(86_400) }
        return .milliseconds(max(1, min(earliest - nowMs, 86_400_000)))
    }

    /// Commits the due firings of `schedule` with its new state; returns that state.
    private func fire(_ schedule: ScheduleConfig, _ stored: ScheduleState, nowMs: Int64) async throws
        -> ScheduleState
    {
        // Missed: before this host started (no host ran), or more than a minute late (it was held up or asleep).
        let late = max(nowMs - Self.lateness, startedMs)
        var missed: [Int64] = []
        var missedCount = 0
        var onTime: [Int64] = []
        var cursor = stored.nextMs
        while let time = cursor, time <= nowMs {
            if time < late {
                missedCount += 1
                if missed.count < Limits.missedFirings {
                    missed.append(time)
                    cursor = after(time, schedule, stored)
                } else {
                    // Enough counted (the count is now a lower bound): on to the first time that is not late.
                    cursor = after(late - 1, schedule, stored)
                }
            } else {
                onTime.append(time)
                cursor = onTime.count >= Self.maxOnTime ? after(nowMs, schedule, stored) : after(time, schedule, stored)
            }
        }
        let delivered: [Int64]
        switch schedule.missed {
        case .skip: delivered = onTime
        case .once: delivered = Array(missed.prefix(1)) + onTime
        case .all: delivered = missed + onTime
        }
        var next = stored
        next.nextMs = cursor
        var writes: [FanOut] = []
        for time in delivered {
            let eventId = RequestID.make()
            let event = schedule.event(id: eventId, time: Date(timeIntervalSince1970: Double(time) / 1000))
            writes.append(
                .delivery(
                    PendingDelivery(
                        source: .asyncInvoke(eventId: eventId), target: .function(schedule.function), payload: event,
                        nextAttemptAtMs: nowMs, createdAtMs: nowMs)))
            next.lastMs = time
            next.lastEventId = eventId
        }
        writes.append(.schedule(next))
        try await queues.commit(writes)
        state.withLock { $0.states[schedule.name] = next }
        if missedCount > 0 {
            let counted = missedCount > Limits.missedFirings ? "more than \(Limits.missedFirings)" : "\(missedCount)"
            let what =
                switch schedule.missed {
                case .skip: "skipped (missed: skip)"
                case .once: "the first delivered once (missed: once)"
                case .all: "\(min(missed.count, missedCount)) delivered, oldest first (missed: all)"
                }
            let from = Self.format(missed.first ?? late)
            log.record(
                event: HostEvent(
                    function: schedule.function, kind: .scheduleMissed,
                    message: "schedule \(schedule.name): \(counted) firings from \(from) were missed; \(what)"))
        }
        return next
    }

    private func after(_ ms: Int64, _ schedule: ScheduleConfig, _ state: ScheduleState) -> Int64? {
        after(ms, schedule, anchorMs: state.anchorMs)
    }

    private func after(_ ms: Int64, _ schedule: ScheduleConfig, anchorMs: Int64) -> Int64? {
        // Rates in whole milliseconds: floating point could give back `ms` itself far from the anchor.
        if case .rate(let seconds) = schedule.expression.kind {
            let interval = seconds.multipliedReportingOverflow(by: 1000)
            guard !interval.overflow, interval.partialValue > 0 else { return nil }
            guard ms >= anchorMs else { return anchorMs }
            let steps = (ms - anchorMs) / interval.partialValue + 1
            let next = steps.multipliedReportingOverflow(by: interval.partialValue)
            guard !next.overflow else { return nil }
            let (result, overflow) = anchorMs.addingReportingOverflow(next.partialValue)
            return overflow ? nil : result
        }
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let anchor = Date(timeIntervalSince1970: Double(anchorMs) / 1000)
        return schedule.expression.next(after: date, anchor: anchor, in: schedule.zone).map {
            Int64(($0.timeIntervalSince1970 * 1000).rounded())
        }
    }

    private static func format(_ ms: Int64) -> String {
        Date(timeIntervalSince1970: Double(ms) / 1000).formatted(.iso8601)
    }
}

import Foundation

/// Time as the host reads it: a monotonic instant for pools, breakers and waits; epoch milliseconds for what
/// is stored; and one-shot timers. Injected everywhere (as postgres-nio's pool takes its `Clock`), so that
/// tests drive time by hand with `ManualClock` instead of sleeping.
package protocol HostClock: Sendable {
    /// Monotonic now.
    var now: ContinuousClock.Instant { get }
    /// Wall-clock now, in milliseconds since 1970.
    var epochMs: Int64 { get }
    /// Suspends until `deadline`; throws `CancellationError` when the task is cancelled first.
    func sleep(until deadline: ContinuousClock.Instant) async throws
    /// Runs `work` once, `delay` from now, unless cancelled first.
    func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) -> any ScheduledWork
}

/// A timer set with `HostClock.schedule`.
package protocol ScheduledWork: Sendable {
    func cancel()
}

extension HostClock {
    /// Wall-clock now.
    package var date: Date { Date(timeIntervalSince1970: Double(epochMs) / 1000) }

    /// Suspends for `duration`.
    package func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }
}

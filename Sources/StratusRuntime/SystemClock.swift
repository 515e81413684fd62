import Foundation
import NIOCore
import NIOPosix
import StratusCore

/// The real clock: `ContinuousClock` and `Date`, timers on SwiftNIO's event loops (cancelling one frees it at
/// once, where a cancelled `Task.sleep` keeps its memory until its deadline on Linux).
package struct SystemClock: HostClock {
    package init() {}

    package var now: ContinuousClock.Instant { .now }

    package var epochMs: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    package func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, clock: .continuous)
    }

    package func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) -> any ScheduledWork {
        let (seconds, attoseconds) = max(delay, .zero).components
        let nanoseconds = min(seconds, 86_400 * 365) * 1_000_000_000 + attoseconds / 1_000_000_000
        return Timer(
            scheduled: MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(nanoseconds), work))
    }

    private struct Timer: ScheduledWork {
        let scheduled: Scheduled<Void>
        func cancel() { scheduled.cancel() }
    }
}

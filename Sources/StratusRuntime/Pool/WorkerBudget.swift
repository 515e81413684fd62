import Foundation
import NIOCore
import Synchronization

/// The host-wide cap on workers (`stratus serve --max-workers`), with per-function reservations, so
/// that no function can starve the others: a function may always grow into its reserved share, and
/// all functions share what is left.
package final class WorkerBudget: Sendable {
    private struct State {
        var used: [String: Int] = [:]
        var reserved: [String: Int] = [:]
    }

    package let limit: Int
    private let state = Mutex(State())
    /// Called whenever slots come free, so pools waiting for budget look again (no polling).
    private let listeners = Mutex<(next: Int, all: [Int: @Sendable () -> Void])>((0, [:]))

    package init(limit: Int) {
        self.limit = limit
    }

    /// A default from the machine: 16 workers per core, at most one per 128 MB of memory.
    package static var machineDefault: Int {
        let cores = System.coreCount
        let memoryMB = Int(ProcessInfo.processInfo.physicalMemory / (1024 * 1024))
        return max(4, min(cores * 16, memoryMB / 128))
    }

    package func reserve(_ count: Int, for function: String) {
        state.withLock { $0.reserved[function] = count }
    }

    /// How many more workers `function` may start now.
    package func available(for function: String) -> Int {
        state.withLock { Self.available(for: function, in: $0, limit: limit) }
    }

    /// Takes one worker slot for `function`, if the budget allows.
    package func take(for function: String) -> Bool {
        state.withLock { state in
            guard Self.available(for: function, in: state, limit: limit) > 0 else { return false }
            state.used[function, default: 0] += 1
            return true
        }
    }

    /// Takes a slot the state machine already committed to (a replacement or a queued caller's start).
    package func forceTake(for function: String) {
        state.withLock { $0.used[function, default: 0] += 1 }
    }

    package func give(for function: String, count: Int = 1) {
        guard count > 0 else { return }
        state.withLock { $0.used[function, default: 0] = max(0, ($0.used[function] ?? 0) - count) }
        for listener in listeners.withLock({ Array($0.all.values) }) { listener() }
    }

    /// Calls `listener` every time slots come free, until `removeListener` with the returned token.
    @discardableResult
    package func onRelease(_ listener: @escaping @Sendable () -> Void) -> Int {
        listeners.withLock { listeners in
            listeners.next += 1
            listeners.all[listeners.next] = listener
            return listeners.next
        }
    }

    /// Stops calling a listener (a pool that retired or stopped).
    package func removeListener(_ token: Int) {
        _ = listeners.withLock { $0.all.removeValue(forKey: token) }
    }

    private static func available(for function: String, in state: State, limit: Int) -> Int {
        let used = state.used[function] ?? 0
        let reserved = state.reserved[function] ?? 0
        let ownReserveLeft = max(0, reserved - used)
        // The shared pool is what no reservation holds; each function's use beyond its reservation draws on it.
        let totalReserved = state.reserved.values.reduce(0, +)
        let sharedUsed = state.used.reduce(0) { sum, entry in
            sum + max(0, entry.value - (state.reserved[entry.key] ?? 0))
        }
        let sharedLeft = max(0, limit - totalReserved - sharedUsed)
        return ownReserveLeft + sharedLeft
    }
}

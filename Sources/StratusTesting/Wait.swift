/// Polls `condition` until it holds or `timeout` passes; returns whether it held. Never a fixed sleep.
package func waitUntil(
    timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(20),
    _ condition: @Sendable () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

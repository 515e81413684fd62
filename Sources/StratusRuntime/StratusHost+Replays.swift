import Foundation
import StratusCore

extension StratusHost {
    /// Starts a replay of `topic`'s archive (see `ReplayRunner`).
    package func startReplay(_ request: V1.StartReplay, of topic: String) async throws -> V1.Replay {
        let nowMs = queues.nowMs
        var fromMs: Int64 = 0
        if let since = request.since {
            guard let duration = since.in(Limits.logSince) else {
                throw TopicPublisher.TopicError(
                    code: .invalid, message: "since must be \(DurationParser.expected) (got '\(since.text.prefix(50))')"
                )
            }
            fromMs = nowMs - duration.milliseconds
        }
        if let from = request.from {
            guard request.since == nil else {
                throw TopicPublisher.TopicError(code: .invalid, message: "give since or from, not both")
            }
            fromMs = Self.milliseconds(from)
        }
        let untilMs = request.until.map(Self.milliseconds) ?? nowMs + 1
        guard let target = ReplayJob.Target(text: request.to) else {
            throw TopicPublisher.TopicError(
                code: .invalid,
                message: "to must be queue:NAME or function:NAME (got '\(request.to?.prefix(100) ?? "")')")
        }
        if case .function(let name) = target, dispatcher.function(named: name) == nil {
            throw Dispatcher.DispatchError.functionNotFound(name)
        }
        return V1.Replay(try await replays.start(topic: topic, fromMs: fromMs, untilMs: untilMs, target: target))
    }

    package func cancelReplay(_ id: String) async throws -> V1.Replay? {
        try await replays.cancel(id).map(V1.Replay.init)
    }

    package func allReplays() async throws -> [V1.Replay] {
        try await replays.all().map(V1.Replay.init)
    }

    private static func milliseconds(_ date: Date) -> Int64 {
        let ms = date.timeIntervalSince1970 * 1000
        guard ms.isFinite else { return 0 }
        return ms >= 9e15 ? 9_000_000_000_000_000 : ms <= -9e15 ? -9_000_000_000_000_000 : Int64(ms)
    }
}

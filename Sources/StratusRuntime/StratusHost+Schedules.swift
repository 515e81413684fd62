import Foundation
import StratusCore
import StratusStore

extension StratusHost {
    /// The schedules and where they stand, with the outcome of each one's last firing from the log.
    package func schedules() async throws -> [V1.Schedule] {
        var answer: [V1.Schedule] = []
        for status in scheduler.status() {
            var outcome: String?
            if let eventId = status.lastEventId {
                var query = InvocationQuery(limit: 1)
                query.eventId = eventId
                outcome = try await log.invocations(matching: query).last?.status.rawValue ?? "pending"
            }
            func date(_ ms: Int64?) -> Date? { ms.map { Date(timeIntervalSince1970: Double($0) / 1000) } }
            let schedule = status.schedule
            answer.append(
                V1.Schedule(
                    name: schedule.name, expression: schedule.expression.text, timezone: schedule.timezone,
                    function: schedule.function, missed: schedule.missed.rawValue, nextRun: date(status.nextMs),
                    lastRun: date(status.lastMs), lastEventId: status.lastEventId, lastOutcome: outcome))
        }
        return answer
    }
}

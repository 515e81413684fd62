import Foundation

extension V1 {
    /// `GET /v1/schedules`.
    package struct Schedules: Sendable, Codable {
        package var schedules: [Schedule]

        package init(schedules: [Schedule]) {
            self.schedules = schedules
        }
    }

    /// One schedule and where it stands.
    package struct Schedule: Sendable, Codable, Equatable {
        package var name: String
        package var expression: String
        package var timezone: String
        package var function: String
        /// `skip`, `once` or `all`.
        package var missed: String
        /// `nil`: it never fires again (a cron whose years are past).
        package var nextRun: Date?
        /// The scheduled time of the last firing, its async event id (`stratus logs --event`), and how its
        /// latest attempt ended (`ok`, `error`, …), or `pending` before the first.
        package var lastRun: Date?
        package var lastEventId: String?
        package var lastOutcome: String?

        package init(
            name: String, expression: String, timezone: String, function: String, missed: String, nextRun: Date?,
            lastRun: Date?, lastEventId: String?, lastOutcome: String?
        ) {
            self.name = name
            self.expression = expression
            self.timezone = timezone
            self.function = function
            self.missed = missed
            self.nextRun = nextRun
            self.lastRun = lastRun
            self.lastEventId = lastEventId
            self.lastOutcome = lastOutcome
        }
    }
}

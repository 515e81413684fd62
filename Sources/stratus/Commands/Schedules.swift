import ArgumentParser
import Foundation
import StratusCore

struct Schedules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List schedules: expression, zone, function, next run, last run and how it ended.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        options.show(try await options.client.get("/v1/schedules", as: V1.Schedules.self)) { answer in
            func time(_ date: Date?) -> String {
                date.map { $0.formatted(.iso8601) } ?? "-"
            }
            print(
                "NAME".padding(20) + "EXPRESSION".padding(26) + "TIMEZONE".padding(18) + "FUNCTION".padding(16)
                    + "NEXT RUN".padding(22) + "LAST RUN".padding(22) + "OUTCOME")
            for schedule in answer.schedules {
                let outcome = schedule.lastOutcome.map { "\($0) (logs --event \(schedule.lastEventId ?? ""))" } ?? "-"
                print(
                    schedule.name.padding(20) + schedule.expression.padding(26) + schedule.timezone.padding(18)
                        + schedule.function.padding(16)
                        + (schedule.nextRun == nil ? "never" : time(schedule.nextRun))
                        .padding(22) + time(schedule.lastRun).padding(22) + outcome)
            }
        }
    }
}

import ArgumentParser
import Foundation
import StratusCore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show functions and their workers.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        options.show(try await options.client.get("/v1/status", as: V1.Status.self)) { status in
            let header = [
                "BUSY", "IDLE", "STARTING", "WAITING", "MIN", "MAX", "RESERVED", "COLDSTARTS", "THROTTLES", "BREAKER",
            ]
            print(
                "FUNCTION".padding(20) + "RUNTIME".padding(9) + "REV".padding(9) + header.map { $0.padding(9) }.joined()
            )
            for f in status.functions {
                let columns: [Any] = [
                    f.busy, f.idle, f.starting, f.waiting, f.min, f.max, f.reserved, f.coldStarts, f.throttles,
                    f.breaker,
                ]
                let line =
                    f.name.padding(20) + f.runtime.padding(9) + f.revision.padding(9)
                    + columns.map { "\($0)".padding(9) }.joined()
                print(line + (f.nextProbe.map { "  (probe at \(MessagingEvents.isoTimestamp($0)))" } ?? ""))
            }
            print("workers at most \(status.maxWorkers) in all, each isolated by its \(status.isolation)")
            if !status.queues.isEmpty {
                print("")
                printQueues(status.queues)
            }
            if !status.topics.isEmpty {
                print("")
                printTopics(status.topics)
            }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

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
            if let cluster = status.cluster {
                print("")
                print("HOST".padding(32) + "ROLE".padding(9) + "HEARTBEAT".padding(26) + "CONTROL")
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                for host in cluster.hosts {
                    let age = Double(max(0, now - host.heartbeatAtMs)) / 1000
                    let stale = now - host.heartbeatAtMs > cluster.leaseMs ? " (silent: stopped?)" : ""
                    print(
                        (host.id + (host.id == cluster.thisHost ? " *" : "")).padding(32)
                            + (host.leader ? "leader" : "member").padding(9)
                            + (String(format: "%.1f s ago", age) + stale).padding(26) + (host.control ?? "-"))
                }
                print("* this host; deliveries of a host silent for \(cluster.leaseMs / 1000) s go to the others")
            }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

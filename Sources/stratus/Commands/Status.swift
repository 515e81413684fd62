import ArgumentParser
import Foundation

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show functions and their workers.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let body = try await options.client.call("GET", "/v1/status")
        if options.json {
            print(String(decoding: body, as: UTF8.self))
            return
        }
        let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        let functions = object?["functions"] as? [[String: Any]] ?? []
        let columns = ["busy", "idle", "starting", "waiting", "min", "max", "reserved", "coldStarts", "throttles", "breaker"]
        print("FUNCTION".padding(20) + "RUNTIME".padding(9) + "REV".padding(9) + columns.map { $0.uppercased().padding(9) }.joined())
        for f in functions {
            let line = "\(f["name"] ?? "")".padding(20) + "\(f["runtime"] ?? "")".padding(9) + "\(f["revision"] ?? "")".padding(9)
                + columns.map { "\(f[$0] ?? 0)".padding(9) }.joined()
            print(line + (f["nextProbe"].map { "  (probe at \($0))" } ?? ""))
        }
        print("workers at most \(object?["maxWorkers"] ?? "?") in all, each isolated by its \(object?["isolation"] ?? "?")")
        if let queues = object?["queues"] as? [[String: Any]], !queues.isEmpty {
            print("")
            printQueues(queues)
        }
        if let topics = object?["topics"] as? [[String: Any]], !topics.isEmpty {
            print("")
            printTopics(topics)
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

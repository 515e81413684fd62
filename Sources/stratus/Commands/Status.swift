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
        print("FUNCTION".padding(24) + "RUNTIME".padding(10) + "REV".padding(10) + "WORKERS  IDLE  WAITING  MIN  MAX")
        for f in functions {
            let line = "\(f["name"] ?? "")".padding(24) + "\(f["runtime"] ?? "")".padding(10) + "\(f["revision"] ?? "")".padding(10)
                + "\(f["workers"] ?? 0)".padding(9) + "\(f["idle"] ?? 0)".padding(6) + "\(f["waiting"] ?? 0)".padding(9)
                + "\(f["min"] ?? 0)".padding(5) + "\(f["max"] ?? 0)"
            print(line)
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

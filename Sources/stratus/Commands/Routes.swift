import ArgumentParser
import Foundation

struct Routes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the HTTP routes and their functions.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let body = try await options.client.call("GET", "/v1/routes")
        if options.json {
            print(String(decoding: body, as: UTF8.self))
            return
        }
        let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        let routes = object?["routes"] as? [[String: String]] ?? []
        print("ROUTE".padding(40) + "FUNCTION")
        for route in routes { print((route["route"] ?? "").padding(40) + (route["function"] ?? "")) }
    }
}

import ArgumentParser
import Foundation

struct Breaker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Circuit breakers: `stratus breaker reset FN` closes one by hand.", subcommands: [Reset.self])

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a function's circuit breaker.")

        @Argument(help: "Function name.") var function: String
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let answer = try await options.client.call("POST", "/v1/functions/\(function.percentEncodedQuery)/breaker/reset")
            if options.json { return print(String(decoding: answer, as: UTF8.self)) }
            print("breaker of \(function) is CLOSED")
        }
    }
}

import ArgumentParser
import StratusCore

struct Breaker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Circuit breakers: `stratus breaker reset FN` closes one by hand.", subcommands: [Reset.self])

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a function's circuit breaker.")

        @Argument(help: "Function name.") var function: String
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let path = "/v1/functions/\(function.percentEncodedQuery)/breaker/reset"
            options.show(try await options.client.post(path, [String: String](), as: V1.BreakerReset.self)) {
                print("breaker of \($0.function) is \($0.breaker)")
            }
        }
    }
}

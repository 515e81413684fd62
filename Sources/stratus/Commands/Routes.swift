import ArgumentParser
import StratusCore

struct Routes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the HTTP routes and their functions.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        options.show(try await options.client.get("/v1/routes", as: V1.Routes.self)) { answer in
            print("ROUTE".padding(40) + "FUNCTION")
            for route in answer.routes { print(route.route.padding(40) + route.function) }
        }
    }
}

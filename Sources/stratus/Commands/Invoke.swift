import ArgumentParser
import Foundation
import StratusCore

struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Invoke a function and print its result.")

    @Argument(help: "Function name.")
    var function: String

    @Option(help: "Event JSON, or @FILE to read it from a file.")
    var data = "{}"

    @Flag(help: "Invoke asynchronously (Lambda's Event type): prints the event id once it is committed.")
    var async = false

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let payload: Data
        if data.hasPrefix("@") {
            let path = String(data.dropFirst())
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read event file '\(path)'")
            }
            payload = contents
        } else {
            payload = Data(data.utf8)
        }
        let path = "/v1/functions/\(function.percentEncodedQuery)/invoke" + (async ? "?async=true" : "")
        let raw = try await options.client.call("POST", path, body: payload)
        if async {
            let accepted = try V1.decoder.decode(V1.AsyncAccepted.self, from: raw)
            return options.show((accepted, raw)) { print($0.eventId) }
        }
        let answer = try V1.decoder.decode(V1.InvokeAnswer.self, from: raw)
        options.show((answer, raw)) { answer in
            if answer.status != .ok {
                printError("\(answer.status.rawValue): \(answer.errorType ?? "") \(answer.errorMessage ?? "")")
            }
            print(answer.result.displayText)
        }
        if answer.status != .ok { throw ExitCode.failure }
    }
}

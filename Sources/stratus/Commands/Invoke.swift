import ArgumentParser
import Foundation

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
        let name = function.percentEncodedQuery
        if async {
            let answer = try await options.client.call("POST", "/v1/functions/\(name)/invoke?async=true", body: payload)
            if options.json { return print(String(decoding: answer, as: UTF8.self)) }
            let object = try JSONSerialization.jsonObject(with: answer) as? [String: Any]
            return print(object?["eventId"] as? String ?? "")
        }
        let body = try await options.client.call("POST", "/v1/functions/\(name)/invoke", body: payload)
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw ExitCode.failure
        }
        let ok = object["status"] as? String == "ok"
        if options.json {
            print(String(decoding: body, as: UTF8.self))
        } else {
            let result = object["result"].map(Self.render) ?? ""
            if ok {
                print(result)
            } else {
                printError("\(object["status"] ?? "error"): \(object["errorType"] ?? "") \(object["errorMessage"] ?? "")")
                print(result)
            }
        }
        if !ok { throw ExitCode.failure }
    }

    /// JSON results are printed as JSON; a bare string result prints as its text.
    static func render(_ value: Any) -> String {
        if let string = value as? String { return string }
        if value is NSNull { return "null" }
        let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
    }
}

import ArgumentParser
import Foundation
import StratusCore

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show invocation logs, as Lambda prints them.")

    @Argument(help: "Function name (default: all functions).")
    var function: String?

    @Option(help: "Only invocations with this status: ok, error, timeout, crashed, throttled, rejected.")
    var status: String?

    @Option(help: "Only invocations from the last DURATION (e.g. 10m).")
    var since: String?

    @Option(help: "At most N invocations.")
    var limit = 20

    @Flag(help: "Keep printing new invocations as they happen.")
    var follow = false

    @OptionGroup var options: ClientOptions

    func validate() throws {
        if let status, InvocationRecord.Status(rawValue: status) == nil {
            throw ValidationError("--status must be one of ok, error, timeout, crashed, throttled, rejected")
        }
        if let since, DurationParser.parse(since) == nil {
            throw ValidationError("--since expects \(DurationParser.expected)")
        }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        var after: Int64?
        while true {
            var query: [String] = ["limit=\(after == nil ? limit : 1000)"]
            if let function { query.append("function=\(function.percentEncodedQuery)") }
            if let status { query.append("status=\(status)") }
            if let since, after == nil { query.append("since=\(since)") }
            if let after { query.append("after=\(after)") }
            let body = try await options.client.call("GET", "/v1/logs?" + query.joined(separator: "&"))
            let page = try Self.decoder.decode(Page.self, from: body)
            for record in page.invocations {
                if options.json {
                    print(String(decoding: try Self.encoder.encode(record), as: UTF8.self))
                } else {
                    print(record.lambdaLog, terminator: "")
                }
            }
            after = page.invocations.last?.sequence ?? after ?? 0
            guard follow else { return }
            fflush(nil)
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    struct Page: Decodable {
        var invocations: [InvocationRecord]
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            return try Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
        }
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))
        }
        return encoder
    }()
}

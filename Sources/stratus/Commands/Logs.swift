import ArgumentParser
import Foundation
import StratusCore

#if canImport(Glibc)
    import Glibc
#endif

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

    @Option(help: "Only the attempts of this async event (the id `invoke --async` printed).")
    var event: String?

    @Flag(help: "Also show host events: scale up/down, worker replaced, throttled, breaker transitions.")
    var events = false

    @OptionGroup var options: ClientOptions

    func validate() throws {
        if let status, InvocationRecord.Status(rawValue: status) == nil {
            throw ValidationError("--status must be one of ok, error, timeout, crashed, throttled, rejected")
        }
        if let since, DurationParser.parse(since) == nil {
            throw ValidationError("--since expects \(DurationParser.expected)")
        }
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
    }

    func run() async throws {
        var after: Int64?
        var afterEvent: Int64?
        // Following starts at the log's head as it is now, whatever the first page shows (even nothing), so
        // that the history before it is not printed.
        var head: Int64 = 0
        var eventHead: Int64 = 0
        if follow {
            head =
                try await options.client.get("/v1/logs?limit=1", as: V1.Invocations.self).answer.invocations.last?
                .sequence ?? 0
            if events {
                eventHead =
                    try await options.client.get("/v1/events?limit=1", as: V1.Events.self).answer.events.last?.sequence
                    ?? 0
            }
        }
        while true {
            var query: [String] = ["limit=\(after == nil ? limit : 1000)"]
            if let function { query.append("function=\(function.percentEncodedQuery)") }
            if let since, after == nil { query.append("since=\(since)") }
            var invocationQuery = query
            if let status { invocationQuery.append("status=\(status)") }
            if let event { invocationQuery.append("event=\(event.percentEncodedQuery)") }
            if let after { invocationQuery.append("after=\(after)") }
            // Following: the host answers as soon as something new is logged (a long poll, no polling loop).
            if follow, after != nil { invocationQuery.append("wait=20s") }
            let body = try await options.client.call("GET", "/v1/logs?" + invocationQuery.joined(separator: "&"))
            let page = try V1.decoder.decode(V1.Invocations.self, from: body)
            var lines: [(Date, String)] = []
            for record in page.invocations {
                let text =
                    options.json
                    ? String(decoding: try V1.encoder.encode(record), as: UTF8.self) + "\n" : record.annotatedLog
                lines.append((record.start, text))
            }
            if events {
                var eventQuery = query
                if let afterEvent { eventQuery.append("after=\(afterEvent)") }
                let body = try await options.client.call("GET", "/v1/events?" + eventQuery.joined(separator: "&"))
                let eventPage = try V1.decoder.decode(V1.Events.self, from: body)
                for event in eventPage.events {
                    let text = options.json ? String(decoding: try V1.encoder.encode(event), as: UTF8.self) : event.line
                    lines.append((event.time, text + "\n"))
                }
                afterEvent = Swift.max(eventPage.events.last?.sequence ?? afterEvent ?? 0, eventHead)
            }
            for (_, text) in lines.sorted(by: { $0.0 < $1.0 }) {
                print(Self.toTerminal ? Self.escapingControlCharacters(text) : text, terminator: "")
            }
            after = Swift.max(page.invocations.last?.sequence ?? after ?? 0, head)
            guard follow else { return }
            fflush(nil)
        }
    }

    /// Whether standard output is a terminal: function output is then shown with its control characters
    /// escaped, so a function cannot move the cursor, retitle the window or clear the screen.
    static let toTerminal = isatty(STDOUT_FILENO) != 0

    /// `text` with C0 and C1 control characters other than newline and tab written as `\x1b`, `\r`, `\u{9b}`.
    static func escapingControlCharacters(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x09: out.unicodeScalars.append(scalar)
            case 0x0D: out += "\\r"
            case 0x00...0x1F, 0x7F: out += "\\x" + String(scalar.value, radix: 16).leftPadded(2)
            case 0x80...0x9F: out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

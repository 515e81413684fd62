import ArgumentParser
import Foundation
import StratusCore

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver a topic's archived messages again, in publish order (a durable job: see `replays`).",
        discussion: """
            Through the topic's current subscriptions and their filters, or --to one queue or function. Each \
            message keeps its MessageId and Timestamp and carries the attribute stratus.replay = the replay id.
            """)

    @Argument(help: "Topic name (it needs `archive:` in its trigger file).") var topic: String
    @Option(help: "Messages published in the last DURATION, e.g. 1h.") var since: String?
    @Option(help: "Messages published at or after TIME (ISO 8601, e.g. 2026-11-30T10:00:00Z).") var from: String?
    @Option(help: "Messages published before TIME (ISO 8601); default: now.") var until: String?
    @Option(help: "queue:NAME or function:NAME instead of the topic's subscriptions.") var to: String?
    @OptionGroup var options: ClientOptions

    func run() async throws {
        let body = V1.StartReplay(
            since: since.map { DurationValue($0) }, from: try from.map { try Self.time($0, "--from") },
            until: try until.map { try Self.time($0, "--until") }, to: to)
        options.show(
            try await options.client.post("/v1/topics/\(topic.percentEncodedQuery)/replays", body, as: V1.Replay.self)
        ) { replay in
            print(
                "replay \(replay.id): \(replay.total) messages of \(replay.topic) → \(replay.to ?? "its subscriptions")"
            )
            print("follow it with `stratus replays`; its deliveries carry the attribute stratus.replay=\(replay.id)")
        }
    }

    static func time(_ text: String, _ option: String) throws -> Date {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        throw ValidationError("\(option) expects an ISO 8601 time such as 2026-11-30T10:00:00Z (got '\(text)')")
    }
}

struct Replays: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List replays and their progress; --cancel one.")

    @Option(help: "Cancel the running replay with this id (what it delivered stays delivered).") var cancel: String?
    @OptionGroup var options: ClientOptions

    func run() async throws {
        if let cancel {
            options.show(
                try await options.client.post(
                    "/v1/replays/\(cancel.percentEncodedQuery)/cancel", [String: String](), as: V1.Replay.self)
            ) { print("replay \($0.id): \($0.status), \($0.delivered) of \($0.total) delivered") }
            return
        }
        options.show(try await options.client.get("/v1/replays", as: V1.Replays.self)) { answer in
            print(
                "ID".padding(38) + "TOPIC".padding(16) + "TO".padding(20) + "STATUS".padding(11)
                    + "PROGRESS".padding(14)
                    + "FROM → UNTIL")
            for replay in answer.replays {
                let from = replay.from.timeIntervalSince1970 <= 0 ? "the beginning" : replay.from.formatted(.iso8601)
                let range = "\(from) → \(replay.until.formatted(.iso8601))"
                print(
                    replay.id.padding(38) + replay.topic.padding(16) + (replay.to ?? "subscriptions").padding(20)
                        + replay.status.padding(11) + "\(replay.delivered)/\(replay.total)".padding(14) + range)
            }
        }
    }
}

import Foundation
import StratusTesting
import Synchronization
import Testing

/// Topic archives and `stratus replay`, through the built binary: what a user sees in queues, in a
/// function's events and in `stratus replays`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ReplayTests {
    /// Records every SNS record it gets, one JSON line each, in `$OUT_DIR/events.log`.
    static let projector = """
        import json, os
        def handler(event, context):
            lines = ""
            for record in event["Records"]:
                sns = record["Sns"]
                attributes = sns.get("MessageAttributes") or {}
                lines += json.dumps({
                    "seq": json.loads(sns["Message"])["seq"], "messageId": sns["MessageId"],
                    "timestamp": sns["Timestamp"], "kind": attributes.get("kind", {}).get("Value"),
                    "replay": attributes.get("stratus.replay", {}).get("Value")}) + "\\n"
            with open(os.path.join(os.environ["OUT_DIR"], "events.log"), "a") as f:
                f.write(lines)
        """

    /// One message as a queue or the function got it.
    struct Delivery: Equatable {
        var seq: Int
        var messageId: String
        var timestamp: String
        var kind: String?
        var replay: String?
        var subject: String?
    }

    /// A project whose topic `events` keeps an archive and delivers to the queue `live`; with `function`, also
    /// to `projector` (filter kind=created) and to the raw queue `bare`. Topic `plain` keeps no archive.
    func project(function: Bool, archive: String = "7d") throws -> TemporaryProject {
        let project = try TemporaryProject()
        try FileManager.default.createDirectory(atPath: project.path + "/out", withIntermediateDirectories: true)
        try project.addPython(
            "projector", code: Self.projector, manifest: "environment: {OUT_DIR: \(project.path)/out}\n")
        let subscription =
            function
            ? "\n      - function: projector\n        filter: {kind: [created]}\n      - queue: bare\n        raw: true"
            : ""
        try project.write(
            "triggers/t.yaml",
            """
            topics:
              events:
                archive: \(archive)
                subscriptions:
                  - queue: live\(subscription)
              plain:
                subscriptions:
                  - queue: live
            queues:
              live: {}
              rebuild: {}
              early: {}
              window: {}
              late: {}
              recent: {}
              all: {}
              bare: {}
            """)
        return project
    }

    // MARK: - Helpers

    /// Publishes `{"seq": n}` for each n, one after the other (publish order is `seqs`' order), with the
    /// attribute `kind`; returns the message ids.
    @discardableResult
    func publish(
        _ url: String, _ seqs: Range<Int>, kind: (Int) -> String = { _ in "created" }, pad: Int = 0
    ) async throws -> [String] {
        let padding = String(repeating: "x", count: pad)
        var ids: [String] = []
        for n in seqs {
            var message: [String: Any] = ["seq": n]
            if pad > 0 { message["pad"] = padding }
            let text = String(decoding: try JSONSerialization.data(withJSONObject: message), as: UTF8.self)
            let answer = try await HTTP.post(
                "\(url)/v1/topics/events/publish",
                json: ["message": text, "subject": "s\(n)", "attributes": ["kind": kind(n)]])
            try #require(answer.status == 201, "publish \(n): \(answer.status) \(answer.text)")
            ids.append(try #require(answer.json?["messageId"] as? String))
        }
        return ids
    }

    /// Parses an SNS envelope a queue got.
    func delivery(_ body: String) throws -> Delivery {
        let envelope = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let message = try #require(
            try JSONSerialization.jsonObject(with: Data((envelope["Message"] as? String ?? "").utf8))
                as? [String: Any])
        let attributes = envelope["MessageAttributes"] as? [String: [String: String]] ?? [:]
        return Delivery(
            seq: try #require(message["seq"] as? Int), messageId: envelope["MessageId"] as? String ?? "",
            timestamp: envelope["Timestamp"] as? String ?? "", kind: attributes["kind"]?["Value"],
            replay: attributes["stratus.replay"]?["Value"], subject: envelope["Subject"] as? String)
    }

    /// Receives everything visible in `queue`, ten at a time, deleting as it goes; in receive order.
    func drain(_ url: String, _ queue: String) async throws -> [Delivery] {
        var all: [Delivery] = []
        while true {
            let answer = try await HTTP.post("\(url)/v1/queues/\(queue)/receive", json: ["max": 10])
            try #require(answer.status == 200, "receive: \(answer.text)")
            let messages = answer.json?["messages"] as? [[String: Any]] ?? []
            if messages.isEmpty { return all }
            for message in messages { all.append(try delivery(message["body"] as? String ?? "")) }
            let deleted = try await HTTP.post(
                "\(url)/v1/queues/\(queue)/delete",
                json: ["receiptHandles": messages.compactMap { $0["receiptHandle"] as? String }])
            try #require(deleted.status == 200, "delete: \(deleted.text)")
        }
    }

    /// Receives everything visible in `queue` as the queue holds it, deleting as it goes.
    func drainRaw(_ url: String, _ queue: String) async throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        while true {
            let answer = try await HTTP.post("\(url)/v1/queues/\(queue)/receive", json: ["max": 10])
            let messages = answer.json?["messages"] as? [[String: Any]] ?? []
            if messages.isEmpty { return all }
            all += messages
            let deleted = try await HTTP.post(
                "\(url)/v1/queues/\(queue)/delete",
                json: ["receiptHandles": messages.compactMap { $0["receiptHandle"] as? String }])
            try #require(deleted.status == 200, "delete: \(deleted.text)")
        }
    }

    /// `stratus replay events ARGS --json`: the replay it started.
    func replay(_ url: String, _ arguments: [String]) throws -> [String: Any] {
        let answer = try StratusBinary.run(
            ["replay", "events", "--json"] + arguments, environment: ["STRATUS_ENDPOINT": url])
        try #require(answer.status == 0, "stratus replay \(arguments): \(answer.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any])
    }

    /// `stratus replays --json`, by id.
    func replays(_ url: String) throws -> [String: [String: Any]] {
        let answer = try StratusBinary.run(["replays", "--json"], environment: ["STRATUS_ENDPOINT": url])
        guard answer.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any]
        else { return [:] }
        var byId: [String: [String: Any]] = [:]
        for replay in object["replays"] as? [[String: Any]] ?? [] { byId[replay["id"] as? String ?? ""] = replay }
        return byId
    }

    /// `GET /v1/replays`: the replay `id`, read without starting a process (for tight polling).
    func replayStatus(_ url: String, _ id: String) async -> [String: Any]? {
        guard let answer = try? await HTTP.request("GET", "\(url)/v1/replays", timeout: .seconds(5)) else {
            return nil
        }
        return (answer.json?["replays"] as? [[String: Any]])?.first { $0["id"] as? String == id }
    }

    /// Polls `GET /v1/replays` until replay `id` has delivered at least `atLeast` (or stopped running);
    /// returns what it had delivered then.
    func waitForProgress(_ url: String, _ id: String, atLeast: Int = 1) async -> Int {
        let progress = Atomic<Int>(0)
        _ = await waitUntil(timeout: .seconds(20), every: .milliseconds(1)) {
            let status = await self.replayStatus(url, id)
            progress.store(status?["delivered"] as? Int ?? 0, ordering: .relaxed)
            return progress.load(ordering: .relaxed) >= atLeast || status?["status"] as? String != "running"
        }
        return progress.load(ordering: .relaxed)
    }

    /// How long a finished replay took, from `createdAt` to `finishedAt`.
    func duration(_ replay: [String: Any]?) -> Double? {
        let iso = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        guard let created = (replay?["createdAt"] as? String).flatMap({ try? iso.parse($0) }),
            let finished = (replay?["finishedAt"] as? String).flatMap({ try? iso.parse($0) })
        else { return nil }
        return finished.timeIntervalSince(created)
    }

    /// Waits until `stratus replays` says `id` is done.
    func waitDone(_ url: String, _ id: String, timeout: Duration = .seconds(30)) async -> Bool {
        await waitUntil(timeout: timeout, every: .milliseconds(100)) {
            (try? self.replays(url))?[id]?["status"] as? String == "done"
        }
    }

    func lines(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func queueCount(_ url: String, _ queue: String) -> Int? {
        let answer = try? StratusBinary.run(["queues", "--json"], environment: ["STRATUS_ENDPOINT": url])
        guard let answer,
            let object = try? JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any]
        else { return nil }
        let queue = (object["queues"] as? [[String: Any]])?.first { $0["name"] as? String == queue }
        let counts = queue?["counts"] as? [String: Int] ?? [:]
        return (counts["visible"] ?? 0) + (counts["inFlight"] ?? 0) + (counts["delayed"] ?? 0)
    }

    // MARK: - Tests

    @Test func replayToAQueueKeepsIdsTimestampsAndOrder() async throws {
        let project = try project(function: false)
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        let url = host.controlURL
        let total = 1000
        let ids = try await publish(url, 0..<total)

        // The live subscription got each message once: its ids and timestamps are the originals.
        let live = try await drain(url, "live")
        #expect(live.map(\.seq) == Array(0..<total))
        #expect(live.map(\.messageId) == ids)
        let original = Dictionary(live.map { ($0.seq, $0) }, uniquingKeysWith: { a, _ in a })

        let started = try replay(url, ["--to", "queue:rebuild"])
        let id = try #require(started["id"] as? String)
        #expect(started["topic"] as? String == "events" && started["to"] as? String == "queue:rebuild")
        #expect(started["total"] as? Int == total)
        #expect(["running", "done"].contains(started["status"] as? String ?? ""))
        #expect(await waitDone(url, id), "replay \(id) never finished: \(String(describing: try? replays(url)[id]))")

        let replayed = try await drain(url, "rebuild")
        #expect(replayed.count == total, "every archived message, once")
        #expect(Set(replayed.map(\.messageId)).count == replayed.count, "no duplicates")
        #expect(replayed.map(\.seq) == Array(0..<total), "publish order")
        #expect(replayed.allSatisfy { $0.replay == id }, "each carries stratus.replay = the replay id")
        var mismatched: [Int] = []
        for message in replayed {
            let live = original[message.seq]
            if live?.messageId != message.messageId || live?.timestamp != message.timestamp
                || message.kind != "created" || message.subject != "s\(message.seq)"
            {
                mismatched.append(message.seq)
            }
        }
        #expect(mismatched.isEmpty, "MessageId, Timestamp, Subject or attributes changed for \(mismatched.prefix(10))")
        #expect(live.allSatisfy { $0.replay == nil }, "live deliveries carry no stratus.replay")

        // What a user reads.
        let listed = try #require(try replays(url)[id])
        #expect(listed["status"] as? String == "done")
        #expect(listed["delivered"] as? Int == total && listed["total"] as? Int == total)
        #expect(listed["finishedAt"] is String)
        let table = try host.cli(["replays"])
        let row = table.stdout.split(separator: "\n").first { $0.hasPrefix(id) } ?? ""
        #expect(row.contains("events") && row.contains("queue:rebuild"), "\(table.stdout)")
        #expect(row.contains("done") && row.contains("1000/1000"), "\(table.stdout)")
        #expect(await host.stop() == 0)
    }

    @Test func replayThroughTheSubscriptionsAppliesTheirFilters() async throws {
        let project = try project(function: true)
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        let url = host.controlURL
        let total = 40
        let kind: (Int) -> String = { $0 % 3 == 0 ? "created" : "updated" }
        try await publish(url, 0..<total, kind: kind)
        let created = (0..<total).filter { kind($0) == "created" }
        let eventsPath = project.path + "/out/events.log"
        #expect(await waitUntil(timeout: .seconds(20)) { self.lines(eventsPath).count >= created.count })
        let live = try await drain(url, "live")
        #expect(live.count == total)

        let text = try host.cli(["replay", "events"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("\(total) messages of events → its subscriptions"), "\(text.stdout)")
        let id = String(text.stdout.split(separator: " ").dropFirst().first?.dropLast() ?? "")
        #expect(try replays(url)[id] != nil, "the id printed (\(id)) is listed")
        #expect(await waitDone(url, id))

        // The queue subscription gets every message again, in order.
        let again = try await drain(url, "live")
        #expect(again.map(\.seq) == Array(0..<total))
        #expect(again.allSatisfy { $0.replay == id })
        #expect(again.map(\.messageId) == live.map(\.messageId))

        // The function only those that pass its filter, with the original ids and timestamps.
        #expect(
            await waitUntil(timeout: .seconds(20)) {
                self.lines(eventsPath).filter { $0["replay"] as? String == id }.count >= created.count
            })
        let events = lines(eventsPath)
        let first = events.filter { $0["replay"] is NSNull || $0["replay"] == nil }
        let replayed = events.filter { $0["replay"] as? String == id }
        #expect(first.compactMap { $0["seq"] as? Int }.sorted() == created)
        #expect(replayed.compactMap { $0["seq"] as? Int }.sorted() == created, "only kind=created, each once")
        #expect(replayed.allSatisfy { $0["kind"] as? String == "created" })
        let originals = Dictionary(
            first.map { ($0["seq"] as? Int ?? -1, ($0["messageId"] as? String, $0["timestamp"] as? String)) },
            uniquingKeysWith: { a, _ in a })
        let changed = replayed.filter { event in
            let original = originals[event["seq"] as? Int ?? -2]
            return original?.0 != event["messageId"] as? String || original?.1 != event["timestamp"] as? String
        }
        #expect(changed.isEmpty, "the function sees the original MessageId and Timestamp: \(changed.prefix(3))")
        let listed = try #require(try replays(url)[id])
        #expect(listed["to"] == nil || listed["to"] is NSNull)
        #expect(listed["delivered"] as? Int == total && listed["total"] as? Int == total)

        // The raw subscription gets the bare message again, stratus.replay among its message attributes.
        let bareMessages = try await drainRaw(url, "bare")
        #expect(bareMessages.count == 2 * total)
        let replayedBare = bareMessages.filter {
            ($0["attributes"] as? [String: [String: String]])?["stratus.replay"]?["stringValue"] == id
        }
        #expect(!replayedBare.isEmpty, "raw replayed messages carry stratus.replay: \(bareMessages.prefix(1))")
        #expect(replayedBare.count == total)
        #expect(replayedBare.map { $0["body"] as? String ?? "" } == (0..<total).map { #"{"seq":\#($0)}"# })

        // --to function: the one function gets every message, its subscription's filter does not apply.
        let direct = try replay(url, ["--to", "function:projector"])
        let directId = try #require(direct["id"] as? String)
        #expect(direct["to"] as? String == "function:projector" && direct["total"] as? Int == total)
        #expect(await waitDone(url, directId))
        #expect(
            await waitUntil(timeout: .seconds(20)) {
                self.lines(eventsPath).filter { $0["replay"] as? String == directId }.count >= total
            })
        let directEvents = lines(eventsPath).filter { $0["replay"] as? String == directId }
        #expect(directEvents.compactMap { $0["seq"] as? Int }.sorted() == Array(0..<total))
        #expect(try await drain(url, "live").isEmpty, "--to function delivers nowhere else")
        #expect(await host.stop() == 0)
    }

    @Test func sinceFromAndUntilSelectTheMessages() async throws {
        let project = try project(function: false)
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        let url = host.controlURL
        let iso = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

        try await publish(url, 0..<5)
        try await Task.sleep(for: .milliseconds(2600))  // the first batch is older than --since 2s
        let t1 = Date()
        try await Task.sleep(for: .milliseconds(20))
        try await publish(url, 5..<10)
        try await Task.sleep(for: .milliseconds(20))
        let t2 = Date()
        try await Task.sleep(for: .milliseconds(20))
        try await publish(url, 10..<15)

        let cases: [(queue: String, arguments: [String], expected: [Int])] = [
            ("early", ["--until", iso.format(t1)], Array(0..<5)),
            ("window", ["--from", iso.format(t1), "--until", iso.format(t2)], Array(5..<10)),
            ("late", ["--from", iso.format(t2)], Array(10..<15)),
            ("recent", ["--since", "2s"], Array(5..<15)),
            ("all", ["--since", "1h"], Array(0..<15)),
        ]
        var started: [(queue: String, id: String, expected: [Int], total: Int?)] = []
        for test in cases {
            let replay = try replay(url, test.arguments + ["--to", "queue:\(test.queue)"])
            started.append((test.queue, replay["id"] as? String ?? "", test.expected, replay["total"] as? Int))
        }
        // What is published once a replay has begun is not part of it.
        try await publish(url, 15..<20)
        for replay in started {
            #expect(replay.total == replay.expected.count, "\(replay.queue): total")
            #expect(await waitDone(url, replay.id), "\(replay.queue)")
            let got = try await drain(url, replay.queue)
            #expect(got.map(\.seq) == replay.expected, "\(replay.queue)")
            #expect(got.allSatisfy { $0.replay == replay.id })
        }
        // An ISO time without fractional seconds is accepted too.
        let whole = try replay(url, ["--until", "2000-01-01T00:00:00Z", "--to", "queue:rebuild"])
        #expect(whole["total"] as? Int == 0)
        #expect(await waitDone(url, whole["id"] as? String ?? ""))
        #expect(try await drain(url, "rebuild").isEmpty)
        #expect(await host.stop() == 0)
    }

    @Test func aReplayKilledMidwayResumesWithoutLossOrDuplicates() async throws {
        let project = try project(function: false)
        defer { project.remove() }
        var host = try await DaemonHost(project: project.path)
        let total = 3000
        do {
            // Bodies of ~2 KB make each page's commit take a while, so the kill lands mid-replay.
            try await publish(host.controlURL, 0..<total, pad: 2048)
            let started = try replay(host.controlURL, ["--to", "queue:rebuild"])
            let id = try #require(started["id"] as? String)
            #expect(started["total"] as? Int == total)
            // Killed twice, at pages chosen at random; each time restarted on the same state.
            for threshold in [Int.random(in: 1...10) * 100, Int.random(in: 15...25) * 100] {
                let seen = await waitForProgress(host.controlURL, id, atLeast: threshold)
                host.process.signal(SIGKILL)
                let killed = await host.process.wait()
                #expect(killed.status == 128 + SIGKILL)
                print("replay durability: killed with \(seen) of \(total) delivered (aimed at \(threshold))")
                #expect(seen < total, "the kill came after the replay finished: nothing was tested")
                host = try await DaemonHost(project: project.path)
            }
            let done = await waitDone(host.controlURL, id)
            #expect(done, "the replay resumed and finished: \(String(describing: try? replays(host.controlURL)[id]))")
            let listed = try replays(host.controlURL)[id]
            #expect(listed?["delivered"] as? Int == total && listed?["total"] as? Int == total)
            print("replay durability: created to finished, across the restart, in \(duration(listed) ?? -1) s")
            let got = try await drain(host.controlURL, "rebuild")
            let counts = Dictionary(got.map { ($0.seq, 1) }, uniquingKeysWith: +)
            let duplicates = counts.filter { $0.value > 1 }.keys.sorted()
            let missing = Set(0..<total).subtracting(counts.keys).sorted()
            print(
                "replay durability: \(got.count) in the queue, \(duplicates.count) duplicated, \(missing.count) missing"
            )
            #expect(duplicates.isEmpty, "duplicated: \(duplicates.prefix(10))")
            #expect(missing.isEmpty, "missing: \(missing.prefix(10))")
            #expect(got.map(\.seq) == Array(0..<total), "publish order")
            #expect(got.allSatisfy { $0.replay == id })
        } catch {
            host.process.signal(SIGKILL)
            _ = await host.process.wait()
            throw error
        }
        #expect(await host.stop() == 0)
    }

    @Test func aCancelledReplayStopsAndReplaysSurviveARestart() async throws {
        let project = try project(function: false)
        defer { project.remove() }
        var host = try await ServeProcess(project: project.path)
        let url = host.controlURL
        let total = 3000
        try await publish(url, 0..<total, pad: 2048)
        let finished = try replay(url, ["--since", "1h", "--to", "queue:all"])
        let finishedId = try #require(finished["id"] as? String)
        #expect(await waitDone(url, finishedId))
        print("replay cancel: \(total) messages replayed in \(duration(try replays(url)[finishedId]) ?? -1) s")

        let started = try replay(url, ["--to", "queue:rebuild"])
        let id = try #require(started["id"] as? String)
        let seen = await waitForProgress(url, id)
        #expect(seen > 0 && seen < total, "the replay was running when cancelled (delivered \(seen))")
        let cancel = try host.cli(["replays", "--cancel", id])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(cancel.stdout.contains("replay \(id): cancelled"), "\(cancel.stdout)")
        let listed = try #require(try replays(url)[id])
        #expect(listed["status"] as? String == "cancelled")
        let delivered = try #require(listed["delivered"] as? Int)
        #expect(delivered >= seen && delivered < total, "cancelled before the end")
        #expect(listed["finishedAt"] is String)
        // Nothing more arrives: the queue holds what the replay says it delivered, and stays so.
        let before = queueCount(url, "rebuild")
        try await Task.sleep(for: .milliseconds(700))
        #expect(queueCount(url, "rebuild") == before)
        #expect(before == delivered)
        #expect(try replays(url)[id]?["delivered"] as? Int == delivered)
        // Cancelling again changes nothing; a finished replay stays done.
        let again = try host.cli(["replays", "--cancel", finishedId])
        #expect(again.status == 0 && again.stdout.contains("done"), "\(again.stdout) \(again.stderr)")

        #expect(await host.stop() == 0)
        host = try await ServeProcess(project: project.path)
        let after = try replays(host.controlURL)
        #expect(after[id]?["status"] as? String == "cancelled" && after[id]?["delivered"] as? Int == delivered)
        #expect(after[finishedId]?["status"] as? String == "done" && after[finishedId]?["delivered"] as? Int == total)
        try await Task.sleep(for: .milliseconds(300))
        #expect(queueCount(host.controlURL, "rebuild") == delivered, "a cancelled replay does not resume")
        #expect(await host.stop() == 0)
    }

    @Test func errorsSayWhatIsWrong() async throws {
        let project = try project(function: true)
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        let url = host.controlURL
        func start(_ topic: String, _ body: [String: Any]) async throws -> (Int, String, String) {
            let answer = try await HTTP.post("\(url)/v1/topics/\(topic)/replays", json: body)
            let error = answer.json?["error"] as? [String: Any]
            return (answer.status, error?["code"] as? String ?? "", error?["message"] as? String ?? "")
        }
        let noArchive = try await start("plain", [:])
        #expect(noArchive.0 == 400 && noArchive.2.contains("archive:"), "\(noArchive)")
        #expect(!noArchive.1.isEmpty)
        let cli = try host.cli(["replay", "plain"])
        #expect(cli.status == 1 && cli.stderr.contains("archive:"), "\(cli.stderr)")

        for (topic, body, status, mentions) in [
            ("nope", [:], 404, "nope"),
            ("events", ["to": "queue:nope"], 404, "nope"),
            ("events", ["to": "function:nope"], 404, "nope"),
            ("events", ["since": "1h", "from": "2026-01-01T00:00:00Z"], 400, "since"),
            ("events", ["to": "topic:x"], 400, "queue:"),
            ("events", ["to": "queue:"], 400, "queue:"),
            ("events", ["since": "soon"], 400, "since"),
            ("events", ["from": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"], 400, "before"),
        ] as [(String, [String: Any], Int, String)] {
            let answer = try await start(topic, body)
            #expect(
                answer.0 == status && !answer.1.isEmpty && answer.2.contains(mentions), "\(topic) \(body): \(answer)")
        }
        let unknown = try await HTTP.post("\(url)/v1/replays/nope/cancel", json: [String: String]())
        #expect(unknown.status == 404 && (unknown.json?["error"] as? [String: Any])?["code"] is String)
        let both = try host.cli(["replay", "events", "--since", "1h", "--from", "2026-01-01T00:00:00Z"])
        #expect(both.status == 1 && both.stderr.contains("not both"), "\(both.stderr)")
        let badTime = try host.cli(["replay", "events", "--from", "yesterday"])
        #expect(badTime.status == 64 && badTime.stderr.contains("ISO 8601"), "\(badTime.status) \(badTime.stderr)")
        #expect(try replays(url).isEmpty, "no failed request left a replay behind")
        #expect(await host.stop() == 0)
    }

    @Test func validateRefusesAnArchiveBelowAMinute() throws {
        let project = try project(function: true, archive: "10s")
        defer { project.remove() }
        let validate = try StratusBinary.run(["validate", project.path])
        #expect(validate.status == 65)
        #expect(validate.stdout.contains("triggers/t.yaml:3: topics.events.archive"), "\(validate.stdout)")
        try project.write(
            "triggers/t.yaml",
            try String(contentsOfFile: project.path + "/triggers/t.yaml", encoding: .utf8).replacingOccurrences(
                of: "archive: 10s", with: "archive: 1m"))
        let valid = try StratusBinary.run(["validate", project.path])
        #expect(valid.status == 0, "\(valid.stdout)")
    }
}

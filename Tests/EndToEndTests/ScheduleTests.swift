import Foundation
import StratusCore
import StratusTesting
import Synchronization
import Testing

/// Schedules (`schedules:` in `triggers/*.yaml`) through the built binary: real hosts, real Python workers that
/// append every event they get to a file, so that each firing is counted exactly. The tests are independent
/// (each its own project, state directory and ports) and run in parallel.
@Suite struct ScheduleTests {
    /// Appends the event it gets, as one JSON line, to `$SINK/events.log` (one `write` with `O_APPEND`, so that
    /// concurrent workers never interleave), then sleeps `pause` seconds.
    static func recorder(pause: Double) -> String {
        """
        import json, os, time
        def handler(event, context):
            line = json.dumps(event, separators=(",", ":")) + "\\n"
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
            fd = os.open(os.path.join(os.environ["SINK"], "events.log"), flags, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
            time.sleep(\(pause))
            return {"ok": True}
        """
    }

    /// What the recorder received.
    struct Sink: Sendable {
        let directory: String

        /// Every event received, in order of arrival.
        func events() -> [[String: Any]] {
            let text = (try? String(contentsOfFile: directory + "/events.log", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        /// The Scheduled Events of schedule `name`, in order of arrival.
        func events(of name: String) -> [[String: Any]] {
            events().filter { ($0["resources"] as? [String])?.first?.hasSuffix(":schedule/default/" + name) == true }
        }

        /// The `time` of each Scheduled Event of schedule `name`, in epoch seconds, in order of arrival.
        func times(of name: String) -> [Int] {
            events(of: name).compactMap { ScheduleTests.seconds($0["time"]) }
        }
    }

    /// A project with the recorder as function `ping` and `triggers` as `triggers/schedules.yaml`.
    static func project(_ triggers: String, pause: Double = 0, manifest: String = "") throws -> (
        TemporaryProject, Sink
    ) {
        let project = try TemporaryProject()
        let sink = Sink(directory: project.path + "/sink")
        try FileManager.default.createDirectory(atPath: sink.directory, withIntermediateDirectories: true)
        try project.addPython(
            "ping", code: recorder(pause: pause), manifest: "environment: {SINK: \"\(sink.directory)\"}\n" + manifest)
        try project.write("triggers/schedules.yaml", triggers)
        return (project, sink)
    }

    /// Saves a file as editors do: written aside, then renamed over the old one.
    static func save(_ project: TemporaryProject, _ path: String, _ contents: String) throws {
        let target = project.path + "/" + path
        try contents.write(toFile: target + ".tmp", atomically: false, encoding: .utf8)
        guard rename(target + ".tmp", target) == 0 else { throw ServeError(message: "rename \(path)") }
    }

    /// A Scheduled Event's `time` (ISO 8601, UTC, whole seconds) in epoch seconds; `nil` for anything else.
    static func seconds(_ value: Any?) -> Int? {
        guard let text = value as? String, text.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil,
            let date = try? Date(text, strategy: .iso8601)
        else { return nil }
        return Int(date.timeIntervalSince1970)
    }

    /// A date of the control API (ISO 8601, with or without fractional seconds).
    static func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return nil }
        return (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
            ?? (try? Date(text, strategy: .iso8601))
    }

    /// The seconds between the first and the last of `times` that are not among them.
    static func gaps(_ times: [Int]) -> [Int] {
        let set = Set(times)
        guard let low = set.min(), let high = set.max() else { return [] }
        return (low...high).filter { !set.contains($0) }
    }

    /// Times that occur more than once.
    static func repeated(_ times: [Int]) -> [Int] {
        Dictionary(times.map { ($0, 1) }, uniquingKeysWith: +).filter { $0.value > 1 }.keys.sorted()
    }

    /// `GET /v1/schedules`, by name.
    static func schedules(_ controlURL: String) async throws -> [String: [String: Any]] {
        let answer = try await HTTP.get(controlURL + "/v1/schedules")
        var byName: [String: [String: Any]] = [:]
        for schedule in answer.json?["schedules"] as? [[String: Any]] ?? [] {
            byName[schedule["name"] as? String ?? ""] = schedule
        }
        return byName
    }

    /// The `SCHEDULE_MISSED` host events (`GET /v1/events`).
    static func missedEvents(_ controlURL: String) async throws -> [[String: Any]] {
        let answer = try await HTTP.get(controlURL + "/v1/events?limit=1000")
        return (answer.json?["events"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "SCHEDULE_MISSED" }
    }

    /// The invocation records of async event `id` (`GET /v1/logs?event=ID`).
    static func attempts(_ controlURL: String, event id: String) async throws -> [[String: Any]] {
        let answer = try await HTTP.get(controlURL + "/v1/logs?event=\(id)")
        return answer.json?["invocations"] as? [[String: Any]] ?? []
    }

    /// Fetches until `done` holds or `timeout` passes (a liveness wait, as `waitUntil`); returns the last value
    /// fetched and whether it satisfied `done`.
    static func poll<T>(
        timeout: Duration = .seconds(10), _ fetch: () async throws -> T, until done: (T) -> Bool
    ) async rethrows -> (T, Bool) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let value = try await fetch()
            if done(value) { return (value, true) }
            if ContinuousClock.now >= deadline { return (value, false) }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: Firing

    @Test func aRateFiresScheduledEventsEverySecondAndSchedulesShowsIt() async throws {
        let input = #"{"kind": "nightly", "list": [1, 2.5, null, true, "é"], "nested": {"a": {}}}"#
        let (project, sink) = try Self.project(
            """
            schedules:
              heartbeat:
                expression: rate(1 second)
                function: ping
              nightly:
                expression: rate(1 hour)
                function: ping
                input: \(input)
              breakfast:
                expression: cron(0 3 * * ? *)
                timezone: Europe/Paris
                function: ping
            """)
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)

        // A new rate fires at once, then every second, counted from that first run.
        #expect(await waitUntil(timeout: .seconds(30)) { sink.times(of: "heartbeat").count >= 4 }, "\(host.log)")
        let events = sink.events(of: "heartbeat")
        for event in events {
            #expect(event["version"] as? String == "0")
            #expect(event["detail-type"] as? String == "Scheduled Event")
            #expect(event["source"] as? String == "aws.events")
            #expect(event["account"] as? String == "000000000000")
            #expect(event["region"] as? String == AWS.region)
            #expect(Self.seconds(event["time"]) != nil, "time is ISO 8601 UTC in whole seconds: \(event["time"] ?? "")")
            #expect(
                event["resources"] as? [String] == [
                    "arn:aws:scheduler:\(AWS.region):000000000000:schedule/default/heartbeat"
                ])
            #expect((event["detail"] as? [String: Any])?.isEmpty == true)
            #expect(
                Set(event.keys) == [
                    "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail",
                ])
        }
        let times = events.compactMap { Self.seconds($0["time"]) }
        #expect(times.count == events.count)
        #expect(zip(times.sorted(), times.sorted().dropFirst()).allSatisfy { $1 - $0 == 1 }, "\(times)")
        let ids = events.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == events.count, "each firing its own id: \(ids)")

        // The event's id is the async event id of the invocation that delivered it.
        for id in ids.prefix(3) {
            let attempts = try await Self.attempts(host.controlURL, event: id)
            #expect(attempts.count == 1, "\(attempts)")
            #expect(attempts.first?["eventId"] as? String == id)
            #expect(attempts.first?["function"] as? String == "ping")
            #expect(attempts.first?["status"] as? String == "ok")
        }

        // The input schedule delivers its input verbatim, once: its next run is an hour after the first.
        #expect(await waitUntil { sink.events().contains { $0["kind"] as? String == "nightly" } })
        let expected = try JSONSerialization.jsonObject(with: Data(input.utf8))
        let delivered = sink.events().filter { $0["resources"] == nil }
        #expect(delivered.count == 1, "\(delivered)")
        let canonical = { (value: Any) in
            String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(try delivered.map(canonical) == [try canonical(expected)])

        // GET /v1/schedules: where each one stands.
        let (listed, settled) = try await Self.poll(timeout: .seconds(15)) {
            try await Self.schedules(host.controlURL)
        } until: {
            $0["heartbeat"]?["lastOutcome"] as? String == "ok" && $0["nightly"]?["lastOutcome"] as? String == "ok"
        }
        #expect(settled, "\(listed)")
        let heartbeat = try #require(listed["heartbeat"])
        #expect(heartbeat["expression"] as? String == "rate(1 second)")
        #expect(heartbeat["timezone"] as? String == "UTC")
        #expect(heartbeat["function"] as? String == "ping")
        #expect(heartbeat["missed"] as? String == "once")
        let lastRun = try #require(Self.date(heartbeat["lastRun"]))
        let nextRun = try #require(Self.date(heartbeat["nextRun"]))
        #expect(abs(nextRun.timeIntervalSince(lastRun) - 1) < 0.001, "\(heartbeat)")
        #expect(sink.events(of: "heartbeat").contains { $0["id"] as? String == heartbeat["lastEventId"] as? String })
        let nightly = try #require(listed["nightly"])
        let nightlyLast = try #require(Self.date(nightly["lastRun"]))
        let nightlyNext = try #require(Self.date(nightly["nextRun"]))
        #expect(abs(nightlyNext.timeIntervalSince(nightlyLast) - 3600) < 0.001, "\(nightly)")
        let nightlyId = try #require(nightly["lastEventId"] as? String)
        // A cron is evaluated in its zone: 03:00 in Paris, whatever the offset of the day.
        let breakfast = try #require(listed["breakfast"])
        var paris = Calendar(identifier: .gregorian)
        paris.timeZone = try #require(TimeZone(identifier: "Europe/Paris"))
        let threeAM = try #require(
            paris.nextDate(
                after: Date(), matching: DateComponents(hour: 3, minute: 0, second: 0), matchingPolicy: .nextTime))
        #expect(Self.date(breakfast["nextRun"]) == threeAM, "\(breakfast)")
        #expect(breakfast["timezone"] as? String == "Europe/Paris")
        #expect(breakfast["lastRun"] == nil && breakfast["lastOutcome"] == nil, "\(breakfast)")

        // `stratus schedules`: the same, as a table.
        let (table, tableSettled) = try await Self.poll(timeout: .seconds(15)) {
            try host.cli(["schedules"]).stdout
        } until: {
            $0.contains(/heartbeat .* ok \(logs --event [0-9a-f-]+\)/)
        }
        #expect(tableSettled, "\(table)")
        let lines = table.split(separator: "\n").map(String.init)
        #expect(
            lines.first?.contains(/^NAME +EXPRESSION +TIMEZONE +FUNCTION +NEXT RUN +LAST RUN +OUTCOME$/) == true,
            "\(table)")
        let row = try #require(
            lines.lazy.compactMap {
                $0.wholeMatch(
                    of: /heartbeat +rate\(1 second\) +UTC +ping +(\S+) +(\S+) +ok \(logs --event ([0-9a-f-]+)\)/)
            }.first, "\(table)")
        let next = try #require(Self.seconds(String(row.1)), "\(row.0)")
        let last = try #require(Self.seconds(String(row.2)), "\(row.0)")
        #expect(next - last == 1, "\(row.0)")
        #expect(sink.events(of: "heartbeat").contains { $0["id"] as? String == String(row.3) })
        #expect(
            lines.contains {
                $0.contains(/^nightly +rate\(1 hour\) +UTC +ping +\S+ +\S+ +ok \(logs/)
                    && $0.hasSuffix("(logs --event \(nightlyId))")
            }, "\(table)")
        #expect(
            lines.contains { $0.contains(/^breakfast +cron\(0 3 \* \* \? \*\) +Europe\/Paris +ping +\S+ +- +-$/) },
            "\(table)")
        // `stratus logs --event ID` shows the attempt that delivered it.
        let attempts = try host.cli(["logs", "--event", nightlyId])
        #expect(attempts.status == 0)
        #expect(attempts.stdout.components(separatedBy: "START RequestId").count == 2, "\(attempts.stdout)")
        #expect(sink.events().filter { $0["kind"] as? String == "nightly" }.count == 1)
        #expect(await host.stop() == 0)
    }

    @Test func aFiringThatOverlapsARunningOneIsStillDelivered() async throws {
        let (project, sink) = try Self.project(
            """
            schedules:
              slow:
                expression: rate(1 second)
                function: ping
            """, pause: 2.5, manifest: "timeout: 5s\nscaling: {max: 4}\n")
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        #expect(await waitUntil(timeout: .seconds(30)) { !sink.times(of: "slow").isEmpty }, "\(host.log)")
        // Each run takes 2.5 s: firings one after the other would deliver 3 in 6 s, overlapping ones 6 or 7.
        try await Task.sleep(for: .seconds(6))
        let times = sink.times(of: "slow")
        #expect(times.count >= 5, "firings delivered in 6 s of a 2.5 s function at rate(1 second): \(times)")
        #expect(Self.gaps(times).isEmpty, "skipped times: \(Self.gaps(times))")
        #expect(Self.repeated(times).isEmpty)
        let records = try await HTTP.get(host.controlURL + "/v1/logs?function=ping&limit=1000").json?["invocations"]
        let statuses = (records as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
        #expect(!statuses.isEmpty && statuses.allSatisfy { $0 == "ok" }, "\(statuses)")
        #expect(await host.stop() == 0)
    }

    // MARK: Durability and missed firings

    @Test func aHostKilledMidRunNeitherLosesNorRepeatsAFiring() async throws {
        let (project, sink) = try Self.project(
            """
            schedules:
              heartbeat:
                expression: rate(1 second)
                function: ping
                missed: all
            """, pause: 0.4, manifest: "scaling: {max: 4}\n")
        defer { project.remove() }
        var hosts: [DaemonHost] = []
        defer { for host in hosts where host.process.isRunning { host.process.signal(SIGKILL) } }
        let kills = 3
        for round in 0...kills {
            // Started as a daemon is: its own session, stdin from /dev/null.
            let host = try await DaemonHost(project: project.path)
            hosts.append(host)
            let before = Set(sink.times(of: "heartbeat")).count
            let fired = await waitUntil(timeout: .seconds(30)) { Set(sink.times(of: "heartbeat")).count >= before + 3 }
            #expect(fired, "round \(round): \(host.process.output)")
            if round == kills { break }
            // Killed at any moment of a second: between firings, mid-commit or mid-invocation (each takes 0.4 s).
            try await Task.sleep(for: .milliseconds(Int.random(in: 0..<1000)))
            host.process.signal(SIGKILL)
            _ = await host.process.wait()
            try await Task.sleep(for: .milliseconds(1500))
        }
        let host = try #require(hosts.last)
        // What was committed before a kill is delivered after the restart; nothing fell between.
        let (times, complete) = await Self.poll(timeout: .seconds(30)) {
            sink.times(of: "heartbeat")
        } until: {
            Self.gaps($0).isEmpty
        }
        #expect(complete, "times never received: \(Self.gaps(times)) of \(Set(times).count)")
        #expect(Set(times).count >= 4 * 3)
        let missed = try await Self.missedEvents(host.controlURL)
        #expect(missed.count == kills, "one SCHEDULE_MISSED per restart: \(missed)")
        #expect(missed.allSatisfy { ($0["message"] as? String)?.contains("schedule heartbeat: ") == true })
        #expect(missed.allSatisfy { ($0["message"] as? String)?.contains("oldest first (missed: all)") == true })
        #expect(await host.stop() == 0)

        // At least once: an invocation may run twice (the host died after it ran, before its delivery was marked
        // done), with the same event id. A scheduled time fired twice (two ids) is a firing repeated.
        var idsByTime: [Int: Set<String>] = [:]
        var deliveries: [String: Int] = [:]
        for event in sink.events(of: "heartbeat") {
            guard let time = Self.seconds(event["time"]), let id = event["id"] as? String else { continue }
            idsByTime[time, default: []].insert(id)
            deliveries[id, default: 0] += 1
        }
        let refired = idsByTime.filter { $0.value.count > 1 }
        #expect(refired.isEmpty, "scheduled times fired more than once: \(refired)")
        let redelivered = deliveries.values.reduce(0) { $0 + $1 - 1 }
        print(
            "schedules durability: \(idsByTime.count) times from \(idsByTime.keys.min() ?? 0) to \(idsByTime.keys.max() ?? 0), host killed \(kills) times, \(redelivered) invocations delivered again with the same event id"
        )
        #expect(Self.gaps(Array(idsByTime.keys)).isEmpty)
    }

    @Test func missedFiringsFollowTheSchedulePolicy() async throws {
        let policies = ["skip", "once", "all"]
        let (project, sink) = try Self.project(
            "schedules:\n"
                + policies.map {
                    "  \($0)-policy:\n    expression: rate(1 second)\n    function: ping\n    missed: \($0)\n"
                }
                .joined())
        defer { project.remove() }
        let first = try await ServeProcess(project: project.path)
        #expect(
            await waitUntil(timeout: .seconds(30)) {
                policies.allSatisfy { sink.times(of: "\($0)-policy").count >= 2 }
            },
            "\(first.log)")
        #expect(await first.stop() == 0)
        let stopped = Date()
        // Down for 4.5 s: 4 or 5 firings of each schedule fall while no host runs.
        try await Task.sleep(for: .milliseconds(4500))
        let launched = Date()
        let host = try await ServeProcess(project: project.path)
        let ready = Date()
        let restarted = await waitUntil(timeout: .seconds(30)) {
            policies.allSatisfy { policy in
                sink.times(of: "\(policy)-policy").filter { $0 > Int(ready.timeIntervalSince1970) }.count >= 2
            }
        }
        #expect(restarted, "\(host.log)")

        // One SCHEDULE_MISSED per schedule, naming it: "schedule NAME: N firings from TIME were missed; …".
        let (missed, _) = try await Self.poll {
            try await Self.missedEvents(host.controlURL)
        } until: {
            $0.count >= policies.count
        }
        #expect(missed.count == policies.count, "\(missed)")
        for policy in policies {
            let name = "\(policy)-policy"
            let messages = missed.compactMap { $0["message"] as? String }.filter { $0.hasPrefix("schedule \(name): ") }
            #expect(messages.count == 1, "\(name): \(missed)")
            guard let message = messages.first,
                let match = message.firstMatch(of: /: (\d+) firings from (\S+) were missed; (.*)$/),
                let count = Int(match.1), let from = Self.seconds(String(match.2))
            else {
                Issue.record("\(name): unexpected SCHEDULE_MISSED message: \(messages)")
                continue
            }
            #expect(missed.first { ($0["message"] as? String) == message }?["function"] as? String == "ping")
            #expect(message.hasSuffix("(missed: \(policy))"), "\(message)")
            // The missed firings are the downtime's: from the first after the stop to the last before the start.
            let missedTimes = from..<(from + count)
            #expect(count >= 3, "\(message)")
            #expect(from <= Int(stopped.timeIntervalSince1970) + 1, "missed from \(from), stopped at \(stopped)")
            #expect(
                missedTimes.upperBound - 1 >= Int(launched.timeIntervalSince1970) - 1,
                "\(message), launched \(launched)")
            #expect(missedTimes.upperBound - 1 <= Int(ready.timeIntervalSince1970), "\(message), ready \(ready)")

            // Around them, every firing was delivered, once.
            let times = sink.times(of: name)
            #expect(Self.repeated(times).isEmpty, "\(name): delivered twice: \(Self.repeated(times))")
            #expect(Self.gaps(times.filter { $0 < from }).isEmpty, "\(name) before the stop: \(times)")
            #expect(Self.gaps(times.filter { $0 >= missedTimes.upperBound }).isEmpty, "\(name) after: \(times)")
            #expect(times.contains { $0 < from } && times.contains { $0 >= missedTimes.upperBound })
            let deliveredMissed = times.filter { missedTimes.contains($0) }.sorted()
            switch policy {
            case "skip":
                #expect(deliveredMissed.isEmpty, "missed: skip delivered \(deliveredMissed)")
                let after = times.filter { $0 >= from }.min()
                #expect(
                    after.map { $0 >= Int(launched.timeIntervalSince1970) } == true, "\(times), launched \(launched)")
            case "once":
                #expect(deliveredMissed == [from], "missed: once delivered \(deliveredMissed) of \(Array(missedTimes))")
            default:
                #expect(deliveredMissed == Array(missedTimes), "missed: all delivered \(deliveredMissed)")
            }
        }
        #expect(await host.stop() == 0)
    }

    // MARK: Reload and validation

    @Test func schedulesComeChangeAndGoUnderWatch() async throws {
        let (project, sink) = try Self.project("schedules:\n")
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path, extraArguments: ["--watch"])
        let file = "triggers/schedules.yaml"
        func schedule(_ expression: String) -> String {
            "schedules:\n  tick:\n    expression: \(expression)\n    function: ping\n"
        }

        // Added: it fires without a restart.
        try Self.save(project, file, schedule("rate(1 second)"))
        #expect(await waitUntil(timeout: .seconds(15)) { sink.times(of: "tick").count >= 2 }, "\(host.log)")
        #expect(host.log.contains("schedule  tick rate(1 second) -> ping (new)"), "\(host.log)")

        // Changed: the new rate takes over (the last firings 2 s apart).
        try Self.save(project, file, schedule("rate(2 seconds)"))
        let every2s = { @Sendable in
            let times = Array(Set(sink.times(of: "tick"))).sorted().suffix(3)
            return times.count == 3 && zip(times, times.dropFirst()).allSatisfy { $1 - $0 == 2 }
        }
        #expect(await waitUntil(timeout: .seconds(20)) { every2s() }, "\(sink.times(of: "tick"))")
        #expect(host.log.contains("schedule  tick rate(2 seconds) -> ping (changed)"), "\(host.log)")
        #expect(try await Self.schedules(host.controlURL)["tick"]?["expression"] as? String == "rate(2 seconds)")

        // Broken: refused with file, line and key; the last good schedule keeps firing.
        try Self.save(project, file, schedule("cron(0 2 * * * *)"))
        #expect(
            await waitUntil {
                host.log.contains(
                    "FAILED    triggers/schedules.yaml:3: schedules.tick.expression: one of day-of-month and day-of-week must be ?"
                )
            }, "\(host.log)")
        #expect(host.log.contains("the last good trigger files keep serving"))
        let beforeBroken = Set(sink.times(of: "tick")).count
        #expect(await waitUntil(timeout: .seconds(15)) { Set(sink.times(of: "tick")).count >= beforeBroken + 2 })
        #expect(every2s(), "\(sink.times(of: "tick"))")
        #expect(try await Self.schedules(host.controlURL)["tick"]?["expression"] as? String == "rate(2 seconds)")
        let events = try host.cli(["logs", "--events"]).stdout
        #expect(
            events.contains("RELOAD_FAILED host: triggers/schedules.yaml:3: schedules.tick.expression"), "\(events)")

        // Removed: no more firings.
        try Self.save(project, file, "schedules:\n")
        #expect(await waitUntil { host.log.contains("schedule  tick removed") }, "\(host.log)")
        #expect(try await Self.schedules(host.controlURL).isEmpty)
        try await Task.sleep(for: .seconds(1))
        let count = sink.events().count
        try await Task.sleep(for: .seconds(4))
        #expect(sink.events().count == count, "fired after removal: \(sink.times(of: "tick"))")
        // Each firing delivered once. A changed rate starts afresh and fires at once, so its first time may share
        // its second with the old rate's last one (times are whole seconds), but no other time repeats.
        let ids = sink.events(of: "tick").compactMap { $0["id"] as? String }
        #expect(Set(ids).count == ids.count, "\(ids)")
        let times = sink.times(of: "tick")
        #expect(Self.repeated(times).count <= 1, "\(times)")
        #expect(await host.stop() == 0)
    }

    @Test func validateNamesTheFileLineAndKeyOfABadSchedule() throws {
        let (project, _) = try Self.project(
            """
            schedules:
              nightly:
                expression: cron(30 2 ? * MON-FRI *)
                timezone: America/New_York
                function: ping
                missed: skip
            """)
        defer { project.remove() }
        let good = try StratusBinary.run(["validate", project.path])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")

        try project.write(
            "triggers/cron.yaml",
            """
            # both day fields set
            schedules:
              report:
                function: ping
                expression: cron(0 2 * * * *)
            """)
        try project.write(
            "triggers/zone.yaml",
            """
            schedules:
              lunch:
                expression: cron(0 12 * * ? *)
                timezone: Mars/Olympus_Mons
                function: ping
            """)
        let bad = try StratusBinary.run(["validate", project.path])
        #expect(bad.status == 65, "\(bad.stdout)\(bad.stderr)")
        #expect(
            bad.stdout.contains(
                "triggers/cron.yaml:5: schedules.report.expression: one of day-of-month and day-of-week must be ?"),
            "\(bad.stdout)")
        #expect(
            bad.stdout.contains(
                "triggers/zone.yaml:4: schedules.lunch.timezone: unknown time zone 'Mars/Olympus_Mons'"),
            "\(bad.stdout)")
    }
}

import Foundation
import StratusTesting
import Synchronization
import Testing

/// `stratus serve --watch`: edits to functions/ and triggers/ go live while the host serves, through the built
/// binary, with real workers and real HTTP on loopback.
@Suite(.serialized) struct HotReloadTests {
    static func handler(_ body: String) -> String {
        """
        import time
        def handler(event, context):
            if event["rawPath"] == "/slow":
                time.sleep(1.5)
            return {"statusCode": 200, "body": "\(body)"}
        """
    }

    static let route = """
        http:
          - route: GET /hello
            function: hello
          - route: GET /slow
            function: hello
        """

    /// Saves a file as editors do: written aside, then renamed over the old one.
    static func save(_ project: TemporaryProject, _ path: String, _ contents: String) throws {
        let target = project.path + "/" + path
        try contents.write(toFile: target + ".tmp", atomically: false, encoding: .utf8)
        guard rename(target + ".tmp", target) == 0 else { throw ServeError(message: "rename \(path)") }
    }

    /// What the callers saw, and when they stop.
    final class Answers: Sendable {
        let list = Mutex<[(Int, String)]>([])
        let stop = Atomic<Bool>(false)
    }

    static func body(_ url: String) async throws -> (Int, String) {
        let answer = try await HTTP.get(url)
        return (answer.status, String(decoding: answer.body, as: UTF8.self))
    }

    @Test func editsGoLiveUnderLoadWithoutAFailedRequest() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("hello", code: Self.handler("rev 0"), manifest: "scaling: {min: 1, max: 6}\n")
        try project.write("triggers/http.yaml", Self.route)
        let host = try await ServeProcess(project: project.path, extraArguments: ["--watch"])
        let url = host.gatewayURL + "/hello"
        #expect(try await Self.body(url) == (200, "rev 0"))

        // 12 callers keep calling while the handler is edited 6 times: no request fails, each edit goes live.
        let answers = Answers()
        let callers = (0..<12).map { _ in
            Task {
                while !answers.stop.load(ordering: .relaxed) {
                    let answer = (try? await Self.body(url)) ?? (0, "connection failed")
                    answers.list.withLock { $0.append(answer) }
                }
            }
        }
        for revision in 1...6 {
            try Self.save(project, "functions/hello/app.py", Self.handler("rev \(revision)"))
            let live = await waitUntil(timeout: .seconds(10)) {
                answers.list.withLock { $0.last?.1 == "rev \(revision)" }
            }
            #expect(live, "revision \(revision) never answered")
        }
        answers.stop.store(true, ordering: .relaxed)
        for caller in callers { await caller.value }
        let all = answers.list.withLock { $0 }
        let saved = Set((0...6).map { "rev \($0)" })
        let failed = all.filter { $0.0 != 200 || !saved.contains($0.1) }
        #expect(all.count > 50)
        #expect(failed.isEmpty, "\(failed.count) of \(all.count) requests failed, e.g. \(failed.prefix(3))")
        // Saves closer together than a reload takes may be applied as one.
        let events = try host.cli(["logs", "--events", "--limit", "1000"]).stdout
        let reloads = events.split(separator: "\n").filter { $0.contains("RELOADED hello: rev ") }
        #expect((1...6).contains(reloads.count), "\(reloads)\n\(host.log)")

        // An invocation running when its revision is replaced finishes on it; the log names each one's revision.
        let slow = Task { try await HTTP.get(host.gatewayURL + "/slow") }
        try await Task.sleep(for: .milliseconds(300))
        try Self.save(project, "functions/hello/app.py", Self.handler("rev 7"))
        #expect(await waitUntil { (try? await Self.body(url)) ?? (0, "") == (200, "rev 7") })
        let slowAnswer = try await slow.value
        #expect(slowAnswer.status == 200)
        #expect(String(decoding: slowAnswer.body, as: UTF8.self) == "rev 6")
        let revisions = try #require(
            host.log.matches(of: /reloaded  hello  rev ([0-9a-f]{8}) → ([0-9a-f]{8})/).last.map { ($0.1, $0.2) })
        let records = try host.cli(["logs", "hello", "--limit", "20", "--json"]).stdout.split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let slowRecord = records.first { $0["id"] as? String == slowAnswer.header("x-stratus-invocation-id") }
        #expect(slowRecord?["revision"] as? String == String(revisions.0))
        #expect(records.last?["revision"] as? String == String(revisions.1))
        #expect(try await Self.body(url) == (200, "rev 7"))
        let text = try host.cli(["logs", "hello", "--limit", "1"]).stdout
        #expect(text.contains("Version: $LATEST Revision: \(revisions.1)"))
        let lastEvents = try host.cli(["logs", "--events", "--limit", "1000"]).stdout
        #expect(lastEvents.contains("RELOADED hello: rev \(revisions.0) → \(revisions.1)"))
        #expect(await host.stop() == 0)
    }

    @Test func aBrokenEditIsReportedAndTheLastGoodVersionKeepsServing() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("hello", code: Self.handler("good"))
        try project.write("triggers/http.yaml", Self.route)
        let host = try await ServeProcess(project: project.path, extraArguments: ["--watch"])
        let url = host.gatewayURL + "/hello"
        #expect(try await Self.body(url) == (200, "good"))

        // An unknown key: reported with file and line, the function keeps its last good version.
        try Self.save(
            project, "functions/hello/function.yaml", "runtime: python\nhandler: app.handler\ntimeout: 3s\nbogus: 1\n")
        #expect(await waitUntil { host.log.contains("FAILED    functions/hello/function.yaml:4: bogus: unknown key") })
        #expect(host.log.contains("keeps serving"))
        #expect(try await Self.body(url) == (200, "good"))
        // Invalid YAML and a code change together: still the last good version.
        try Self.save(project, "functions/hello/function.yaml", "runtime: [python\n")
        try Self.save(project, "functions/hello/app.py", Self.handler("unseen"))
        #expect(
            await waitUntil {
                host.log.contains("FAILED    functions/hello/function.yaml:") && host.log.contains("YAML")
            })
        #expect(try await Self.body(url) == (200, "good"))

        // A route to a function that does not exist: the trigger files keep their last good version.
        try Self.save(
            project, "triggers/http.yaml", Self.route + "\n  - route: GET /ghost\n    function: ghost\n")
        #expect(
            await waitUntil {
                host.log.contains("FAILED    triggers/http.yaml:7: http[2].function: unknown function 'ghost'")
            }, "\(host.log)")
        #expect(host.log.contains("the last good trigger files keep serving"))
        #expect(try await Self.body(host.gatewayURL + "/ghost").0 == 404)
        #expect(try await Self.body(url) == (200, "good"))

        let events = try host.cli(["logs", "--events"]).stdout
        #expect(events.contains("RELOAD_FAILED hello: functions/hello/function.yaml:4: bogus"))
        #expect(events.contains("RELOAD_FAILED host: triggers/http.yaml:7"))

        // Fixed: the edit goes live.
        try Self.save(project, "functions/hello/function.yaml", "runtime: python\nhandler: app.handler\n")
        #expect(await waitUntil { (try? await Self.body(url)) ?? (0, "") == (200, "unseen") })
        try Self.save(project, "triggers/http.yaml", Self.route)

        // Code that cannot even be imported: its workers are started first, none starts, and the running
        // revision keeps serving; the error names the line.
        try Self.save(project, "functions/hello/app.py", "def handler(event, context)\n    return 1\n")
        #expect(await waitUntil { host.log.contains("does not start: Runtime.UserCodeSyntaxError") }, "\(host.log)")
        #expect(host.log.contains("keeps serving"))
        #expect(try await Self.body(url) == (200, "unseen"))
        let failed = try host.cli(["logs", "--events"]).stdout
        #expect(failed.contains("RELOAD_FAILED hello: rev "))
        try Self.save(project, "functions/hello/app.py", Self.handler("fixed"))
        #expect(await waitUntil { (try? await Self.body(url)) ?? (0, "") == (200, "fixed") })
        #expect(await host.stop() == 0)
    }

    @Test func functionsAndTriggersComeAndGoWithoutARestart() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("hello", code: Self.handler("hello"))
        try project.write("triggers/http.yaml", Self.route)
        let host = try await ServeProcess(project: project.path, extraArguments: ["--watch"])
        #expect(try await Self.body(host.gatewayURL + "/bye").0 == 404)

        // A new function directory, then its route, a queue it consumes and a topic feeding the queue.
        try project.addPython(
            "bye",
            code: """
                def handler(event, context):
                    if "Records" in event:
                        for record in event["Records"]:
                            print("consumed", record["body"])
                        return {}
                    return {"statusCode": 200, "body": "bye"}
                """)
        #expect(await waitUntil { host.log.contains("loaded    bye  (python, rev ") })
        try Self.save(
            project, "triggers/more.yaml",
            """
            http:
              - route: GET /bye
                function: bye
            queues:
              work:
                consumer: {function: bye, batchSize: 1}
            topics:
              news:
                subscriptions:
                  - queue: work
            """)
        #expect(await waitUntil { (try? await Self.body(host.gatewayURL + "/bye")) ?? (0, "") == (200, "bye") })
        #expect(try host.cli(["publish", "news", "--data", "first"]).status == 0)
        #expect(await waitUntil { (try? host.cli(["logs", "bye"]).stdout.contains("consumed")) == true })

        // The consumer and the subscription go away with the file; the queue keeps what is sent to it.
        try Self.save(project, "triggers/more.yaml", "http:\n  - route: GET /bye\n    function: bye\n")
        #expect(await waitUntil { host.log.contains("queue     work no longer declared") })
        #expect(host.log.contains("topic     news no longer declared"))
        #expect(try host.cli(["send", "work", "--data", "kept"]).status == 0)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try host.queueCounts()["work"]?["visible"] == 1, "no consumer takes it any more")
        let topics = try host.cli(["topics"]).stdout
        #expect(!topics.contains("queue:work"), "\(topics)")

        // The function directory removed: its route goes with the trigger file edit, and it answers 404.
        try FileManager.default.removeItem(atPath: project.path + "/functions/bye")
        try FileManager.default.removeItem(atPath: project.path + "/triggers/more.yaml")
        #expect(await waitUntil { host.log.contains("removed   bye") })
        #expect(await waitUntil { (try? await Self.body(host.gatewayURL + "/bye"))?.0 == 404 })
        let status = try host.cli(["status"]).stdout
        #expect(!status.contains("bye"), "\(status)")
        #expect(try await Self.body(host.gatewayURL + "/hello") == (200, "hello"))
        #expect(await host.stop() == 0)
    }

    @Test func aConsumerChangedMidStreamLosesAndRepeatsNothing() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        func worker(_ tag: String) -> String {
            """
            import time
            def handler(event, context):
                for record in event["Records"]:
                    print("\(tag)", record["body"])
                time.sleep(0.2)
                return {}
            """
        }
        try project.addPython("worker", code: worker("v1"))
        let queue = { (batch: Int) in "queues:\n  jobs:\n    consumer: {function: worker, batchSize: \(batch)}\n" }
        try project.write("triggers/queues.yaml", queue(2))
        let host = try await ServeProcess(project: project.path, extraArguments: ["--watch"])
        for index in 0..<60 {
            let sent = try await HTTP.post(host.controlURL + "/v1/queues/jobs/messages", json: ["body": "m\(index)"])
            #expect(sent.status == 201)
        }
        // While the queue drains: the consumer's batch size and the function's code change.
        try Self.save(project, "triggers/queues.yaml", queue(5))
        try Self.save(project, "functions/worker/app.py", worker("v2"))
        // Once the reload is done, 20 more: the new code consumes them.
        #expect(await waitUntil(timeout: .seconds(30)) { host.log.contains("reloaded  worker") })
        for index in 60..<80 {
            let sent = try await HTTP.post(host.controlURL + "/v1/queues/jobs/messages", json: ["body": "m\(index)"])
            #expect(sent.status == 201)
        }
        #expect(
            await waitUntil(timeout: .seconds(30)) {
                (try? host.queueCounts()["jobs"]) == ["visible": 0, "inFlight": 0, "delayed": 0]
            })
        #expect(host.log.contains("queue     jobs -> worker (changed)"))
        #expect(host.log.contains("reloaded  worker"))

        let records = try host.cli(["logs", "worker", "--limit", "1000", "--json"]).stdout.split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        var seen: [String: Int] = [:]
        var byNewCode: Set<String> = []
        for record in records {
            #expect(record["status"] as? String == "ok")
            for line in (record["output"] as? String ?? "").split(separator: "\n") {
                let words = line.split(separator: " ")
                guard words.count == 2, words[0] == "v1" || words[0] == "v2" else { continue }
                seen[String(words[1]), default: 0] += 1
                if words[0] == "v2" { byNewCode.insert(String(words[1])) }
            }
        }
        #expect(seen.count == 80, "messages processed: \(seen.count) of 80")
        #expect(seen.values.allSatisfy { $0 == 1 }, "processed more than once: \(seen.filter { $0.value > 1 })")
        let sentAfter = Set((60..<80).map { "m\($0)" })
        #expect(sentAfter.isSubset(of: byNewCode), "sent after the reload, consumed by the new code")
        #expect(await host.stop() == 0)
    }
}

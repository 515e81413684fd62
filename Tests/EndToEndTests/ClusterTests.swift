import Foundation
import StratusTesting
import Synchronization
import Testing

/// Several hosts on one PostgreSQL database, run as a team would run them: each its own process and state
/// directory, clients spread over them, hosts killed with SIGKILL mid-load and restarted.
@Suite(.serialized) struct ClusterTests {
    static let tick = """
        import json, os
        def handler(event, context):
            with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "ticks.log"), "a") as f:
                f.write(event["time"] + "\\n")
        """

    final class Hosts: Sendable {
        let hosts: Mutex<[ServeProcess?]>
        init(_ hosts: [ServeProcess]) { self.hosts = Mutex(hosts) }
        /// The control URL of a running host, round robin.
        func url(_ n: Int) -> String? {
            hosts.withLock { hosts in
                let live = hosts.compactMap { $0 }
                return live.isEmpty ? nil : live[n % live.count].controlURL
            }
        }
    }

    final class Progress: Sendable {
        let acknowledged = Mutex<[String]>([])
        let next = Atomic<Int>(0)
    }

    func serve(_ project: TemporaryProject, _ store: String, _ name: String) async throws -> ServeProcess {
        try await ServeProcess(
            project: project.path, extraArguments: ["--store", store, "--state", project.path + "/.state-" + name])
    }

    /// Stops `host` as SIGTERM does; it must exit cleanly (it leaves the cluster on its way out).
    func stop(_ host: ServeProcess) async {
        let started = ContinuousClock.now
        let status = await host.stop()
        let log = host.log
        let crash =
            log.range(of: "crashed").map { String(log[$0.lowerBound...].prefix(4000)) } ?? String(log.suffix(3000))
        #expect(status == 0, "exit \(status) after \(ContinuousClock.now - started):\n\(crash)")
    }

    /// `GET /v1/status`'s `cluster` from `url`.
    func cluster(_ url: String) async -> [String: Any]? {
        guard let answer = try? await HTTP.request("GET", url + "/v1/status", timeout: .seconds(5)),
            answer.status == 200
        else { return nil }
        return answer.json?["cluster"] as? [String: Any]
    }

    func leaderId(_ url: String) async -> String? {
        let hosts = await cluster(url)?["hosts"] as? [[String: Any]] ?? []
        return hosts.first { $0["leader"] as? Bool == true }?["id"] as? String
    }

    /// The leader `url` reports once it is not `previous`, waiting up to `timeout`.
    func waitForLeader(_ url: String, other previous: String? = nil, timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let leader = await leaderId(url), leader != previous { return leader }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// Three hosts, 10,000 messages through a topic into a queue consumed by a function; one host SIGKILLed at a
    /// third of the load and started again at two thirds. Every acknowledged message reaches the function.
    @Test func threeHostsLoseNothingWhenOneIsKilled() async throws {
        let database = try PostgresServer.start().makeDatabase()
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("sink", code: Fixtures.messageIdSink, manifest: "timeout: 5s\nscaling: {max: 4}\n")
        try project.write(
            "triggers/flow.yaml",
            """
            topics:
              in:
                subscriptions:
                  - queue: work
            queues:
              work:
                visibilityTimeout: 5s
                consumer: {function: sink, batchSize: 10, maxConcurrency: 2}
            """)
        var started: [ServeProcess] = []
        for name in ["a", "b", "c"] { started.append(try await serve(project, database, name)) }
        let hosts = Hosts(started)
        let first = started[0].controlURL
        let joined = await waitUntil(timeout: .seconds(30)) {
            (await self.cluster(first)?["hosts"] as? [Any])?.count == 3
        }
        #expect(joined, "status lists the three hosts")

        let total = 10_000
        let progress = Progress()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var attempt = worker
                    while true {
                        let n = progress.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        if n >= total { return }
                        // Retry on another host until acknowledged: a publish that got no answer may or may not
                        // be stored (at least once).
                        while true {
                            attempt += 1
                            if let url = hosts.url(attempt),
                                let answer = try? await HTTP.request(
                                    "POST", url + "/v1/topics/in/publish", json: ["message": "message \(n)"],
                                    timeout: .seconds(10)),
                                answer.status == 201, let id = answer.json?["messageId"] as? String
                            {
                                progress.acknowledged.withLock { $0.append(id) }
                                break
                            }
                            try await Task.sleep(for: .milliseconds(20))
                        }
                    }
                }
            }
            group.addTask {
                _ = await waitUntil(timeout: .seconds(300)) {
                    progress.acknowledged.withLock { $0.count } >= total / 3
                }
                let victim = hosts.hosts.withLock { hosts in
                    defer { hosts[1] = nil }
                    return hosts[1]!
                }
                kill(victim.process.processIdentifier, SIGKILL)
                print("cluster: killed host b after \(progress.acknowledged.withLock { $0.count }) acknowledged")
                _ = await waitUntil(timeout: .seconds(300)) {
                    progress.acknowledged.withLock { $0.count } >= 2 * total / 3
                }
                let fresh = try await self.serve(project, database, "b2")
                hosts.hosts.withLock { $0[1] = fresh }
                print("cluster: started host b again after \(progress.acknowledged.withLock { $0.count }) acknowledged")
            }
            try await group.waitForAll()
        }

        let ids = progress.acknowledged.withLock { $0 }
        #expect(ids.count == total)
        let logPath = project.path + "/functions/sink/ids.log"
        @Sendable func delivered() -> [Substring] {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        let expected = Set(ids)
        let complete = await waitUntil(timeout: .seconds(180), every: .milliseconds(250)) {
            expected.isSubset(of: Set(delivered().map(String.init)))
        }
        let seen = delivered()
        let missing = expected.subtracting(seen.map(String.init))
        // Which hosts ran the function, from the log any host shows.
        var byHost: [String: Int] = [:]
        if let url = hosts.url(0),
            let answer = try? await HTTP.request(
                "GET", url + "/v1/logs?function=sink&limit=1000", timeout: .seconds(30)),
            let records = answer.json?["invocations"] as? [[String: Any]]
        {
            for record in records { byHost[record["host"] as? String ?? "?", default: 0] += 1 }
        }
        print(
            "cluster: \(total) acknowledged, \(seen.count) deliveries, \(seen.count - Set(seen).count) duplicates, \(missing.count) missing; batches by host \(byHost)"
        )
        #expect(complete, "\(missing.count) acknowledged messages never reached the consumer")
        #expect(missing.isEmpty)
        #expect(byHost.count >= 3, "the function ran on every host that lived: \(byHost)")
        for host in hosts.hosts.withLock({ $0 }).compactMap({ $0 }) { await stop(host) }
    }

    /// A `rate(1 second)` schedule on three hosts fires on the leader only; SIGKILL the leader and another host
    /// takes over within the lease time, catching up every second it missed: no scheduled time is skipped, and
    /// none fires twice.
    @Test func theLeaderKilledWhileAScheduleRunsLosesNoFiring() async throws {
        let database = try PostgresServer.start().makeDatabase()
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("tick", code: Self.tick)
        try project.write(
            "triggers/schedules.yaml",
            """
            schedules:
              every-second:
                expression: rate(1 second)
                function: tick
            """)
        var started: [ServeProcess] = []
        for name in ["a", "b", "c"] { started.append(try await serve(project, database, name)) }
        let url = started[0].controlURL
        let leader = await waitForLeader(url, timeout: .seconds(30))
        let leaderProcess = try #require(
            started.first { leader?.hasSuffix(":\($0.process.processIdentifier)") == true },
            "a leader: \(leader ?? "-")")
        let ticksPath = project.path + "/functions/tick/ticks.log"
        @Sendable func ticks() -> [Substring] {
            ((try? String(contentsOfFile: ticksPath, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        _ = await waitUntil(timeout: .seconds(60)) { ticks().count >= 4 }
        kill(leaderProcess.process.processIdentifier, SIGKILL)
        let killedAt = Date()
        let before = ticks().count
        print("cluster: killed the leader \(leader ?? "-") after \(before) firings")
        let others = started.filter { $0 !== leaderProcess }
        let successor = await waitForLeader(others[0].controlURL, other: leader, timeout: .seconds(30))
        let elected = successor != nil
        let takeover = Date().timeIntervalSince(killedAt)
        #expect(elected, "another host leads after the leader was killed: \(successor ?? "-")")
        let resumed = await waitUntil(timeout: .seconds(60)) { ticks().count >= before + 6 }
        #expect(resumed, "firings continue after the leader was killed: \(ticks().count) after \(before)")
        try await Task.sleep(for: .seconds(2))
        let times = ticks().map(String.init)
        let seconds = Set(times.compactMap { ISO8601DateFormatter().date(from: $0)?.timeIntervalSince1970 })
        let first = seconds.min() ?? 0
        let last = seconds.max() ?? 0
        let holes = stride(from: first, through: last, by: 1).filter { !seconds.contains($0) }
        print(
            "cluster: leader \(leader ?? "-") killed, \(successor ?? "-") elected after \(String(format: "%.2f", takeover)) s; \(times.count) firings over \(Int(last - first) + 1) s, \(times.count - seconds.count) repeated, \(holes.count) skipped"
        )
        #expect(holes.isEmpty, "every scheduled second fired: skipped \(holes)")
        #expect(times.count - seconds.count <= 1, "at most the firing in flight at the kill repeats")
        for host in others { await stop(host) }
    }

    /// A function deployed with `stratus deploy` to one host is served by every host, a host started later
    /// included; a rollback on another host rolls every host back.
    /// A send on one host wakes a long poll waiting on any other: the message is handed to one other host in
    /// turn, and passed on to every host when that one has no receiver for it.
    @Test func aSendWakesALongPollOnAnyOtherHost() async throws {
        let database = try PostgresServer.start().makeDatabase()
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.write("triggers/queues.yaml", "queues:\n  inbox: {}\n")
        let a = try await serve(project, database, "a")
        let b = try await serve(project, database, "b")
        let c = try await serve(project, database, "c")
        #expect(
            await waitUntil(timeout: .seconds(30)) {
                (await self.cluster(a.controlURL)?["hosts"] as? [Any])?.count == 3
            })
        // Each receiving host in turn, more times than there are hosts to hand to: every target is tried.
        for (round, receiver) in [b, c, b, c, c, b].enumerated() {
            let started = ContinuousClock.now
            async let polled = HTTP.post(
                "\(receiver.controlURL)/v1/queues/inbox/receive", json: ["max": 1, "wait": "20s"])
            try await Task.sleep(for: .milliseconds(300))  // the long poll waits
            let sent = try await HTTP.post("\(a.controlURL)/v1/queues/inbox/messages", json: ["body": "m\(round)"])
            #expect(sent.status == 200 || sent.status == 201, "\(sent.text)")
            let answer = try await polled
            let bodies = (answer.json?["messages"] as? [[String: Any]])?.compactMap { $0["body"] as? String }
            #expect(bodies == ["m\(round)"], "round \(round): \(answer.text)")
            // Woken by the send, not by the end of its 20 s wait.
            #expect(ContinuousClock.now - started < .seconds(10), "round \(round) answered at the end of its wait")
        }
        for host in [a, b, c] { await stop(host) }
    }

    @Test func aDeployOnOneHostServesOnEvery() async throws {
        let database = try PostgresServer.start().makeDatabase()
        let project = try TemporaryProject()
        defer { project.remove() }
        let source = try TemporaryProject()
        defer { source.remove() }
        try source.write("function.yaml", "runtime: python\nhandler: app.handler\n")
        try source.write("app.py", "def handler(event, context):\n    return {'v': 1}\n")
        let a = try await serve(project, database, "a")
        let b = try await serve(project, database, "b")
        let deployed = try a.cli(["deploy", source.path, "--name", "shared"])
        #expect(deployed.status == 0, "\(deployed.stderr)")
        @Sendable func answer(_ host: ServeProcess) -> String {
            (try? host.cli(["invoke", "shared"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
        }
        #expect(await waitUntil(timeout: .seconds(30)) { answer(b) == #"{"v":1}"# }, "b serves rev 1: \(answer(b))")
        try source.write("app.py", "def handler(event, context):\n    return {'v': 2}\n")
        #expect(try b.cli(["deploy", source.path, "--name", "shared"]).status == 0)
        #expect(await waitUntil(timeout: .seconds(30)) { answer(a) == #"{"v":2}"# }, "a serves rev 2: \(answer(a))")
        let c = try await serve(project, database, "c")
        #expect(
            await waitUntil(timeout: .seconds(30)) { answer(c) == #"{"v":2}"# }, "a host started later: \(answer(c))")
        #expect(try c.cli(["rollback", "shared"]).status == 0)
        for host in [a, b] {
            #expect(
                await waitUntil(timeout: .seconds(30)) { answer(host) == #"{"v":1}"# }, "rolled back: \(answer(host))")
        }
        for host in [a, b, c] { await stop(host) }
    }

    /// The database stopped under a running host: HTTP routes and sync invokes go on, what needs the store
    /// answers 503 in each protocol's shape, and once the database is back everything works again and what
    /// was acknowledged before is processed.
    @Test func anUnreachableDatabaseAnswers503AndComesBack() async throws {
        let server = try PostgresServer.startPrivate()
        defer { server.stop() }
        let database = try server.makeDatabase()
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("sink", code: Fixtures.messageIdSink, manifest: "timeout: 5s\n")
        try project.addPython(
            "hello", code: "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hi'}\n")
        try project.write(
            "triggers/flow.yaml",
            """
            http:
              - route: GET /hello
                function: hello
            topics:
              in:
                subscriptions:
                  - queue: work
            queues:
              work:
                consumer: {function: sink, batchSize: 10}
              parked: {}
            """)
        let host = try await serve(project, database, "a")
        let before = try await HTTP.request(
            "POST", host.controlURL + "/v1/topics/in/publish", json: ["message": "before"])
        #expect(before.status == 201)
        let beforeId = before.json?["messageId"] as? String ?? "-"

        server.stop()
        let route = try await HTTP.request("GET", host.gatewayURL + "/hello", timeout: .seconds(10))
        #expect(route.status == 200 && route.text == "hi", "routes serve without the database: \(route.status)")
        let invoke = try host.cli(["invoke", "hello"])
        #expect(invoke.status == 0, "sync invokes serve without the database: \(invoke.stderr)")
        let send = try await HTTP.request(
            "POST", host.controlURL + "/v1/queues/parked/messages", json: ["body": "x"], timeout: .seconds(30))
        #expect(send.status == 503, "a send answers 503: \(send.status) \(send.text)")
        #expect((send.json?["error"] as? [String: Any])?["code"] as? String == "StoreUnavailable", "\(send.text)")
        let sqs = try await HTTP.request(
            "POST", host.controlURL + "/",
            headers: ["X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0"],
            body: Data(#"{"QueueUrl": "http://localhost/000000000000/parked", "MessageBody": "x"}"#.utf8),
            timeout: .seconds(30))
        #expect(sqs.status == 503, "SQS answers 503: \(sqs.status) \(sqs.text)")
        #expect(sqs.text.contains("ServiceUnavailable"), "\(sqs.text)")

        try server.restart()
        let back = await waitUntil(timeout: .seconds(60)) {
            (try? await HTTP.request(
                "POST", host.controlURL + "/v1/queues/parked/messages", json: ["body": "y"], timeout: .seconds(10)))?
                .status == 201
        }
        #expect(back, "sends work again once the database is back")
        let after = try await HTTP.request(
            "POST", host.controlURL + "/v1/topics/in/publish", json: ["message": "after"])
        let afterId = after.json?["messageId"] as? String ?? "-"
        let logPath = project.path + "/functions/sink/ids.log"
        let processed = await waitUntil(timeout: .seconds(60)) {
            let ids = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            return ids.contains(beforeId) && ids.contains(afterId)
        }
        #expect(processed, "what was acknowledged before and after the outage reaches the consumer")
        await stop(host)
    }

    /// Async invokes are leased to the host that runs them: SIGKILL that host while it holds some, and the other
    /// host takes them over once their lease runs out. Every accepted event runs, with its host in the log.
    @Test func deliveriesOfAKilledHostAreTakenOverAfterTheirLease() async throws {
        let database = try PostgresServer.start().makeDatabase()
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "slow",
            code: """
                import os, time
                def handler(event, context):
                    time.sleep(1)  # a is almost always running two when it is killed
                    with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "done.log"), "a") as f:
                        f.write(str(event["n"]) + "\\n")
                """, manifest: "timeout: 5s\nscaling: {max: 2}\n")
        let a = try await serve(project, database, "a")
        let total = 30
        for n in 0..<total {
            let accepted = try await HTTP.request(
                "POST", a.controlURL + "/v1/functions/slow/invoke?async=true", json: ["n": n])
            #expect(accepted.status == 202)
        }
        let logPath = project.path + "/functions/slow/done.log"
        @Sendable func done() -> [Substring] {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n")
        }
        // a runs them two at a time, each leased to it; b joins, then a is killed holding its leases.
        _ = await waitUntil(timeout: .seconds(30)) { done().count >= 2 }
        let b = try await serve(project, database, "b")
        kill(a.process.processIdentifier, SIGKILL)
        let killedAt = ContinuousClock.now
        print("cluster: killed host a after \(done().count) of \(total) events ran")
        let all = await waitUntil(timeout: .seconds(90), every: .milliseconds(200)) {
            Set(done()).count == total
        }
        #expect(all, "every accepted event runs although its host was killed: \(Set(done()).count) of \(total)")
        // What a was running when it died finished in its orphaned worker, but its deliveries stay leased to a:
        // b runs them again once the lease (15 s) has run out (at least once).
        let rerun = await waitUntil(timeout: .seconds(60), every: .milliseconds(200)) {
            done().count > Set(done()).count
        }
        let takeover = ContinuousClock.now - killedAt
        let ran = done()
        print(
            "cluster: \(Set(ran).count) of \(total) events ran, \(ran.count - Set(ran).count) again after the lease, \(takeover) after the kill (lease 15 s)"
        )
        #expect(rerun, "the deliveries a held are run by b after their lease")
        #expect(takeover >= .seconds(14), "not before the lease ran out: \(takeover)")
        #expect(ran.count - Set(ran).count <= 2, "only what a was running when killed runs twice")
        let logs = try b.cli(["logs", "slow", "--limit", "200"])
        #expect(logs.stdout.contains("Host: "), "logs say which host ran each invocation")
        await stop(b)
    }
}

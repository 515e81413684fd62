import Foundation
import StratusTesting
import Testing

/// The host against misbehaving runtimes and functions, broken projects, shutdowns and exposure settings.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RobustnessTests {
    /// A custom runtime that probes its own Runtime API: a second `/next` while one waits, a request as a
    /// browser would send it, and (for `{"big": true}`) a response over 6 MB. It writes what it saw to
    /// `probe.json` and otherwise echoes events.
    static let probingRuntime = #"""
        #!/usr/bin/env python3
        import http.client, json, os, threading, time
        api = os.environ["AWS_LAMBDA_RUNTIME_API"]
        root = os.environ["LAMBDA_TASK_ROOT"]
        seen = {}
        def request(method, path, body=None, headers={}):
            conn = http.client.HTTPConnection(api, timeout=60)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        first = {}
        waiter = threading.Thread(target=lambda: first.update(answer=request("GET", "/2018-06-01/runtime/invocation/next")))
        waiter.start()
        time.sleep(0.3)
        seen["second_next"] = request("GET", "/2018-06-01/runtime/invocation/next")[0]
        seen["browser"] = request("GET", "/2018-06-01/runtime/invocation/next", headers={"Origin": "http://evil.example"})[0]
        with open(os.path.join(root, "probe.json"), "w") as f:
            json.dump(seen, f)
        waiter.join()
        status, headers, body = first["answer"]
        while True:
            rid = dict((k.lower(), v) for k, v in headers)["lambda-runtime-aws-request-id"]
            event = json.loads(body)
            if event.get("big"):
                code = request("POST", f"/2018-06-01/runtime/invocation/{rid}/response", body=b"x" * (7 * 1024 * 1024))[0]
                seen["big_response"] = code
            else:
                seen["unknown_id"] = request("POST", "/2018-06-01/runtime/invocation/not-the-id/response", body=b"{}")[0]
                request("POST", f"/2018-06-01/runtime/invocation/{rid}/response", body=json.dumps({"echo": event}))
            with open(os.path.join(root, "probe.json"), "w") as f:
                json.dump(seen, f)
            status, headers, body = request("GET", "/2018-06-01/runtime/invocation/next")
        """#

    /// A warm floor of code that cannot start (it raises at import) is retried with a growing wait: the host
    /// neither spins nor fills its log, and a call still gets the function's own init error.
    @Test func aWarmFloorThatCannotStartBacksOff() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("doomed", code: "raise RuntimeError('cannot start')\n", manifest: "scaling: {min: 1}\n")
        let host = try await ServeProcess(project: project.path)
        func cpuTicks() -> Int {
            let stat =
                (try? String(contentsOfFile: "/proc/\(host.process.processIdentifier)/stat", encoding: .utf8)) ?? ""
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            return fields.count > 12 ? (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0) : 0
        }
        try await Task.sleep(for: .seconds(1))
        let before = cpuTicks()
        try await Task.sleep(for: .seconds(4))  // what an idle host does in 4 s, not a wait for a condition
        let spent = cpuTicks() - before
        let events = try host.cli(["logs", "--events", "--limit", "1000"]).stdout
        let exits = events.components(separatedBy: "exited").count - 1
        #expect(exits >= 2 && exits <= 8, "workers started and exited \(exits) times in 5 s")
        #expect(events.contains("workers in a row failed before they were ready"))
        #expect(spent < 100, "the host used \(spent) ticks of CPU in 4 s")
        let call = try host.cli(["invoke", "doomed"])
        #expect(call.status == 1)
        #expect(call.stderr.contains("cannot start"))
        #expect(await host.stop() == 0)
    }

    @Test func runtimeAPIRefusesWhatARuntimeMustNotDo() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addFunction(
            "probe", manifest: "runtime: provided\ntimeout: 10s\nscaling: {min: 1, max: 1}\n",
            files: ["bootstrap": Self.probingRuntime])
        let host = try await ServeProcess(project: project.path)
        // The warm worker probes its endpoint as it starts, before any invocation exists.
        #expect(
            await waitUntil(timeout: .seconds(20)) {
                FileManager.default.fileExists(atPath: project.path + "/functions/probe/probe.json")
            })
        let first = try host.cli(["invoke", "probe", "--data", #"{"n":1}"#])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains(#""n":1"#))
        let probe = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: project.path + "/functions/probe/probe.json")))
                as? [String: Int])
        #expect(probe["second_next"] == 409, "a second /next while one waits is refused")
        #expect(probe["browser"] == 403, "a request with Origin is refused")
        #expect(probe["unknown_id"] == 400, "a response for an id that is not current is refused")

        // Over Lambda's 6 MB: the runtime gets 413, the caller Lambda's error, and the worker stays.
        let big = try host.cli(["invoke", "probe", "--data", #"{"big":true}"#, "--json"])
        #expect(big.status == 1)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(big.stdout.utf8)) as? [String: Any])
        #expect(answer["errorType"] as? String == "Function.ResponseSizeTooLarge")
        #expect(
            await waitUntil {
                let data = try? Data(contentsOf: URL(fileURLWithPath: project.path + "/functions/probe/probe.json"))
                return (data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Int] })?["big_response"]
                    == 413
            })
        let after = try host.cli(["invoke", "probe", "--data", #"{"n":2}"#])
        #expect(after.status == 0 && after.stdout.contains(#""n":2"#), "the same worker goes on")
        let probeStatus = try host.functionStatus("probe")
        #expect(
            probeStatus["workers"] as? Int == 1 && probeStatus["replaced"] as? Int == 0, "one worker served all three")
        #expect(await host.stop() == 0)
    }

    /// A runtime that sends each response with its next `/next` in one write (as Stratus's Python bootstrap
    /// does) and writes to `seen.json`, per invocation, what its socket received before the next invocation was
    /// made and what came with it.
    static let pipeliningRuntime = #"""
        #!/usr/bin/env python3
        import json, os, socket
        host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
        root = os.environ["LAMBDA_TASK_ROOT"]
        sock = socket.create_connection((host, int(port)))
        NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"
        def read_response(buf):
            while b"\r\n\r\n" not in buf:
                buf += sock.recv(65536)
            head, _, rest = buf.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            headers = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
            length = int(headers.get("content-length", "0"))
            while len(rest) < length:
                rest += sock.recv(65536)
            return int(lines[0].split()[1]), headers, rest[:length], rest[length:]
        seen = []
        sock.sendall(NEXT)
        status, headers, body, buf = read_response(b"")
        while True:
            rid = headers["lambda-runtime-aws-request-id"]
            payload = json.dumps({"echo": json.loads(body)}).encode()
            sock.sendall(b"POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (rid.encode(), len(payload), payload) + NEXT)
            sock.settimeout(0.5)
            try:
                early = sock.recv(65536)  # with nothing to run next, the 202 waits for the next invocation
            except socket.timeout:
                early = b""
            sock.settimeout(None)
            buf += early
            accepted, _, _, buf = read_response(buf)
            status, headers, body, buf = read_response(buf)
            seen.append({"early": len(early), "accepted": accepted, "next": status})
            with open(os.path.join(root, "seen.json"), "w") as f:
                json.dump(seen, f)
        """#

    @Test func aResponseSentWithTheNextRequestIsAcknowledgedWithTheNextInvocation() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addFunction(
            "pipe", manifest: "runtime: provided\ntimeout: 10s\nscaling: {min: 1, max: 1}\n",
            files: ["bootstrap": Self.pipeliningRuntime])
        let host = try await ServeProcess(project: project.path)
        for n in 1...3 {
            let call = try host.cli(["invoke", "pipe", "--data", #"{"n":\#(n)}"#])
            #expect(call.status == 0 && call.stdout.contains(#""n":\#(n)"#), "\(call.stdout) \(call.stderr)")
            try await Task.sleep(for: .seconds(2))  // well past the runtime's half-second look for an early 202
        }
        let seen = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: project.path + "/functions/pipe/seen.json")))
                as? [[String: Int]])
        // The first two responses: each acknowledged (202) only together with the next invocation (200), nothing
        // before it; the runtime is woken once per invocation.
        #expect(seen.count == 2, "\(seen)")
        for entry in seen {
            #expect(entry["accepted"] == 202 && entry["next"] == 200, "\(entry)")
            #expect(entry["early"] == 0, "the 202 came before the next invocation: \(entry)")
        }
        #expect(await host.stop() == 0)
    }

    /// Returns framing headers of its own; the gateway frames the response itself.
    static let framer = """
        def handler(event, context):
            return {"statusCode": 200, "headers": {"Content-Length": "99999", "Transfer-Encoding": "chunked",
                    "Connection": "close", "X-Kept": "yes"}, "body": "ok"}
        """

    @Test func functionCannotBreakTheGatewaysFraming() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("framer", code: Self.framer)
        try project.write("triggers/h.yaml", "http:\n  - route: GET /frame\n    function: framer\n")
        let host = try await ServeProcess(project: project.path)
        for _ in 0..<3 {
            let answer = try await HTTP.get(host.gatewayURL + "/frame")
            #expect(answer.status == 200 && answer.text == "ok")
            #expect(answer.header("x-kept") == "yes")
            #expect(answer.header("content-length") == "2")
            #expect(answer.header("transfer-encoding") == nil)
        }
        #expect(await host.stop() == 0)
    }

    static let broken = "runtime: python\nhandler: app.handler\ntimeout: forever\n"

    @Test func consumersAndSubscriptionsOfABrokenFunctionWaitForIt() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addFunction("worker", manifest: Self.broken, files: ["app.py": BurstTests.recorder])
        try project.write(
            "triggers/t.yaml",
            """
            http:
              - route: GET /work
                function: worker
            queues:
              jobs:
                maxReceiveCount: 1
                deadLetterQueue: jobs-dlq
                consumer: {function: worker}
              jobs-dlq: {}
            topics:
              news:
                subscriptions:
                  - function: worker
            """)
        let host = try await ServeProcess(project: project.path)
        #expect(host.log.contains("FAILED  functions/worker/function.yaml:3: timeout:"))
        #expect(host.log.contains("WARNING queue jobs: consumer 'worker' failed to load"))
        #expect(host.log.contains("WARNING topic news: subscriber 'worker' failed to load"))
        for n in 0..<3 { #expect(try host.cli(["send", "jobs", "--data", "m\(n)"]).status == 0) }
        #expect(try host.cli(["publish", "news", "--data", #"{"n":"p0"}"#]).status == 0)
        #expect(try await HTTP.get(host.gatewayURL + "/work").status == 502)
        #expect(await waitUntil { (try? host.cli(["logs", "--events"]).stdout.contains("PAUSED worker")) == true })
        // Nothing was taken: no receive, so nothing reached the dead-letter queue after its one receive.
        let counts = try host.queueCounts()
        #expect(counts["jobs"] == ["visible": 3, "inFlight": 0, "delayed": 0])
        #expect(counts["jobs-dlq"] == ["visible": 0, "inFlight": 0, "delayed": 0])
        #expect(await host.stop() == 0)

        // Fixed and restarted: everything that waited runs.
        try project.write("functions/worker/function.yaml", "runtime: python\nhandler: app.handler\n")
        let fixed = try await ServeProcess(project: project.path)
        let ran = await waitUntil(timeout: .seconds(30)) {
            Set(BurstTests.ran(project, "worker")) == ["m0", "m1", "m2", "p0"]
        }
        #expect(ran, "ran: \(BurstTests.ran(project, "worker"))")
        #expect(await fixed.stop() == 0)
    }

    @Test func aMissingDestinationDropsTheEventOnceInsteadOfLooping() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "doomed", code: "def handler(event, context):\n    raise ValueError('always')\n",
            manifest: "async: {retries: 0, onFailure: {topic: nowhere}}\ncircuitBreaker: off\n")
        let host = try await ServeProcess(project: project.path)
        #expect(host.log.contains("async.onFailure topic 'nowhere' does not exist"))
        #expect(try host.cli(["invoke", "doomed", "--async"]).status == 0)
        #expect(
            await waitUntil(timeout: .seconds(20)) {
                (try? host.cli(["logs", "--events"]).stdout.contains("onFailure topic 'nowhere' does not exist"))
                    == true
            })
        let records = try host.cli(["logs", "doomed", "--json"]).stdout.split(separator: "\n")
        #expect(records.count == 1, "one attempt, then given up: \(records.count) attempts")
        #expect(await host.stop() == 0)
    }

    /// A failure record larger than a topic takes (256 KB) is given up with an event, once: the function is
    /// not run again and again for a destination that cannot take it.
    @Test func aDestinationThatRefusesTheRecordEndsTheEvent() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "doomed", code: "def handler(event, context):\n    raise ValueError('always')\n",
            manifest: "async: {retries: 0, onFailure: {topic: failures}}\ncircuitBreaker: off\n")
        try project.write("triggers/t.yaml", "topics:\n  failures: {}\n")
        let host = try await ServeProcess(project: project.path)
        let big = #"{"blob":""# + String(repeating: "x", count: 300_000) + #""}"#
        try project.write("big.json", big)
        #expect(try host.cli(["invoke", "doomed", "--async", "--data", "@" + project.path + "/big.json"]).status == 0)
        #expect(
            await waitUntil(timeout: .seconds(20)) {
                (try? host.cli(["logs", "--events"]).stdout.contains("onFailure topic 'failures' refused the record"))
                    == true
            })
        #expect(try host.cli(["logs", "doomed", "--json"]).stdout.split(separator: "\n").count == 1, "it ran once")
        #expect(await host.stop() == 0)
    }

    /// `logs --follow` starts at the log's head: the history of other functions is not printed first.
    @Test func followingStartsAtTheHead() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("old", code: "def handler(event, context):\n    print('history')\n")
        try project.addPython("new", code: "def handler(event, context):\n    print('fresh')\n")
        let host = try await ServeProcess(project: project.path)
        for _ in 0..<3 { #expect(try host.cli(["invoke", "old"]).status == 0) }
        var environment = ProcessInfo.processInfo.environment
        environment["STRATUS_ENDPOINT"] = host.controlURL
        let follower = try SpawnedProcess(StratusBinary.path, ["logs", "--follow"], environment: environment)
        #expect(await waitUntil { follower.output.contains("history") }, "the last page is shown first")
        let shown = follower.output.components(separatedBy: "history").count - 1
        let quiet = try SpawnedProcess(StratusBinary.path, ["logs", "new", "--follow"], environment: environment)
        #expect(try host.cli(["invoke", "new"]).status == 0)
        #expect(await waitUntil { quiet.output.contains("fresh") })
        #expect(!quiet.output.contains("history"), "\(quiet.output)")
        #expect(follower.output.components(separatedBy: "history").count - 1 == shown, "no history twice")
        follower.signal(SIGTERM)
        quiet.signal(SIGTERM)
        _ = await (follower.wait(), quiet.wait())
        #expect(await host.stop() == 0)
    }

    static let stubborn = """
        import time
        def handler(event, context):
            print("started")
            time.sleep(60)
        """

    @Test func shutdownWaitsAtMostTheDrainTimeout() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("stubborn", code: Self.stubborn, manifest: "timeout: 120s\n")
        try project.addPython("quick", code: "def handler(event, context):\n    return 'done'\n")
        let host = try await DaemonHost(project: project.path, extraArguments: ["--drain-timeout", "1s"])
        var environment = ProcessInfo.processInfo.environment
        environment["STRATUS_ENDPOINT"] = host.controlURL
        let caller = try SpawnedProcess(StratusBinary.path, ["invoke", "stubborn"], environment: environment)
        #expect(
            await waitUntil(timeout: .seconds(20)) {
                let status =
                    try? JSONSerialization.jsonObject(
                        with: Data((try? await host.cli(["status", "--json"]))?.stdout.utf8 ?? "".utf8))
                    as? [String: Any]
                let stubborn = (status?["functions"] as? [[String: Any]])?.first { $0["name"] as? String == "stubborn" }
                return stubborn?["busy"] as? Int == 1
            })
        let stopping = ContinuousClock.now
        #expect(await host.stop() == 0)
        let took = ContinuousClock.now - stopping
        #expect(took < .seconds(15), "stopped after \(took), not after the 60 s invocation")
        let call = await caller.wait()
        #expect(call.status == 1, "the caller learns the invocation failed")
        #expect(call.stderr.contains("crashed"))

        // Recorded as crashed, with the reason, for the next host to show.
        let again = try await ServeProcess(project: project.path)
        let crashed = try again.cli(["logs", "stubborn", "--status", "crashed", "--json"]).stdout
        #expect(crashed.contains("drain-timeout 1s"), "\(crashed)")
        #expect(try again.cli(["logs", "--events"]).stdout.contains("SHUTDOWN host: 1 invocations still running"))
        #expect(await again.stop() == 0)
    }

    /// Starts a grandchild in a session of its own (escaping the process group), then outlives the timeout.
    static let escaper = """
        import os, subprocess, time
        def handler(event, context):
            child = subprocess.Popen(["sleep", "300"], start_new_session=True)
            open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "escaped.pid"), "w").write(str(child.pid))
            time.sleep(30)
        """

    @Test func aTimeoutKillsEvenDescendantsThatLeftTheProcessGroup() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("escaper", code: Self.escaper, manifest: "timeout: 1s\n")
        let host = try await ServeProcess(project: project.path)
        let status = try #require(
            try JSONSerialization.jsonObject(with: Data(try host.cli(["status", "--json"]).stdout.utf8))
                as? [String: Any])
        let isolation = status["isolation"] as? String
        #expect(
            isolation == (Self.canCreateCgroups() ? "cgroup" : "process group"), "status says how workers are contained"
        )
        let result = try host.cli(["invoke", "escaper"])
        #expect(result.status == 1 && result.stderr.contains("timeout"))
        let pid = try #require(
            pid_t(try String(contentsOfFile: project.path + "/functions/escaper/escaped.pid", encoding: .utf8)))
        if isolation == "cgroup" {
            #expect(
                await waitUntil(timeout: .seconds(5)) { kill(pid, 0) != 0 },
                "the setsid grandchild is gone with its worker")
        } else {
            // Without cgroups the escape works; say so and clean up after it.
            #expect(kill(pid, 0) == 0, "without cgroups a setsid grandchild survives: status must say 'process group'")
            kill(pid, SIGKILL)
        }
        #expect(await host.stop() == 0)
    }

    /// Whether this process could create a cgroup v2 next to its own (what the host needs).
    static func canCreateCgroups() -> Bool {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8),
            let own = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
            let mount = mounts.split(separator: "\n").first(where: { $0.contains(" - cgroup2 ") })?.split(
                separator: " ")[4],
            let path = own.split(separator: "\n").first(where: { $0.hasPrefix("0::") })?.dropFirst(3)
        else { return false }
        let probe = "\(mount)\(path == "/" ? "" : String(path))/stratus-test-probe-\(getpid())"
        guard mkdir(probe, 0o755) == 0 else { return false }
        rmdir(probe)
        return true
    }

    @Test func aControlPlaneBeyondLoopbackNeedsAToken() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("echo", code: HostileInputTests.echo)
        let refused = try StratusBinary.run(["serve", project.path, "--control", "0.0.0.0:0", "--http", "127.0.0.1:0"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--token"))
        let short = try StratusBinary.run(["serve", project.path, "--control", "0.0.0.0:0", "--token", "abc"])
        #expect(short.status == 64)

        let token = "t0ken-" + UUID().uuidString
        let host = try await ServeProcess(
            project: project.path, extraArguments: ["--control", "0.0.0.0:0"], environment: ["STRATUS_TOKEN": token])
        let url = host.controlURL.replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1")
        let anonymous = try await HTTP.get(url + "/v1/status")
        #expect(anonymous.status == 401)
        #expect((anonymous.json?["error"] as? [String: Any])?["code"] as? String == "MissingToken")
        #expect(
            try await HTTP.get(url + "/v1/status", headers: ["Authorization": "Bearer wrong-\(token)"]).status == 401)
        #expect(try await HTTP.get(url + "/v1/status", headers: ["Authorization": "Bearer \(token)"]).status == 200)
        #expect(try await HTTP.get(url + "/v1/health").status == 200, "health needs no token")
        let lambda = try await HTTP.request(
            "POST", url + "/2015-03-31/functions/echo/invocations", body: Data("{}".utf8))
        #expect(lambda.status == 401 && lambda.header("x-amzn-ErrorType") == "UnrecognizedClientException")
        // The CLI sends STRATUS_TOKEN; without it, it fails with the host's message.
        let withToken = try StratusBinary.run(
            ["invoke", "echo", "--data", #"{"a":1}"#], environment: ["STRATUS_ENDPOINT": url, "STRATUS_TOKEN": token])
        #expect(withToken.status == 0 && withToken.stdout.contains(#""a":1"#))
        let without = try StratusBinary.run(
            ["invoke", "echo"], environment: ["STRATUS_ENDPOINT": url, "STRATUS_TOKEN": ""])
        #expect(without.status == 1 && without.stderr.contains("token"))
        #expect(await host.stop() == 0)
    }

    @Test func functionOutputCannotDriveTheTerminal() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "noisy", code: "def handler(event, context):\n    print('\\x1b[2J\\x1b]0;pwned\\x07cleared\\rover')\n")
        let host = try await ServeProcess(project: project.path)
        #expect(try host.cli(["invoke", "noisy"]).status == 0)
        // Through a pseudo-terminal, as a person runs it: escapes are shown, not obeyed.
        let viaTerminal = try StratusBinary.runCommand(
            "/usr/bin/script", ["-qec", "\(StratusBinary.path) logs noisy", "/dev/null"],
            environment: ["STRATUS_ENDPOINT": host.controlURL])
        #expect(viaTerminal.stdout.contains(#"\x1b[2J\x1b]0;pwned\x07cleared\rover"#), "\(viaTerminal.stdout)")
        #expect(!viaTerminal.stdout.contains("\u{1b}[2J"))
        // Into a pipe or a file, the bytes are kept as the function printed them.
        #expect(try host.cli(["logs", "noisy"]).stdout.contains("\u{1b}[2J"))
        #expect(await host.stop() == 0)
    }

    @Test func filesWithOutOfRangeValuesAreRefusedWithTheirLine() throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "slow", code: HostileInputTests.echo, manifest: "timeout: 30s\nscaling: {idle: 999999999999999d}\n")
        try project.addPython("ok", code: HostileInputTests.echo, manifest: "timeout: 30s\n")
        try project.write(
            "triggers/q.yaml",
            """
            queues:
              q:
                visibilityTimeout: 10s
                consumer: {function: ok}
              r:
                retention: 0s
            """)
        let result = try StratusBinary.run(["validate", project.path])
        #expect(result.status == 65)
        let output = result.stdout + result.stderr
        #expect(
            output.contains("functions/slow/function.yaml:4: scaling.idle: expected a duration between 100ms and 1d"),
            "\(output)")
        // A file's first error is reported: what the schema finds before what only the host can check.
        #expect(
            output.contains("triggers/q.yaml:6: queues.r.retention: expected a duration between 1m and 14d"),
            "\(output)")
        try project.write(
            "triggers/q.yaml", "queues:\n  q:\n    visibilityTimeout: 10s\n    consumer: {function: ok}\n")
        let fixed = try StratusBinary.run(["validate", project.path])
        #expect(fixed.status == 65)
        #expect(
            fixed.stdout.contains(
                "triggers/q.yaml:4: queues.q.consumer: queue 'q' has a visibilityTimeout of 10s, shorter than the timeout of its consumer 'ok' (30s)"
            ), "\(fixed.stdout)")
    }
}

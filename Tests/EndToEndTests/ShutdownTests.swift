import Foundation
import StratusTesting
import Testing

/// SIGTERM in the middle of work: what finishes is written down, what is cut short is kept for the next host,
/// and the host exits 0 either way.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ShutdownTests {
    /// Sleeps `event["s"]` seconds, then appends `event["n"]` (or each SQS body) to `ran.log`.
    static let slow = """
        import json, os, time
        def handler(event, context):
            items = [r["body"] for r in event["Records"]] if "Records" in event else [event["n"]]
            time.sleep(float(os.environ.get("SLEEP", "0")))
            with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "ran.log"), "a") as f:
                f.write("".join(f"{item}\\n" for item in items))
        """

    static func ran(_ project: TemporaryProject, _ function: String) -> [String] {
        ((try? String(contentsOfFile: project.path + "/functions/\(function)/ran.log", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    static func busy(_ host: DaemonHost, _ function: String) async -> Bool {
        let status = try? JSONSerialization.jsonObject(
            with: Data((try? await host.cli(["status", "--json"]))?.stdout.utf8 ?? "".utf8))
        let line = ((status as? [String: Any])?["functions"] as? [[String: Any]])?.first {
            $0["name"] as? String == function
        }
        return line?["busy"] as? Int == 1
    }

    /// An async event and a queued message whose invocations are running at SIGTERM finish within the drain
    /// time, and their bookkeeping is written: the next host runs neither again.
    @Test func workInFlightAtSigtermFinishesAndIsNotRunAgain() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        // Long enough that both are surely running at once on a loaded machine (each cold start may take seconds).
        try project.addPython("event", code: Self.slow, manifest: "environment: {SLEEP: '10'}\ntimeout: 20s\n")
        try project.addPython("consumer", code: Self.slow, manifest: "environment: {SLEEP: '10'}\ntimeout: 20s\n")
        try project.write(
            "triggers/q.yaml", "queues:\n  jobs:\n    visibilityTimeout: 30s\n    consumer: {function: consumer}\n")
        let host = try await DaemonHost(project: project.path)
        #expect(try await host.cli(["invoke", "event", "--async", "--data", #"{"n":"e1"}"#]).status == 0)
        #expect(try await host.cli(["send", "jobs", "--data", "m1"]).status == 0)
        #expect(
            await waitUntil(timeout: .seconds(20)) {
                let event = await Self.busy(host, "event")
                let consumer = await Self.busy(host, "consumer")
                return event && consumer
            })
        #expect(await host.stop() == 0)
        #expect(
            Self.ran(project, "event") == ["e1"] && Self.ran(project, "consumer") == ["m1"],
            "both finished in the drain")

        // A second host: nothing is left to run.
        let again = try await ServeProcess(project: project.path)
        #expect(try again.cli(["invoke", "event", "--async", "--data", #"{"n":"e2"}"#]).status == 0)
        #expect(await waitUntil(timeout: .seconds(20)) { Self.ran(project, "event").contains("e2") })
        #expect(Self.ran(project, "event") == ["e1", "e2"], "e1 ran once")
        #expect(try again.queueCounts()["jobs"] == ["visible": 0, "inFlight": 0, "delayed": 0], "m1 was deleted")
        #expect(Self.ran(project, "consumer") == ["m1"])
        #expect(await again.stop() == 0)
    }

    /// Killed at the drain timeout, an async event is not charged for it: with `retries: 0` it is neither
    /// dropped nor sent to its destination, and the next host runs it to the end. A long poll in flight does
    /// not keep the host from exiting 0.
    @Test func workCutShortByTheDrainTimeoutIsKeptForTheNextHost() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "long", code: Self.slow, manifest: "environment: {SLEEP: '30'}\ntimeout: 60s\nasync: {retries: 0}\n")
        try project.write("triggers/q.yaml", "queues:\n  idle: {}\n")
        let host = try await DaemonHost(project: project.path, extraArguments: ["--drain-timeout", "1s"])
        #expect(try await host.cli(["invoke", "long", "--async", "--data", #"{"n":"e1"}"#]).status == 0)
        #expect(await waitUntil(timeout: .seconds(20)) { await Self.busy(host, "long") })
        var environment = ProcessInfo.processInfo.environment
        environment["STRATUS_ENDPOINT"] = host.controlURL
        let poll = Task { try await HTTP.post(host.controlURL + "/v1/queues/idle/receive", json: ["wait": "20s"]) }
        #expect(await host.stop() == 0, "exit 0 with a long poll and a killed invocation")
        _ = try? await poll.value
        #expect(Self.ran(project, "long").isEmpty)

        try project.write(
            "functions/long/function.yaml", "runtime: python\nhandler: app.handler\nasync: {retries: 0}\n")
        let again = try await ServeProcess(project: project.path)
        #expect(
            await waitUntil(timeout: .seconds(30)) { Self.ran(project, "long") == ["e1"] }, "the event ran after all")
        let events = try again.cli(["logs", "--events"]).stdout
        #expect(!events.contains("DROPPED"), "\(events)")
        #expect(await again.stop() == 0)
    }

    /// A custom runtime whose bootstrap starts a process in a session of its own before anything else: with
    /// cgroups, that process is inside the worker's cgroup and dies with it.
    @Test func whatABootstrapStartsAtOnceIsContainedToo() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let bootstrap = """
            #!/bin/sh
            setsid sleep 1234 &
            echo $! > "$LAMBDA_TASK_ROOT/escaped.pid"
            exec python3 -c 'import time; time.sleep(3600)'
            """
        try project.addFunction(
            "early", manifest: "runtime: provided\nscaling: {min: 1}\n", files: ["bootstrap": bootstrap])
        let host = try await ServeProcess(project: project.path)
        let status =
            try JSONSerialization.jsonObject(with: Data(try host.cli(["status", "--json"]).stdout.utf8))
            as? [String: Any]
        guard RobustnessTests.canCreateCgroups() else {
            // Where the host may not create cgroups it says so, and only the process group contains workers.
            #expect(status?["isolation"] as? String == "process group")
            #expect(await host.stop() == 0)
            return
        }
        #expect(status?["isolation"] as? String == "cgroup")
        let pidFile = project.path + "/functions/early/escaped.pid"
        #expect(await waitUntil { FileManager.default.fileExists(atPath: pidFile) })
        let pid = try #require(
            pid_t(
                (try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == 0)
        #expect(await host.stop() == 0)
        #expect(
            await waitUntil(timeout: .seconds(5)) { kill(pid, 0) != 0 }, "the setsid child of the bootstrap is gone")
    }

    /// A host killed with SIGKILL leaves nothing running: not its warm Python and Node workers, not the Python
    /// zygote, not the zygote's spare fork. Each sees its connection to the host close and leaves.
    @Test func aKilledHostLeavesNoProcessBehind() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("warm", code: Fixtures.echo, manifest: "scaling: {min: 2}\n")
        try project.addFunction(
            "node-warm", manifest: "runtime: node\nhandler: index.handler\nscaling: {min: 1}\n",
            files: ["index.js": "exports.handler = async () => 1"])
        let host = try await DaemonHost(project: project.path)
        #expect(try await host.cli(["invoke", "warm", "--data", "{}"]).status == 0)
        let hostPID = host.process.pid
        // The zygote, its spare, and three workers (two Python forks, one Node process), at least.
        #expect(
            await waitUntil(timeout: .seconds(20)) { Self.descendants(of: hostPID).count >= 5 },
            "descendants: \(Self.descendants(of: hostPID))")
        let found = Self.descendants(of: hostPID)
        host.process.signal(SIGKILL)
        _ = await host.process.wait()
        let gone = await waitUntil(timeout: .seconds(10)) { found.allSatisfy { !Self.isRunning($0) } }
        #expect(gone, "still running: \(found.filter { Self.isRunning($0) })")
    }

    /// A host stopped with SIGTERM removes the cgroups it made for its workers, the zygote's spare's too.
    @Test func aStoppedHostLeavesNoCgroupBehind() async throws {
        guard RobustnessTests.canCreateCgroups() else { return }
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("warm", code: Fixtures.echo, manifest: "scaling: {min: 1}\n")
        let host = try await DaemonHost(project: project.path)
        #expect(try await host.cli(["invoke", "warm", "--data", "{}"]).status == 0)
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        let mount = try #require(
            mounts.split(separator: "\n").first { $0.contains(" - cgroup2 ") }?.split(separator: " ")[4])
        let own = try String(contentsOfFile: "/proc/\(host.process.pid)/cgroup", encoding: .utf8)
        let path = try #require(own.split(separator: "\n").first { $0.hasPrefix("0::") }?.dropFirst(3))
        let directory = "\(mount)\(path == "/" ? "" : String(path))/stratus-\(host.process.pid)"
        let workers = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { $0.hasPrefix("w-") }
        #expect((workers?.count ?? 0) >= 2, "a worker's cgroup and the spare's: \(workers ?? [])")
        #expect(await host.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: directory), "\(directory) was removed")
    }

    /// Long polls (`logs --follow`, a receive waiting 20 s for a message) answer when a shutdown begins:
    /// the host does not wait them out.
    @Test func longPollsDoNotHoldUpAShutdown() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.write("triggers/q.yaml", "queues:\n  jobs: {}\n")
        let host = try await DaemonHost(project: project.path)
        let follower = try SpawnedProcess(
            StratusBinary.path, ["logs", "--follow", "--endpoint", host.controlURL],
            environment: ProcessInfo.processInfo.environment)
        let receive = Task {
            try await HTTP.post("\(host.controlURL)/v1/queues/jobs/receive", json: ["wait": "20s"]).status
        }
        try await Task.sleep(for: .milliseconds(500))  // both are waiting on the host by now
        let stopping = ContinuousClock.now
        #expect(await host.stop() == 0)
        #expect(ContinuousClock.now - stopping < .seconds(10), "the 20 s long polls did not hold the shutdown")
        #expect(try await receive.value == 200, "the waiting receive was answered (empty), not cut off")
        follower.signal(SIGKILL)
        _ = await follower.wait()
    }

    /// Every process below `pid`, from `/proc/PID/task/*/children`.
    static func descendants(of pid: pid_t) -> Set<pid_t> {
        var found: Set<pid_t> = []
        var next = [pid]
        while let parent = next.popLast() {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(parent)/task")) ?? []
            for task in tasks {
                let text = (try? String(contentsOfFile: "/proc/\(parent)/task/\(task)/children", encoding: .utf8)) ?? ""
                for child in text.split(separator: " ").compactMap({ pid_t($0) }) where found.insert(child).inserted {
                    next.append(child)
                }
            }
        }
        return found
    }

    /// Whether `pid` exists and is not a zombie waiting for its new parent to reap it.
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return stat.split(separator: ")").last?.split(separator: " ").first != "Z"
    }
}

import Foundation
import StratusTesting
import Testing

/// Pools scaling with demand, through the built binary.
@Suite(.serialized) struct ScalingTests {
    static let sleepy = """
        import os, time
        def handler(event, context):
            log = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "calls.log")
            with open(log, "a") as f:
                f.write(f"start {os.getpid()} {time.time()}\\n")
            time.sleep(event.get("sleep", 0.2))
            with open(log, "a") as f:
                f.write(f"end {os.getpid()} {time.time()}\\n")
            return os.getpid()
        """

    func invoke(_ base: String, _ function: String, _ body: String) async throws -> Int {
        try await HTTP.request("POST", "\(base)/2015-03-31/functions/\(function)/invocations", body: Data(body.utf8))
            .status
    }

    func status(_ host: ServeProcess, _ function: String) throws -> [String: Any] {
        let output = try host.cli(["status", "--json"]).stdout
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let functions = object?["functions"] as? [[String: Any]] ?? []
        return functions.first { $0["name"] as? String == function } ?? [:]
    }

    @Test func burstStaysUnderMaxThenRetiresToMin() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "sleepy", code: Self.sleepy, manifest: "scaling: {min: 0, max: 8, idle: 1s, prewarm: false}\n")
        try project.addPython("warm", code: Fixtures.echo, manifest: "scaling: {min: 2, max: 4}\n")
        try project.addPython(
            "tight", code: Self.sleepy,
            manifest: "timeout: 5s\nscaling: {max: 1, queue: 1, maxWait: 300ms, prewarm: false}\n")
        let host = try await ServeProcess(project: project.path)

        #expect(
            await waitUntil(timeout: .seconds(10)) { (try? self.status(host, "warm")["idle"] as? Int) == 2 },
            "min: 2 is warm right after start")

        let codes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { try await self.invoke(host.controlURL, "sleepy", "{}") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(codes == Array(repeating: 200, count: 20), "the queue absorbs the burst: nobody is throttled")
        let lines = try String(contentsOfFile: project.path + "/functions/sleepy/calls.log", encoding: .utf8).split(
            separator: "\n")
        let events = lines.map { $0.split(separator: " ") }.map {
            (kind: String($0[0]), pid: String($0[1]), time: Double($0[2])!)
        }
        var running = 0
        var peak = 0
        for event in events.sorted(by: { ($0.time, $0.kind == "end" ? 0 : 1) < ($1.time, $1.kind == "end" ? 0 : 1) }) {
            running += event.kind == "start" ? 1 : -1
            peak = max(peak, running)
        }
        let workers = Set(events.map(\.pid)).count
        print("scaling: 20 calls of 200 ms, max 8: peak concurrency \(peak), \(workers) worker processes")
        #expect(peak <= 8, "never more than max at once")
        #expect(workers >= 6, "the burst spread over at least 6 workers")
        #expect(workers <= 8)

        let metricsData = try await HTTP.get(host.controlURL + "/metrics").body
        let metrics = String(decoding: metricsData, as: UTF8.self)
        #expect(metrics.contains("stratus_cold_starts_total{function=\"sleepy\"} \(workers)"))
        #expect(metrics.contains("# TYPE stratus_workers gauge"))

        #expect(
            await waitUntil(timeout: .seconds(10)) { (try? self.status(host, "sleepy")["workers"] as? Int) == 0 },
            "idle workers retire back to min: 0")

        let tight = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await self.invoke(host.controlURL, "tight", #"{"sleep": 1}"#) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(tight.filter { $0 == 429 }.count >= 2, "callers beyond the queue or its wait get 429: \(tight)")
        #expect(tight.contains(200))
        let throttled = try host.cli(["logs", "tight", "--status", "throttled", "--json"]).stdout.split(separator: "\n")
        #expect(throttled.count == tight.filter { $0 == 429 }.count)
        #expect((try status(host, "tight")["throttles"] as? Int ?? 0) >= 2)

        let log = try host.cli(["logs", "--events", "--limit", "200"]).stdout
        #expect(log.contains("SCALE_UP sleepy"))
        #expect(log.contains("SCALE_DOWN sleepy"))
        #expect(log.contains("THROTTLED tight"))
        #expect(await host.stop() == 0)
    }

    @Test func hostWideCapIsShared() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("a", code: Self.sleepy, manifest: "scaling: {max: 8, prewarm: false}\n")
        try project.addPython("b", code: Self.sleepy, manifest: "scaling: {max: 8, reserved: 1, prewarm: false}\n")
        try project.addPython("c", code: Self.sleepy, manifest: "scaling: {max: 8, prewarm: false}\n")
        let host = try await ServeProcess(project: project.path, extraArguments: ["--max-workers", "3"])
        #expect(host.log.contains("workers at most 3 in all"))
        let codes = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<6 { group.addTask { try await self.invoke(host.controlURL, "a", #"{"sleep": 0.3}"#) } }
            group.addTask { try await self.invoke(host.controlURL, "b", #"{"sleep": 0.3}"#) }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(codes.allSatisfy { $0 == 200 })
        let pidsA = Set(
            try String(contentsOfFile: project.path + "/functions/a/calls.log", encoding: .utf8)
                .split(separator: "\n").map { $0.split(separator: " ")[1] })
        #expect(pidsA.count <= 2, "b's reserved worker is never taken by a: a used \(pidsA.count)")
        // a's idle workers hold the shared part of the cap; c gets a slot by retiring one of them.
        #expect(try await invoke(host.controlURL, "c", #"{"sleep": 0}"#) == 200)
        let events = try host.cli(["logs", "--events", "--limit", "100"]).stdout
        #expect(events.contains("SCALE_DOWN a") && events.contains("to make room for c"))
        #expect(await host.stop() == 0)
    }
}

import Foundation
import StratusTesting
import Testing

/// The host as a daemon runs: started with `setsid`, stdin from `/dev/null`, output to a file; and clients
/// that wait on it as people and scripts do, many at once.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DaemonTests {
    static let sleeper = """
        import time
        def handler(event, context):
            time.sleep(event["s"])
            return {"slept": event["s"], "n": event["n"]}
        """

    @Test func twentyWaitingCLIsAllSucceedAndCostNoCPU() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("sleeper", code: Self.sleeper, manifest: "timeout: 30s\nscaling: {max: 20}\n")
        let host = try await DaemonHost(project: project.path)

        let exits = await withTaskGroup(of: (Int, SpawnedProcess.Exit?).self) { group in
            for n in 0..<20 {
                group.addTask { (n, try? await host.cli(["invoke", "sleeper", "--data", #"{"s": 2, "n": \#(n)}"#])) }
            }
            var exits: [Int: SpawnedProcess.Exit] = [:]
            for await (n, exit) in group { exits[n] = exit }
            return exits
        }
        #expect(exits.count == 20)
        for n in 0..<20 {
            let exit = try #require(exits[n], "CLI \(n) did not run")
            #expect(exit.status == 0, "CLI \(n): \(exit.stderr)")
            #expect(exit.stdout.contains(#""n":\#(n)"#), "CLI \(n) printed \(exit.stdout)")
            // A waiting client sleeps in epoll: generous bound, 20% of its wait (a spinning one used ~90%).
            #expect(exit.cpu < exit.wall * 0.2, "CLI \(n) used \(exit.cpu) of CPU over \(exit.wall)")
        }
        let totalCPU = exits.values.reduce(Duration.zero) { $0 + $1.cpu }
        print(
            "daemon: 20 CLIs waited \(exits.values.map(\.wall).max() ?? .zero) at most, using \(totalCPU) of CPU together"
        )

        // `logs --follow` waits for news the same way: a long poll, not a loop.
        let follower = try SpawnedProcess(
            StratusBinary.path, ["logs", "sleeper", "--follow", "--limit", "1"],
            environment: ProcessInfo.processInfo.environment.merging(["STRATUS_ENDPOINT": host.controlURL]) { _, new in
                new
            })
        #expect(await waitUntil(timeout: .seconds(10)) { follower.output.contains("REPORT") })
        #expect(try await host.cli(["invoke", "sleeper", "--data", #"{"s": 0, "n": 99}"#]).status == 0)
        #expect(await waitUntil(timeout: .seconds(10)) { follower.output.components(separatedBy: "REPORT").count == 3 })
        try await Task.sleep(for: .seconds(2))  // an idle follower, measured over a quiet spell
        follower.signal(SIGTERM)
        let followed = await follower.wait()
        #expect(followed.cpu < followed.wall * 0.2, "follower used \(followed.cpu) over \(followed.wall)")
        #expect(await host.stop() == 0)
    }
}

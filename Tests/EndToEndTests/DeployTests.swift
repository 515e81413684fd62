import Foundation
import StratusTesting
import Testing

/// `stratus deploy`, `versions` and `rollback` against the built binary: revisions kept in the state directory,
/// made live drained, surviving restarts.
@Suite(.serialized) struct DeployTests {
    static func handler(_ body: String) -> String {
        """
        import time
        def handler(event, context):
            if event.get("slow"):
                time.sleep(1.5)
            return "\(body)"
        """
    }

    /// A function directory outside the project, as a user keeps one to deploy.
    static func functionDirectory(
        _ root: String, _ body: String, manifest: String = "runtime: python\nhandler: app.handler\n"
    )
        throws -> String
    {
        let directory = root + "/greeter"
        try FileManager.default.createDirectory(atPath: directory + "/lib", withIntermediateDirectories: true)
        try manifest.write(toFile: directory + "/function.yaml", atomically: true, encoding: .utf8)
        try handler(body).write(toFile: directory + "/app.py", atomically: true, encoding: .utf8)
        try "VALUE = 1\n".write(toFile: directory + "/lib/helper.py", atomically: true, encoding: .utf8)
        return directory
    }

    static func result(_ host: ServeProcess, _ function: String, _ data: String = "{}") throws -> String {
        let answer = try host.cli(["invoke", function, "--data", data])
        return answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func deployVersionsRollbackAndRestart() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("hello", code: "def handler(e, c):\n    return 'hello'\n")
        try project.write("triggers/http.yaml", "http:\n  - route: GET /greet\n    function: greeter\n")
        let outside = project.path + "/../" + URL(fileURLWithPath: project.path).lastPathComponent + "-code"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let directory = try Self.functionDirectory(outside, "v1")

        // The route names a function that is not deployed yet: it waits for it.
        var host = try await ServeProcess(project: project.path)
        let first = try host.cli(["deploy", directory])
        #expect(first.status == 0, "\(first.stderr)")
        let firstRevision = try #require(
            first.stdout.firstMatch(of: /deployed greeter rev ([0-9a-f]{8}) \(new function\)/)?.1)
        #expect(try Self.result(host, "greeter") == "v1")

        // A second deploy goes live drained: an invocation running on v1 finishes there.
        let slow = Task { [host] in try Self.result(host, "greeter", #"{"slow": true}"#) }
        try await Task.sleep(for: .milliseconds(400))
        try Self.handler("v2").write(toFile: directory + "/app.py", atomically: true, encoding: .utf8)
        let second = try host.cli(["deploy", directory, "--json"])
        #expect(second.status == 0)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
        let secondRevision = try #require(answer["revision"] as? String)
        #expect(answer["previousRevision"] as? String == String(firstRevision))
        #expect(try Self.result(host, "greeter") == "v2")
        #expect(try await slow.value == "v1")

        let versions = try host.cli(["versions", "greeter"]).stdout
        let lines = versions.split(separator: "\n")
        #expect(lines.count == 3, "\(versions)")
        #expect(lines[1].hasPrefix(secondRevision) && lines[1].contains("*"), "\(versions)")
        #expect(lines[2].hasPrefix(firstRevision) && !lines[2].contains("*"), "\(versions)")
        #expect(lines[1].hasSuffix(URL(fileURLWithPath: directory).standardizedFileURL.path))

        // Rollback to the one before, then forward again by revision.
        let back = try host.cli(["rollback", "greeter"])
        #expect(back.stdout.contains("rolled back greeter to rev \(firstRevision) (was \(secondRevision))"))
        #expect(try Self.result(host, "greeter") == "v1")
        let events = try host.cli(["logs", "--events"]).stdout
        #expect(events.contains("DEPLOYED greeter: rev none → \(firstRevision)"))
        #expect(events.contains("DEPLOYED greeter: rev \(firstRevision) → \(secondRevision)"))
        #expect(events.contains("ROLLED_BACK greeter: rev \(secondRevision) → \(firstRevision)"))
        #expect(await host.stop() == 0)

        // After a restart the deployed function serves its live revision, and the route to it works.
        host = try await ServeProcess(project: project.path)
        #expect(host.log.contains("loaded  greeter  (python, $LATEST, rev \(firstRevision), deployed)"))
        let greet = try await HTTP.get(host.gatewayURL + "/greet")
        #expect(greet.status == 200)
        #expect(String(decoding: greet.body, as: UTF8.self) == "v1")
        let forward = try host.cli(["rollback", "greeter", "--to", String(secondRevision.prefix(5))])
        #expect(forward.status == 0)
        #expect(try Self.result(host, "greeter") == "v2")
        #expect(await host.stop() == 0)
    }

    @Test func badDeploysAreRefusedAndChangeNothing() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("hello", code: "def handler(e, c):\n    return 'hello'\n")
        let host = try await ServeProcess(project: project.path)
        let outside = project.path + "-code"
        defer { try? FileManager.default.removeItem(atPath: outside) }

        // Checked before the upload, as `validate` checks: exit 65 with file:line.
        let broken = try Self.functionDirectory(
            outside, "x", manifest: "runtime: python\nhandler: app.handler\ntimeout: 99h\n")
        let refused = try host.cli(["deploy", broken])
        #expect(refused.status == 65)
        #expect(refused.stdout.contains("greeter/function.yaml:3: timeout:"), "\(refused.stdout)")

        // A name the project's functions/ serves is edited there, not deployed over.
        try "runtime: python\nhandler: app.handler\n".write(
            toFile: broken + "/function.yaml", atomically: true, encoding: .utf8)
        let conflict = try host.cli(["deploy", broken, "--name", "hello"])
        #expect(conflict.status == 1)
        #expect(conflict.stderr.contains("served from the project's functions/hello"), "\(conflict.stderr)")
        #expect(try Self.result(host, "hello") == "hello")

        let invalidName = try host.cli(["deploy", broken, "--name", "Not_Valid"])
        #expect(invalidName.status == 64)
        let unknown = try host.cli(["rollback", "nothing"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no function named 'nothing' was deployed"))
        let onlyOne = try host.cli(["deploy", broken])
        #expect(onlyOne.status == 0)
        let noEarlier = try host.cli(["rollback", "greeter"])
        #expect(noEarlier.status == 1)
        let wrongRevision = try host.cli(["rollback", "greeter", "--to", "ffffffff"])
        #expect(wrongRevision.stderr.contains("greeter has no revision 'ffffffff'"))

        // A revision whose code cannot start is kept but not made live: the live one keeps serving.
        try "def handler(event, context)\n    return 1\n".write(
            toFile: broken + "/app.py", atomically: true, encoding: .utf8)
        let doesNotStart = try host.cli(["deploy", broken])
        #expect(doesNotStart.status == 1)
        #expect(doesNotStart.stderr.contains("does not start: Runtime.UserCodeSyntaxError"), "\(doesNotStart.stderr)")
        #expect(doesNotStart.stderr.contains("keeps serving"))
        #expect(try Self.result(host, "greeter") == "x")
        let versions = try host.cli(["versions", "greeter"]).stdout.split(separator: "\n")
        #expect(versions.count == 3, "both revisions are kept")
        #expect(versions.filter { $0.contains("*") }.count == 1)
        #expect(versions[2].contains("*"), "the first (working) revision is still the live one: \(versions)")
        #expect(await host.stop() == 0)
    }
}

import Foundation
import StratusTesting
import Synchronization
import Testing

/// The built `stratus` binary, run as a user runs it, on a temporary project.
@Suite(.serialized) struct ServeInvokeLogsTests {
    @Test func serveInvokeLogsAndStop() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "hello",
            code: """
                def handler(event, context):
                    print("hello from", context.function_name)
                    return {"message": "Hello, " + event["name"] + "!"}
                """)
        try project.addPython("boom", code: Fixtures.raises, manifest: "async: {onFailure: {queue: missing-dlq}}\n")
        try project.addFunction("broken", manifest: "runtime: python\nhandler: app.handler\ntimeout: forever\n")
        try project.write("event.json", #"{"name":"File"}"#)

        let host = try await ServeProcess(project: project.path)
        #expect(host.log.contains("loaded  hello  (python, $LATEST"))
        #expect(host.log.contains("FAILED  functions/broken/function.yaml:3: timeout: expected a duration"))
        #expect(host.log.contains("state   \(project.path)/.stratus"))
        #expect(
            host.log.contains(
                "WARNING functions/boom/function.yaml: async.onFailure queue 'missing-dlq' does not exist"))

        let plain = try host.cli(["invoke", "hello", "--data", #"{"name":"Ada"}"#])
        #expect(plain.status == 0)
        #expect(plain.stdout == "{\"message\":\"Hello, Ada!\"}\n")

        let fromFile = try host.cli(["invoke", "hello", "--data", "@\(project.path)/event.json", "--json"])
        #expect(fromFile.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(fromFile.stdout.utf8)) as? [String: Any])
        #expect((object["result"] as? [String: String])?["message"] == "Hello, File!")
        #expect(object["status"] as? String == "ok")
        #expect(object["invocationId"] is String && object["durationMs"] is Double)
        #expect(object.keys.contains("initDurationMs"))
        #expect((object["logs"] as? String)?.contains("hello from hello") == true)

        let failed = try host.cli(["invoke", "boom"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("ValueError"))

        let unknown = try host.cli(["invoke", "nope"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no function named 'nope'"))

        let logs = try host.cli(["logs", "hello"])
        #expect(logs.status == 0)
        #expect(logs.stdout.contains("START RequestId: "))
        #expect(logs.stdout.contains("hello from hello\nEND RequestId: "))
        #expect(logs.stdout.contains("Billed Duration: "))
        #expect(logs.stdout.contains("Max Memory Used: "))
        #expect(logs.stdout.components(separatedBy: "Init Duration: ").count == 2, "one cold start among two calls")
        #expect(!logs.stdout.contains("boom"))

        let errors = try host.cli(["logs", "--status", "error", "--json"])
        let lines = errors.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("\"errorType\":\"ValueError\"") == true)

        let all = try host.cli(["logs", "--limit", "1", "--since", "10m"])
        #expect(all.stdout.components(separatedBy: "START RequestId").count == 2)
        #expect(all.stdout.contains("about to fail"))

        let usage = try host.cli(["logs", "--status", "sideways"])
        #expect(usage.status == 64)

        #expect(await host.stop() == 0)
        #expect(host.log.contains("stratus: stopped"))
        let offline = try StratusBinary.run(["status"], environment: ["STRATUS_ENDPOINT": host.controlURL])
        #expect(offline.status == 69)
        #expect(offline.stderr.contains("cannot reach the Stratus host at \(host.controlURL): connection refused"))
    }

    @Test func followPrintsNewInvocations() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "tick", code: "def handler(event, context):\n    print('tick', event['n'])\n    return event['n']\n")
        let host = try await ServeProcess(project: project.path)
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: StratusBinary.path)
        follower.arguments = ["logs", "tick", "--follow", "--endpoint", host.controlURL]
        let pipe = Pipe()
        follower.standardOutput = pipe
        let output = Output()
        pipe.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
        try follower.run()
        #expect(try host.cli(["invoke", "tick", "--data", #"{"n":1}"#]).status == 0)
        #expect(await waitUntil { output.text.contains("tick 1") }, "follow prints an invocation made after it started")
        #expect(try host.cli(["invoke", "tick", "--data", #"{"n":2}"#]).status == 0)
        #expect(await waitUntil { output.text.contains("tick 2") })
        #expect(output.text.components(separatedBy: "START RequestId").count == 3, "each invocation printed once")
        follower.terminate()
        follower.waitUntilExit()
        _ = await host.stop()
    }

    @Test func validateExitCodes() throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("good", code: Fixtures.echo)
        let ok = try StratusBinary.run(["validate", project.path])
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("1 valid, 0 invalid"))

        try project.addFunction("bad", manifest: "runtime: python\nhandler: app.handler\nmemory: huge\n")
        try project.addFunction("noboot", manifest: "runtime: provided\n")
        let bad = try StratusBinary.run(["validate", project.path])
        #expect(bad.status == 65)
        #expect(bad.stdout.contains("functions/bad/function.yaml:3: memory: expected an integer between 16 and 10240"))
        #expect(
            bad.stdout.contains(
                "functions/noboot/function.yaml: runtime 'provided' needs an executable file 'bootstrap'"))
        #expect(bad.stdout.contains("ok       good"))
    }
}

private final class Output: Sendable {
    private let data = Mutex(Data())
    func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }
    var text: String { String(decoding: data.withLock { $0 }, as: UTF8.self) }
}

import Foundation
import StratusTesting
import Testing

/// `stratus new`: what it writes loads, serves and answers, for each runtime and trigger; a clash writes nothing.
@Suite(.serialized) struct NewCommandTests {
    @Test func newFunctionsServeAtOnce() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let api = try StratusBinary.run(["new", "api", "--http", "GET /api/{id}", "--project", project.path])
        #expect(api.status == 0, "\(api.stderr)")
        #expect(api.stdout.contains("created  functions/api/app.py"))
        #expect(api.stdout.contains("curl -i 'http://127.0.0.1:8080/api/1?name=Ada'"))
        // Editors find the schemas the files name in their first line.
        #expect(api.stdout.contains("created  schemas/function.schema.json"))
        let manifest = try String(contentsOfFile: project.path + "/functions/api/function.yaml", encoding: .utf8)
        #expect(manifest.hasPrefix("# yaml-language-server: $schema=../../schemas/function.schema.json\n"))
        let schema = try String(contentsOfFile: project.path + "/schemas/triggers.schema.json", encoding: .utf8)
        #expect(schema == (try StratusBinary.run(["schema", "triggers"]).stdout))
        #expect(
            try StratusBinary.run(["new", "worker", "--runtime", "node", "--queue", "jobs", "--project", project.path])
                .status == 0)
        #expect(try StratusBinary.run(["new", "raw", "--runtime", "provided", "--project", project.path]).status == 0)
        #expect(FileManager.default.isExecutableFile(atPath: project.path + "/functions/raw/bootstrap"))
        #expect(try StratusBinary.run(["validate", project.path]).stdout.contains("3 valid, 0 invalid"))

        // A second function on the same route: refused, and nothing of it is left behind.
        let clash = try StratusBinary.run(["new", "other", "--http", "GET /api/{id}", "--project", project.path])
        #expect(clash.status == 65)
        #expect(clash.stdout.contains("triggers/other.yaml:3: http[0]: route 'GET /api/{id}' collides"))
        #expect(!FileManager.default.fileExists(atPath: project.path + "/functions/other"))
        #expect(!FileManager.default.fileExists(atPath: project.path + "/triggers/other.yaml"))
        #expect(try StratusBinary.run(["new", "api", "--project", project.path]).status == 1)
        #expect(try StratusBinary.run(["new", "Bad_Name", "--project", project.path]).status == 64)

        let host = try await ServeProcess(project: project.path)
        let answer = try await HTTP.get(host.gatewayURL + "/api/1?name=Ada")
        #expect(answer.status == 200)
        let body = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: String])
        #expect(body == ["message": "Hello, Ada!", "function": "api"])
        #expect(try host.cli(["invoke", "raw"]).stdout.contains("hello from raw"))
        #expect(try host.cli(["send", "jobs", "--data", "first job"]).status == 0)
        #expect(
            await waitUntil { (try? host.cli(["logs", "worker"]).stdout.contains("worker got first job")) == true })
        #expect(await host.stop() == 0)
    }
}

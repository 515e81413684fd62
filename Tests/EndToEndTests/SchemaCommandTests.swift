import Foundation
import StratusTesting
import Testing

/// `stratus schema`: prints the committed schemas; a project that uses them in modelines still validates, and
/// an error the schema finds is reported by `validate` with its file, line and key.
@Suite struct SchemaCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test(arguments: ["function", "triggers"])
    func printsTheCommittedSchema(file: String) throws {
        let result = try StratusBinary.run(["schema", file])
        #expect(result.status == 0, "\(result.stderr)")
        let committed = try String(
            contentsOf: Self.root.appendingPathComponent("schemas/\(file).schema.json"), encoding: .utf8)
        #expect(result.stdout == committed)
        #expect(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) is [String: Any])
    }

    @Test func anUnknownFileIsAUsageError() throws {
        #expect(try StratusBinary.run(["schema", "routes"]).status == 64)
    }

    @Test func schemaErrorsAreLocatedByValidate() throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let modeline = "# yaml-language-server: $schema=../../schemas/function.schema.json\n"
        try project.addFunction("ok", manifest: modeline + "runtime: python\nhandler: app.handler\n")
        try project.addFunction("bad", manifest: modeline + "runtime: python\nhandler: app.handler\ncolour: red\n")
        try project.write(
            "triggers/t.yaml",
            "# yaml-language-server: $schema=../schemas/triggers.schema.json\nhttp:\n  - route: FETCH /x\n    function: ok\n"
        )
        let result = try StratusBinary.run(["validate", project.path])
        #expect(result.status == 65)
        #expect(result.stdout.contains("functions/bad/function.yaml:4: colour: unknown key; expected one of: async,"))
        #expect(result.stdout.contains("triggers/t.yaml:3: http[0].route: expected 'METHOD /path' (GET, POST,"))
        #expect(result.stdout.contains("ok       ok (python)"))
    }
}

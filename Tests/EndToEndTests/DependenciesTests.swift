import Foundation
import StratusTesting
import Testing

/// A function's dependencies through the built binary: `requirements.txt` installed once per distinct file at
/// load (with a real pip, from a local wheel: no network), `layers:` on the module path, a Node function's
/// missing `node_modules` reported.
@Suite(.serialized) struct DependenciesTests {
    /// Writes `DIR/NAME-1.0-py3-none-any.whl`, a pure-Python wheel whose package answers `VALUE`.
    static func wheel(in directory: String, name: String, value: String) throws {
        let script = """
            import sys, zipfile
            d, name, value = sys.argv[1:4]
            with zipfile.ZipFile(f"{d}/{name}-1.0-py3-none-any.whl", "w") as z:
                z.writestr(f"{name}/__init__.py", f"VALUE = {value!r}\\n")
                z.writestr(f"{name}-1.0.dist-info/METADATA", f"Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n")
                z.writestr(f"{name}-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
                z.writestr(f"{name}-1.0.dist-info/RECORD", "")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, directory, name, value]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func requirementsAreInstalledOnceAndLayersAreOnThePath() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let code =
            "import greeting, shared_helper\ndef handler(e, c):\n    return greeting.VALUE + ' ' + shared_helper.NAME\n"
        try project.addPython("first", code: code, manifest: "layers: [../shared]\n")
        try project.addPython("second", code: code, manifest: "layers: [../shared]\n")
        try Self.wheel(in: project.path + "/functions/first", name: "greeting", value: "hello")
        try Self.wheel(in: project.path + "/functions/second", name: "greeting", value: "hi")
        try project.write("functions/first/requirements.txt", "./greeting-1.0-py3-none-any.whl\n")
        try project.write(
            "functions/second/requirements.txt", "# the same package, built apart\n./greeting-1.0-py3-none-any.whl\n")
        try project.write("functions/shared/shared_helper.py", "NAME = 'from the layer'\n")
        // A requirement pip cannot satisfy: that function fails to load with pip's error; the others serve.
        try project.addPython("broken", code: "def handler(e, c):\n    return 1\n")
        try project.write("functions/broken/requirements.txt", "./no-such-1.0-py3-none-any.whl\n")

        let host = try await ServeProcess(project: project.path)
        #expect(host.log.contains("installing  functions/first/requirements.txt for first"))
        #expect(host.log.contains("installed   functions/first/requirements.txt for first in "))
        #expect(
            host.log.contains("FAILED  functions/broken/requirements.txt: pip install failed (exit 1)"), "\(host.log)")
        #expect(!host.log.contains("functions/shared/function.yaml"), "a layer directory is not a function")
        #expect(try host.cli(["invoke", "first"]).stdout == "hello from the layer\n")
        #expect(try host.cli(["invoke", "second"]).stdout == "hi from the layer\n")
        #expect(try host.cli(["invoke", "broken"]).status == 1)
        #expect(await host.stop() == 0)

        // Installed once: a restart finds the packages in the state directory.
        let again = try await ServeProcess(project: project.path)
        #expect(!again.log.contains("installing  functions/first"))
        #expect(try again.cli(["invoke", "first"]).stdout == "hello from the layer\n")
        #expect(await again.stop() == 0)
    }

    @Test func aMissingLayerOrNodeModulesIsReported() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("lost", code: "def handler(e, c):\n    return 1\n", manifest: "layers: [../nowhere]\n")
        try project.addFunction(
            "web", manifest: "runtime: node\nhandler: index.handler\n",
            files: [
                "index.js": "exports.handler = async () => 'ok';\n",
                "package.json": #"{"name": "web", "dependencies": {"left-pad": "1.3.0", "uuid": "9.0.0"}}"#,
            ])
        let validate = try StratusBinary.run(["validate", project.path])
        #expect(validate.status == 65)
        #expect(
            validate.stdout.contains("functions/lost/function.yaml: layers[0]: '../nowhere' is not a directory"),
            "\(validate.stdout)")
        let host = try await ServeProcess(project: project.path)
        #expect(
            host.log.contains(
                "WARNING functions/web/package.json: dependencies not installed (no node_modules/left-pad): left-pad, uuid"
            ), "\(host.log)")
        #expect(try host.cli(["invoke", "web"]).stdout == "ok\n")
        #expect(await host.stop() == 0)
    }
}

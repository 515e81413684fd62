import Foundation
import Logging
import NIOCore
import NIOPosix
import StratusCore
import StratusRuntime
import StratusStore
import StratusTesting
import Testing

/// Real child processes, real Runtime API endpoints: each way an invocation ends, and the worker after it.
@Suite(.serialized) struct WorkerLifecycleTests {
    let project: TemporaryProject
    let host: StratusHost

    init() throws {
        project = try TemporaryProject()
        let short = "timeout: 1s\nmemory: 64\n"
        try project.addPython("echo", code: Fixtures.echo)
        try project.addPython("raises", code: Fixtures.raises)
        try project.addPython("sleeps", code: Fixtures.sleeps, manifest: short)
        try project.addPython("crashes", code: Fixtures.crashes)
        try project.addPython("import-error", code: Fixtures.importError)
        try project.addPython("syntax-error", code: Fixtures.syntaxError)
        // The memory limit, not the timeout, must stop it: touching 200 MB from Python takes more than a second
        // on a loaded machine.
        try project.addPython("allocates", code: Fixtures.allocates, manifest: "timeout: 20s\nmemory: 64\n")
        try project.addFunction(
            "node-callback", manifest: "runtime: node\nhandler: index.handler\n",
            files: ["index.js": "exports.handler = (event, context, callback) => { callback(null, {n: event.n + 1}) }"])
        try project.addFunction(
            "node-throws", manifest: "runtime: node\nhandler: index.handler\n",
            files: ["index.js": "exports.handler = async () => { throw new TypeError('node boom') }"])
        try project.addPython(
            "py-env", code: "import os\ndef handler(event, context):\n    return os.environ.get('AWS_EXECUTION_ENV')\n")
        try project.addFunction(
            "node-env", manifest: "runtime: node\nhandler: index.handler\n",
            files: ["index.js": "exports.handler = async () => process.env.AWS_EXECUTION_ENV"])
        host = try project.host()
    }

    /// Runs `body`, then stops every worker and removes the project, whatever happened.
    func withCleanup(_ body: () async throws -> Void) async throws {
        try await project.run(host, body)
    }

    func invoke(_ name: String, _ json: String = "{}") async throws -> Dispatcher.Result {
        try await host.dispatcher.invoke(name, payload: ByteBuffer(string: json), origin: .init(trigger: .cli))
    }

    func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
    }

    @Test func okColdThenWarmWithLambdaContext() async throws {
        try await withCleanup {
            let cold = try await invoke("echo", #"{"a":1}"#)
            #expect(cold.record.status == .ok)
            #expect(cold.record.initDurationMs != nil)
            let body = json(cold.payload)
            #expect(body["event"] as? [String: Int] == ["a": 1])
            #expect(body["function"] as? String == "echo")
            #expect(body["remaining"] as? Bool == true)
            #expect(body["arn"] as? String == "arn:aws:lambda:\(AWS.region):000000000000:function:echo")
            #expect(cold.record.output.contains("echo \(cold.record.id)"))
            let warm = try await invoke("echo", #"{"a":2}"#)
            #expect(warm.record.status == .ok && warm.record.initDurationMs == nil)
            #expect(!warm.record.output.contains(cold.record.id))
        }
    }

    @Test func handlerErrorKeepsTheWorkerWarm() async throws {
        try await withCleanup {
            let first = try await invoke("raises")
            #expect(first.record.status == .error)
            #expect(first.record.errorType == "ValueError" && first.record.errorMessage == "boom")
            #expect(first.record.output.contains("about to fail"))
            #expect((json(first.payload)["stackTrace"] as? [String])?.isEmpty == false)
            let second = try await invoke("raises")
            #expect(second.record.status == .error && second.record.initDurationMs == nil)
        }
    }

    @Test func timeoutKillsTheWholeProcessGroupAndTheNextCallWorks() async throws {
        try await withCleanup {
            let result = try await invoke("sleeps")
            #expect(result.record.status == .timeout)
            #expect(result.record.errorType == "Sandbox.Timedout")
            #expect(result.record.errorMessage?.hasSuffix("Task timed out after 1.00 seconds") == true)
            let pidText = try String(contentsOfFile: project.path + "/functions/sleeps/grandchild.pid", encoding: .utf8)
            let grandchild = try #require(Int32(pidText))
            #expect(await waitUntil { kill(grandchild, 0) != 0 }, "the grandchild the handler started must be gone")
            try FileManager.default.removeItem(atPath: project.path + "/functions/sleeps/grandchild.pid")
            #expect(try await invoke("echo").record.status == .ok)
            let again = try await invoke("sleeps")
            #expect(
                again.record.status == .timeout, "\(again.record.errorType ?? "") \(again.record.errorMessage ?? "")")
            #expect(again.record.initDurationMs != nil, "a fresh worker replaced the killed one")
        }
    }

    @Test func crashIsChargedToTheInvocation() async throws {
        try await withCleanup {
            let result = try await invoke("crashes")
            #expect(result.record.status == .crashed)
            #expect(result.record.errorType == "Runtime.ExitError")
            #expect(result.record.errorMessage?.hasSuffix("Runtime exited with error: exit status 3") == true)
            #expect(result.record.output.contains("crashing"))
            #expect(try await invoke("crashes").record.status == .crashed)
        }
    }

    @Test func initErrorsComeBackPromptlyWithLambdaTypes() async throws {
        try await withCleanup {
            let start = ContinuousClock.now
            let missing = try await invoke("import-error")
            #expect(missing.record.status == .error && missing.record.errorType == "Runtime.ImportModuleError")
            #expect(missing.record.errorMessage?.contains("module_that_does_not_exist") == true)
            let syntax = try await invoke("syntax-error")
            #expect(syntax.record.errorType == "Runtime.UserCodeSyntaxError")
            #expect(ContinuousClock.now - start < .seconds(5), "init errors must not wait for a timeout")
        }
    }

    /// A forked worker can fail its import before the invocation that started it has reached it: that
    /// invocation still gets the init error, as Lambda reports it, not a "worker is not running".
    @Test func anInitErrorBeforeTheFirstInvocationIsThatInvocationsError() async throws {
        try await withCleanup {
            let function = try #require(host.dispatcher.function(named: "import-error"))
            let launcher = WorkerLauncher(group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
            let worker = try await launcher.launch(function)
            #expect(await waitUntil { !worker.isAlive }, "the runtime reported its init error")
            let result = await worker.invoke(WorkerInvocation(id: "first", payload: ByteBuffer(string: "{}")))
            guard case .functionError(let type, let body) = result.outcome else {
                Issue.record("expected the init error, got \(result.outcome)")
                return
            }
            #expect(type == "Runtime.ImportModuleError")
            #expect(String(buffer: body).contains("module_that_does_not_exist"))
            #expect(result.initDurationMs != nil)
            worker.stop()
            await launcher.stop()
        }
    }

    @Test func memoryOverrunStopsTheWorker() async throws {
        try await withCleanup {
            let result = try await invoke("allocates")
            #expect(result.record.status == .error)
            #expect(result.record.errorType == "Runtime.OutOfMemory")
            #expect(result.record.maxMemoryUsedMB > 64)
            #expect(try await invoke("echo").record.status == .ok)
        }
    }

    @Test func nodeCallbackHandlers() async throws {
        try await withCleanup {
            let result = try await invoke("node-callback", #"{"n":41}"#)
            #expect(result.record.status == .ok)
            #expect(json(result.payload)["n"] as? Int == 42)
        }
    }

    /// What a caller gets from a Node handler's error is what Lambda's Node.js runtime sends: `errorType`,
    /// `errorMessage` and `trace`, the whole stack line by line.
    @Test func nodeErrorsHaveLambdasNodeShape() async throws {
        try await withCleanup {
            let result = try await invoke("node-throws")
            #expect(result.record.status == .error && result.record.errorType == "TypeError")
            let body = json(result.payload)
            #expect(Set(body.keys) == ["errorType", "errorMessage", "trace"])
            #expect(body["errorType"] as? String == "TypeError" && body["errorMessage"] as? String == "node boom")
            let trace = body["trace"] as? [String] ?? []
            #expect(trace.first == "TypeError: node boom" && trace.dropFirst().contains { $0.contains("index.js") })
        }
    }

    /// `AWS_EXECUTION_ENV`, as Lambda's managed runtimes set it, with the interpreter's own version.
    @Test func managedRuntimesSetTheExecutionEnvironment() async throws {
        try await withCleanup {
            let python = String(buffer: try await invoke("py-env").payload)
            #expect(python.wholeMatch(of: /"AWS_Lambda_python3\.[0-9]+"/) != nil, "\(python)")
            let node = String(buffer: try await invoke("node-env").payload)
            #expect(node.wholeMatch(of: /"AWS_Lambda_nodejs[0-9]+\.x"/) != nil, "\(node)")
        }
    }

    @Test func unknownFunctionIsAnError() async throws {
        try await withCleanup {
            await #expect(throws: Dispatcher.DispatchError.functionNotFound("nope")) { try await invoke("nope") }
        }
    }
}

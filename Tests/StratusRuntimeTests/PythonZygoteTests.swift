import Foundation
import NIOCore
import StratusCore
import StratusRuntime
import StratusTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Python workers forked by the zygote must be what an exec'd interpreter would have been: the function's
/// environment, directory and modules only, their own process group, no stray descriptors, exit statuses
/// as the interpreter gives them; and a zygote that dies loses nothing but its idle workers.
@Suite(.serialized, .timeLimit(.minutes(1))) struct PythonZygoteTests {
    let project: TemporaryProject
    let host: StratusHost

    /// Reports what a handler can see of its process.
    static let introspect = """
        import os, sys, time
        import helper

        def handler(event, context):
            fds = {}
            for name in os.listdir('/proc/self/fd'):
                try:
                    fds[name] = os.readlink('/proc/self/fd/' + name)
                except OSError:
                    pass  # the descriptor listdir used
            return {
                'pid': os.getpid(), 'pgid': os.getpgid(0), 'ppid': os.getppid(), 'cwd': os.getcwd(),
                'argv': sys.argv, 'env': dict(os.environ), 'fds': fds, 'modules': sorted(sys.modules),
                'helper': helper.NAME, 'tz': time.strftime('%Z'), 'bytecode': not sys.dont_write_bytecode,
                'path0': sys.path[0], 'cgroup': open('/proc/self/cgroup').read().strip(),
            }
        """

    init() throws {
        project = try TemporaryProject()
        let functions = [
            ("alpha", ""), ("beta", ""), ("gamma", "environment:\n  PYTHONPATH: /nonexistent\n"),
            ("delta", "environment:\n  LD_LIBRARY_PATH: /nonexistent\n"),
        ]
        for (name, extra) in functions {
            try project.addFunction(
                name, manifest: "runtime: python\nhandler: app.handler\n" + extra,
                files: [
                    "app.py": Self.introspect, "helper.py": "NAME = '\(name)'\n", "\(name)_only.py": "",
                ])
        }
        try project.addPython(
            "exits",
            code: """
                import atexit, sys
                atexit.register(lambda: print("atexit ran"))
                def handler(event, context):
                    sys.exit(event["code"])
                """)
        let interrupts = """
            def handler(event, context):
                raise KeyboardInterrupt()
            """
        try project.addPython("interrupts", code: interrupts)
        try project.addPython(
            "interrupts-exec", code: interrupts, manifest: "environment: {PYTHONPATH: /nonexistent}\n")
        host = try project.host()
    }

    /// Runs `body`, then stops every worker and removes the project, whatever happened.
    func withCleanup(_ body: () async throws -> Void) async throws {
        try await project.run(host, body)
    }

    func invoke(_ name: String, _ json: String = "{}") async throws -> Dispatcher.Result {
        try await host.dispatcher.invoke(name, payload: ByteBuffer(string: json), origin: .init(trigger: .cli))
    }

    func facts(_ name: String) async throws -> [String: Any] {
        let result = try await invoke(name)
        #expect(result.record.status == .ok, "\(name): \(result.record.errorMessage ?? "")")
        return (try? JSONSerialization.jsonObject(with: Data(result.payload.readableBytesView))) as? [String: Any]
            ?? [:]
    }

    @Test func aForkedWorkerIsWhatAnExecWouldStart() async throws {
        try await withCleanup {
            let alpha = try await facts("alpha")
            let beta = try await facts("beta")
            // gamma sets PYTHONPATH, which the interpreter reads only when it starts: it is exec'd, the reference.
            let gamma = try await facts("gamma")
            let hostPID = Int(getpid())
            #expect(gamma["ppid"] as? Int == hostPID)
            // So is one that sets what the dynamic loader reads when a process starts.
            #expect(try await facts("delta")["ppid"] as? Int == hostPID)
            #expect(alpha["ppid"] as? Int != hostPID, "alpha was forked by the zygote")
            #expect(alpha["ppid"] as? Int == beta["ppid"] as? Int)

            for (name, facts) in [("alpha", alpha), ("beta", beta), ("gamma", gamma)] {
                let directory = project.path + "/functions/" + name
                #expect(facts["pgid"] as? Int == facts["pid"] as? Int, "\(name) leads its own process group")
                #expect(facts["cwd"] as? String == directory)
                #expect(facts["path0"] as? String == directory)
                #expect(facts["helper"] as? String == name, "\(name) imports its own helper.py")
                let modules = facts["modules"] as? [String] ?? []
                #expect(!modules.contains("logging"), "nothing imported on the function's behalf")
                for other in ["alpha", "beta", "gamma"] where other != name {
                    #expect(!modules.contains("\(other)_only"))
                }
                let argv = facts["argv"] as? [String] ?? []
                #expect(argv.count == 1 && argv[0].hasSuffix("/python/bootstrap.py"), "\(argv)")
                #expect(facts["tz"] as? String == "UTC")
                #expect(facts["bytecode"] as? Bool == false)
                if host.isolation == "cgroup" {
                    let cgroup = facts["cgroup"] as? String ?? ""
                    #expect(cgroup.contains("/stratus-\(getpid())/w-"), "\(name) runs in its own cgroup: \(cgroup)")
                }
                let env = facts["env"] as? [String: String] ?? [:]
                #expect(env["AWS_LAMBDA_FUNCTION_NAME"] == name)
                #expect(env["LAMBDA_TASK_ROOT"] == directory)
                // Lambda's log stream of one execution environment: `2024/01/31/[$LATEST]` and 32 hex digits.
                let stream = env["AWS_LAMBDA_LOG_STREAM_NAME"] ?? ""
                #expect(
                    stream.wholeMatch(of: /\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}/) != nil, "\(stream)")
                // Descriptors: stdin from /dev/null, stdout and stderr one pipe, then the Runtime API socket.
                let fds = facts["fds"] as? [String: String] ?? [:]
                #expect(fds["0"] == "/dev/null")
                #expect(fds["1"]?.hasPrefix("pipe:") == true && fds["1"] == fds["2"])
                let others = fds.filter { Int($0.key)! > 2 }
                #expect(others.count == 1 && others.values.allSatisfy { $0.hasPrefix("socket:") }, "\(name): \(fds)")
            }
            // The same variables as an exec'd worker, but for PYTHONPATH and the values naming the function.
            let alphaKeys = Set((alpha["env"] as? [String: String] ?? [:]).keys)
            let gammaKeys = Set((gamma["env"] as? [String: String] ?? [:]).keys).subtracting(["PYTHONPATH"])
            #expect(alphaKeys == gammaKeys)
        }
    }

    @Test func sysExitEndsTheWorkerAsTheInterpreterWould() async throws {
        try await withCleanup {
            let failed = try await invoke("exits", #"{"code": 3}"#)
            #expect(failed.record.status == .crashed)
            #expect(failed.record.errorMessage?.hasSuffix("Runtime exited with error: exit status 3") == true)
            #expect(failed.record.output.contains("atexit ran"))
            let clean = try await invoke("exits", #"{"code": null}"#)
            #expect(clean.record.status == .crashed)
            #expect(clean.record.errorMessage?.hasSuffix("Runtime exited without providing a reason") == true)
        }
    }

    @Test func anUncaughtKeyboardInterruptEndsAForkAsItEndsAnInterpreter() async throws {
        try await withCleanup {
            let forked = try await invoke("interrupts")
            let execd = try await invoke("interrupts-exec")
            #expect(forked.record.status == .crashed && execd.record.status == .crashed)
            #expect(execd.record.errorMessage?.hasSuffix("Runtime exited with error: signal 2") == true)
            #expect(
                forked.record.errorMessage?.split(separator: ":").last
                    == execd.record.errorMessage?.split(separator: ":").last)
            #expect(
                forked.record.output.contains("KeyboardInterrupt") && execd.record.output.contains("KeyboardInterrupt"))
        }
    }

    @Test func aKilledZygoteIsReplacedAndNoInvocationFails() async throws {
        try await withCleanup {
            // The invocation right after the kill races the host's news of it: several rounds, none may fail.
            for _ in 0..<4 {
                let first = try await facts("alpha")
                let zygote = try #require(first["ppid"] as? Int)
                #expect(kill(pid_t(zygote), SIGKILL) == 0)
                // Its idle worker goes with it; the next calls get a worker from a new zygote.
                let worker = try #require(first["pid"] as? Int)
                #expect(await Self.waitUntilGone(worker), "the orphaned worker was stopped")
                for _ in 0..<3 {
                    let again = try await facts("alpha")
                    #expect(again["ppid"] as? Int != zygote)
                    #expect(again["ppid"] as? Int != Int(getpid()), "forked again, by a new zygote")
                }
            }
        }
    }

    @Test func anIdleWorkerKilledFromOutsideCostsNoInvocation() async throws {
        try await withCleanup {
            // `gamma` sets PYTHONPATH, so it is exec'd and reaped by the host; `alpha` is forked.
            for name in ["gamma", "alpha", "gamma", "alpha", "gamma", "alpha"] {
                let worker = try #require(try await facts(name)["pid"] as? Int)
                #expect(kill(pid_t(worker), SIGKILL) == 0)
                #expect(await Self.waitUntilGone(worker))
                _ = try await facts(name)
            }
        }
    }

    /// Waits until process `pid` is gone, or a zombie not reaped yet.
    static func waitUntilGone(_ pid: Int) async -> Bool {
        await waitUntil {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
    }
}

import Foundation
import StratusRuntime
import StratusTesting
import Synchronization
import Testing

/// `serve --watch` on a real project directory: which writes are reported, how a burst is reported once,
/// and that cancelling the watch ends it.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ProjectWatcherTests {
    /// Counts `onChange` calls, and tells when `run` returned.
    final class Calls: Sendable {
        private let value = Atomic<Int>(0)
        private let returned = Atomic<Bool>(false)

        var count: Int { value.load(ordering: .relaxed) }
        var ended: Bool { returned.load(ordering: .relaxed) }

        func record() {
            _ = value.add(1, ordering: .relaxed)
        }

        func end() {
            returned.store(true, ordering: .relaxed)
        }
    }

    /// A watcher running in a task.
    struct Watch {
        let calls = Calls()
        let quiet: Duration
        let task: Task<Void, Never>

        init(_ project: TemporaryProject, quiet: Duration, longest: Duration) {
            self.quiet = quiet
            let watcher = ProjectWatcher(directory: project.path)
            let calls = calls
            task = Task {
                await watcher.run(quiet: quiet, longest: longest) { calls.record() }
                calls.end()
            }
        }
    }

    let project: TemporaryProject

    init() throws {
        project = try TemporaryProject()
        try project.addPython("hello", code: "def handler(event, context):\n    return 1\n")
        try project.write("triggers/http.yaml", "- function: hello\n  path: /hello\n")
    }

    /// Runs `body` with a watcher over the project, once the watch is in place (`probe` is rewritten until a
    /// change is reported, then the calls settle); then stops the watcher and removes the project.
    func watching(
        probe: String = "functions/hello/app.py", quiet: Duration = .milliseconds(150),
        longest: Duration = .seconds(5), _ body: (Watch) async throws -> Void
    ) async throws {
        let watch = Watch(project, quiet: quiet, longest: longest)
        defer { project.remove() }
        do {
            // Generous: when the test process runs many suites at once, its two cooperative threads can be
            // taken by other tests' blocking calls for a while.
            let original = try String(contentsOfFile: project.path + "/" + probe, encoding: .utf8)
            let seen = await waitUntil(timeout: .seconds(60), every: max(.milliseconds(100), quiet * 2)) {
                try? project.write(probe, original)
                return watch.calls.count > 0
            }
            try #require(seen, "the watcher never reported a change to \(probe)")
            _ = await settled(watch)
            try await body(watch)
        } catch {
            watch.task.cancel()
            await watch.task.value
            throw error
        }
        watch.task.cancel()
        await watch.task.value
    }

    /// Waits until no call came for a while (four quiet periods, at least 600 ms), and returns the count then.
    func settled(_ watch: Watch) async -> Int {
        let window = max(.milliseconds(600), watch.quiet * 4)
        var count = watch.calls.count
        while true {
            try? await Task.sleep(for: window)
            let now = watch.calls.count
            if now == count { return now }
            count = now
        }
    }

    /// Waits (10 s at most) for a call beyond the first `count`.
    func reported(_ watch: Watch, beyond count: Int) async -> Bool {
        await waitUntil(timeout: .seconds(30)) { watch.calls.count > count }
    }

    @Test func aBurstOfWritesIsReportedOnce() async throws {
        try await watching(quiet: .milliseconds(300)) { watch in
            let before = watch.calls.count
            let files = [
                "functions/hello/app.py", "functions/hello/util.py", "triggers/http.yaml", "functions/hello/x.py",
            ]
            for index in 0..<20 {
                try project.write(files[index % files.count], "# \(index)\n")
            }
            #expect(await reported(watch, beyond: before))
            let after = await settled(watch)
            // Reported each time, 20 writes would be 20 calls or more.
            #expect(after - before == 1)
        }
    }

    @Test func aSingleEditIsReportedOnce() async throws {
        try await watching { watch in
            let before = watch.calls.count
            try project.write("functions/hello/app.py", "def handler(event, context):\n    return 2\n")
            #expect(await reported(watch, beyond: before))
            let after = await settled(watch)
            #expect(after - before == 1)
        }
    }

    @Test func continuousChangesAreReportedAfterLongest() async throws {
        try await watching(longest: .milliseconds(500)) { watch in
            let before = watch.calls.count
            // A write every 50 ms never leaves 150 ms of quiet; `longest` still reports it while it goes on.
            let writing = ContinuousClock.now
            var reportedWhileWriting = false
            var index = 0
            while ContinuousClock.now - writing < .seconds(3) {
                try project.write("functions/hello/app.py", "# \(index)\n")
                index += 1
                if watch.calls.count > before {
                    reportedWhileWriting = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(reportedWhileWriting)
            #expect(ContinuousClock.now - writing < .seconds(2))
        }
    }

    @Test func aNewFunctionDirectoryIsWatched() async throws {
        try await watching { watch in
            var before = watch.calls.count
            try FileManager.default.createDirectory(
                atPath: project.path + "/functions/world/lib/deep", withIntermediateDirectories: true)
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)

            try project.write("functions/world/app.py", "def handler(event, context):\n    return 'world'\n")
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)

            // Directories made together with the new one are watched too.
            try project.write("functions/world/lib/deep/util.py", "X = 1\n")
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)

            // And so is a directory made inside it later.
            try FileManager.default.createDirectory(
                atPath: project.path + "/functions/world/pkg", withIntermediateDirectories: true)
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)
            try project.write("functions/world/pkg/mod.py", "Y = 2\n")
            #expect(await reported(watch, beyond: before))
        }
    }

    @Test func renamingAndDeletingAFileAreReported() async throws {
        try await watching { watch in
            var before = watch.calls.count
            try FileManager.default.moveItem(
                atPath: project.path + "/functions/hello/app.py", toPath: project.path + "/functions/hello/main.py")
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)
            try FileManager.default.removeItem(atPath: project.path + "/functions/hello/main.py")
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)
            try FileManager.default.removeItem(atPath: project.path + "/triggers/http.yaml")
            #expect(await reported(watch, beyond: before))
        }
    }

    @Test func aFunctionDirectoryMovedInIsWatched() async throws {
        let outside = project.path + "-outside"
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.createDirectory(atPath: outside + "/lib", withIntermediateDirectories: true)
        try "def handler(event, context):\n    return 'moved'\n".write(
            toFile: outside + "/app.py", atomically: true, encoding: .utf8)
        try await watching { watch in
            var before = watch.calls.count
            try FileManager.default.moveItem(atPath: outside, toPath: project.path + "/functions/moved")
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)
            try project.write("functions/moved/lib/util.py", "X = 1\n")
            #expect(await reported(watch, beyond: before))
        }
    }

    @Test func bytecodeAndInstalledPackagesAreIgnored() async throws {
        try project.write("functions/hello/node_modules/left-pad/index.js", "module.exports = 0\n")
        try await watching { watch in
            let before = watch.calls.count
            // Created while watching, and existing from the start.
            try project.write("functions/hello/__pycache__/app.cpython-312.pyc", "bytecode")
            try project.write("functions/hello/__pycache__/util.cpython-312.pyc", "bytecode")
            try project.write("functions/hello/node_modules/left-pad/index.js", "module.exports = 1\n")
            try project.write("functions/hello/node_modules/new-package/index.js", "module.exports = 2\n")
            try project.write("functions/hello/node_modules/.package-lock.json", "{}")
            try project.write("functions/hello/.git/HEAD", "ref: refs/heads/main\n")
            try project.write("functions/hello/.git/objects/ab/cdef", "object")
            try await Task.sleep(for: .milliseconds(600))
            #expect(watch.calls.count == before)
            // The watch still works for code.
            try project.write("functions/hello/app.py", "def handler(event, context):\n    return 3\n")
            #expect(await reported(watch, beyond: before))
        }
    }

    @Test func filesOutsideFunctionsAndTriggersAreIgnored() async throws {
        try await watching { watch in
            let before = watch.calls.count
            try project.write("README.md", "# Project\n")
            try project.write("stratus.yaml", "name: demo\n")
            try project.write("README.md", "# Project, edited\n")
            try project.write("scripts/deploy.sh", "#!/bin/sh\n")
            try project.write("functions-old/app.py", "A = 1\n")
            try FileManager.default.removeItem(atPath: project.path + "/README.md")
            try await Task.sleep(for: .milliseconds(600))
            #expect(watch.calls.count == before)
            try project.write("triggers/http.yaml", "- function: hello\n  path: /hi\n")
            #expect(await reported(watch, beyond: before))
        }
    }

    @Test func aTriggersDirectoryMadeLaterIsWatched() async throws {
        try FileManager.default.removeItem(atPath: project.path + "/triggers")
        try await watching { watch in
            var before = watch.calls.count
            try FileManager.default.createDirectory(
                atPath: project.path + "/triggers", withIntermediateDirectories: false)
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)
            try project.write("triggers/http.yaml", "- function: hello\n  path: /hello\n")
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)
            try project.write("triggers/http.yaml", "- function: hello\n  path: /hi\n")
            #expect(await reported(watch, beyond: before))
        }
    }

    @Test func aFunctionsDirectoryRemovedAndMadeAgainIsWatched() async throws {
        try await watching(probe: "triggers/http.yaml") { watch in
            var before = watch.calls.count
            try FileManager.default.removeItem(atPath: project.path + "/functions")
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)
            try project.addPython("hello", code: "def handler(event, context):\n    return 4\n")
            #expect(await reported(watch, beyond: before))
            before = await settled(watch)
            try project.write("functions/hello/app.py", "def handler(event, context):\n    return 5\n")
            #expect(await reported(watch, beyond: before))
        }
    }

    @Test func cancellingEndsTheWatch() async throws {
        try await watching { watch in
            let inotify = inotifyDescriptors()
            #expect(inotify >= 1)
            let cancelled = ContinuousClock.now
            watch.task.cancel()
            #expect(await waitUntil(timeout: .seconds(2)) { watch.calls.ended })
            #expect(ContinuousClock.now - cancelled < .seconds(2))
            // The watch thread closes its inotify descriptor.
            #expect(await waitUntil(timeout: .seconds(2)) { inotifyDescriptors() == inotify - 1 })
            // And nothing is reported any more.
            let after = watch.calls.count
            try project.write("functions/hello/app.py", "def handler(event, context):\n    return 6\n")
            try await Task.sleep(for: .milliseconds(400))
            #expect(watch.calls.count == after)
        }
    }

    @Test func cancellingDuringABurstEndsTheWatchWithoutReportingIt() async throws {
        try await watching(quiet: .milliseconds(500)) { watch in
            let before = watch.calls.count
            try project.write("functions/hello/app.py", "# burst\n")
            // Inside the quiet period: the burst is seen but not yet reported.
            try await Task.sleep(for: .milliseconds(100))
            watch.task.cancel()
            #expect(await waitUntil(timeout: .seconds(2)) { watch.calls.ended })
            #expect(watch.calls.count == before)
        }
    }

    /// This process's inotify descriptors.
    func inotifyDescriptors() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.count {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == "anon_inode:inotify"
        }
    }
}

import Foundation
import StratusCore
import StratusTesting
import Testing

/// `PUT /v1/functions/NAME` with the archives a hostile or careless client sends, against the built binary: each
/// is refused with the `/v1` error that names the problem, nothing is written outside the host's state
/// directory and nothing is left in it, and the host keeps serving. A good archive made by GNU tar deploys
/// and runs.
@Suite(.serialized) struct DeployArchiveTests {
    // MARK: Archives by hand

    /// A 512-byte ustar header with a correct checksum.
    static func header(_ name: String, type: Character = "0", size: Int = 0, mode: Int = 0o644, link: String = "")
        -> [UInt8]
    {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, length: Int) {
            for (index, byte) in text.utf8.prefix(length).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, digits: Int) {
            let text = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, digits - text.count)) + text, at: offset, length: digits)
        }
        put(name, at: 0, length: 100)
        octal(mode, at: 100, digits: 7)
        octal(0, at: 108, digits: 7)
        octal(0, at: 116, digits: 7)
        octal(size, at: 124, digits: 11)
        octal(0, at: 136, digits: 11)
        block[156] = type.asciiValue ?? 0
        put(link, at: 157, length: 100)
        put("ustar\u{0}00", at: 257, length: 8)
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        octal(block.reduce(0) { $0 + Int($1) }, at: 148, digits: 6)
        block[154] = 0
        return block
    }

    /// A regular file.
    static func file(_ name: String, _ content: String) -> [UInt8] {
        let data = Array(content.utf8)
        return header(name, size: data.count) + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// A header-only entry: a directory, a link, a device, a FIFO.
    static func entry(_ name: String, type: Character, link: String = "") -> [UInt8] {
        header(name, type: type, mode: type == "2" ? 0o777 : 0o644, link: link)
    }

    /// The members, then the two zero blocks that end an archive.
    static func archive(_ members: [UInt8]...) -> [UInt8] {
        members.flatMap { $0 } + [UInt8](repeating: 0, count: 1024)
    }

    static let manifest = "runtime: python\nhandler: app.handler\n"
    static let handler = "def handler(event, context):\n    return 'evil ran'\n"

    /// function.yaml and app.py, which a hostile archive carries so that only its hostile part is refused.
    static var valid: [UInt8] { file("function.yaml", manifest) + file("app.py", handler) }

    // MARK: Archives by GNU tar

    /// Runs GNU tar.
    static func tar(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try StratusBinary.runCommand("/usr/bin/env", ["tar"] + arguments)
    }

    /// `tar -C directory -cf FILE .` in `format` (every path starts with `./`), as bytes.
    static func tarball(of directory: String, format: String = "gnu") throws -> [UInt8] {
        let output = directory + ".tar"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let made = try tar(["--format=\(format)", "--sort=name", "-C", directory, "-cf", output, "."])
        guard made.status == 0 else { throw ServeError(message: "tar: \(made.stderr)") }
        return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
    }

    // MARK: The host

    /// A host on a project with `hello`, whose state directory is `sandbox/a/b/c/state`: what an archive
    /// writes outside the state directory shows in the sandbox.
    struct Fixture {
        let project: TemporaryProject
        let sandbox: String
        let host: ServeProcess

        static func start() async throws -> Fixture {
            let project = try TemporaryProject()
            try project.addPython("hello", code: "def handler(event, context):\n    return 'hi'\n")
            let sandbox = project.path + "-sandbox"
            try FileManager.default.createDirectory(atPath: sandbox + "/a/b/c", withIntermediateDirectories: true)
            do {
                let host = try await ServeProcess(
                    project: project.path, extraArguments: ["--state", sandbox + "/a/b/c/state"])
                // Once invoked, hello's code is in the state directory: the baseline of every trace.
                let hello = try host.cli(["invoke", "hello"])
                guard hello.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "hi" else {
                    _ = await host.stop()
                    throw ServeError(message: "hello answered \(hello)")
                }
                return Fixture(project: project, sandbox: sandbox, host: host)
            } catch {
                project.remove()
                try? FileManager.default.removeItem(atPath: sandbox)
                throw error
            }
        }

        func remove() {
            project.remove()
            try? FileManager.default.removeItem(atPath: sandbox)
        }

        /// Every path under the sandbox and the project (links not followed), but the store's files, which
        /// change with every request.
        func trace() -> Set<String> {
            var paths: Set<String> = []
            func walk(_ root: String, _ relative: String, _ shown: String) {
                let absolute = relative.isEmpty ? root : root + "/" + relative
                for name in (try? FileManager.default.contentsOfDirectory(atPath: absolute)) ?? [] {
                    let path = relative.isEmpty ? name : relative + "/" + name
                    guard !path.hasPrefix("a/b/c/state/stratus.sqlite") else { continue }
                    paths.insert(shown + path)
                    var info = stat()
                    if lstat(root + "/" + path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                        walk(root, path, shown)
                    }
                }
            }
            walk(sandbox, "", "sandbox/")
            walk(project.path, "", "project/")
            return paths
        }

        /// `PUT /v1/functions/NAME`.
        func put(_ name: String, _ body: [UInt8], type: String? = "application/x-tar") async throws -> HTTPAnswer {
            try await HTTP.request(
                "PUT", host.controlURL + "/v1/functions/" + name, headers: type.map { ["Content-Type": $0] } ?? [:],
                body: Data(body))
        }
    }

    /// Starts a host, runs `body`, stops the host and removes its directories, whatever happened.
    static func withHost(_ body: (Fixture) async throws -> Void) async throws {
        let fixture = try await Fixture.start()
        do {
            try await body(fixture)
        } catch {
            _ = await fixture.host.stop()
            fixture.remove()
            throw error
        }
        #expect(await fixture.host.stop() == 0)
        fixture.remove()
    }

    /// The `/v1` error of `answer`: code and message.
    static func error(_ answer: HTTPAnswer) -> (code: String, message: String)? {
        guard let error = answer.json?["error"] as? [String: Any], let code = error["code"] as? String,
            let message = error["message"] as? String
        else { return nil }
        return (code, message)
    }

    /// After a refused upload: no function `name`, no revision of it, the host serves `hello`, and the files
    /// under the sandbox and the project are those of `baseline` (the state directory may have gained an
    /// empty `code`).
    static func expectNoTrace(
        of name: String, _ fixture: Fixture, baseline: Set<String>, _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let host = fixture.host
        #expect(try host.functionStatus(name).isEmpty, "\(label)", sourceLocation: sourceLocation)
        let status = try host.cli(["status"])
        #expect(status.status == 0, "\(label)", sourceLocation: sourceLocation)
        #expect(!status.stdout.contains(name), "\(label): \(status.stdout)", sourceLocation: sourceLocation)
        let versions = try await HTTP.get(host.controlURL + "/v1/functions/\(name)/versions")
        #expect(versions.status == 404, "\(label)", sourceLocation: sourceLocation)
        #expect(Self.error(versions)?.code == "FunctionNotFound", "\(label)", sourceLocation: sourceLocation)
        let hello = try host.cli(["invoke", "hello"])
        #expect(
            hello.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "hi", "\(label)",
            sourceLocation: sourceLocation)
        let now = fixture.trace().subtracting(["sandbox/a/b/c/state/code"])
        #expect(now.subtracting(baseline).sorted() == [], "\(label): written", sourceLocation: sourceLocation)
        #expect(baseline.subtracting(now).sorted() == [], "\(label): removed", sourceLocation: sourceLocation)
    }

    // MARK: Refusals

    /// Each hostile archive, its expected status, `/v1` error code and (part of) message.
    static let refusals: [(label: String, archive: [UInt8], status: Int, code: String, message: String)] = [
        (
            "a file in the parent", archive(valid, file("../escape.txt", "escaped")), 400, "InvalidArchive",
            "the archive is refused: ../escape.txt: '..' is not accepted in paths"
        ),
        (
            "a file further up", archive(valid, file("lib/../../../escape.txt", "escaped")), 400, "InvalidArchive",
            "the archive is refused: lib/../../../escape.txt: '..' is not accepted in paths"
        ),
        (
            "an absolute file", archive(valid, file("/etc/evil", "evil")), 400, "InvalidArchive",
            "the archive is refused: /etc/evil: absolute paths are not accepted"
        ),
        (
            "a link to /etc, then a file through it",
            archive(valid, entry("link", type: "2", link: "/etc"), file("link/passwd", "root::0:0::/:/bin/sh\n")),
            400, "InvalidArchive",
            "the archive is refused: link: a symbolic link to an absolute path (/etc) points out of the function"
        ),
        (
            "a file, then a link to /etc over its directory",
            archive(valid, file("link/passwd", "root::0:0::/:/bin/sh\n"), entry("link", type: "2", link: "/etc")),
            400, "InvalidArchive",
            "the archive is refused: link: a symbolic link to an absolute path (/etc) points out of the function"
        ),
        (
            "a link to the parent", archive(valid, entry("up", type: "2", link: "../x")), 400, "InvalidArchive",
            "the archive is refused: up: a symbolic link to ../x points out of the function"
        ),
        (
            "a link that climbs through a directory", archive(valid, entry("up", type: "2", link: "a/../../x")), 400,
            "InvalidArchive", "the archive is refused: up: a symbolic link to a/../../x points out of the function"
        ),
        (
            "a character device", archive(valid, entry("tty", type: "3")), 400, "InvalidArchive",
            "the archive is refused: tty: devices are not accepted in function code"
        ),
        (
            "a block device", archive(valid, entry("disk", type: "4")), 400, "InvalidArchive",
            "the archive is refused: disk: devices are not accepted in function code"
        ),
        (
            "a FIFO", archive(valid, entry("pipe", type: "6")), 400, "InvalidArchive",
            "the archive is refused: pipe: FIFOs are not accepted in function code"
        ),
        (
            "a hard link to a file inside", archive(valid, entry("same.py", type: "1", link: "app.py")), 400,
            "InvalidArchive",
            "the archive is refused: same.py: hard links are not accepted; archive the file itself"
        ),
        (
            "a hard link to /etc/passwd", archive(valid, entry("passwd", type: "1", link: "/etc/passwd")), 400,
            "InvalidArchive",
            "the archive is refused: passwd: hard links are not accepted; archive the file itself"
        ),
        (
            "data cut short", Array(archive(valid).prefix(512 + 20)), 400, "InvalidArchive",
            "the archive is refused: truncated archive: an entry's data runs past the end"
        ),
        (
            "a header cut short", Array(valid.prefix(1024 + 300)), 400, "InvalidArchive",
            "the archive is refused: truncated archive"
        ),
        (
            "not a tar at all", Array("{\"hello\": \"world\"}".utf8) + [UInt8](repeating: 0x20, count: 600), 400,
            "InvalidArchive", "the archive is refused: not a tar archive (bad header checksum at byte 0)"
        ),
        (
            "no function.yaml", archive(file("app.py", handler)), 400, "InvalidFunction",
            "function.yaml: missing or unreadable"
        ),
        ("an empty body", [], 400, "InvalidFunction", "function.yaml: missing or unreadable"),
        (
            "an invalid function.yaml",
            archive(
                file("function.yaml", "runtime: python\nhandler: app.handler\ntimeout: 99h\n"), file("app.py", handler)),
            400, "InvalidFunction", "function.yaml:3: timeout:"
        ),
        (
            "an unknown key in function.yaml",
            archive(
                file("function.yaml", "runtime: python\nhandler: app.handler\nbogus: 1\n"), file("app.py", handler)),
            400, "InvalidFunction", "function.yaml:3: bogus: unknown key"
        ),
        (
            "a function.yaml that is a directory", archive(entry("function.yaml", type: "5"), file("app.py", handler)),
            400, "InvalidFunction", "function.yaml"
        ),
    ]

    @Test func hostileArchivesAreRefusedAndLeaveNoTrace() async throws {
        try await Self.withHost { fixture in
            let baseline = fixture.trace().subtracting(["sandbox/a/b/c/state/code"])
            for refusal in Self.refusals {
                let answer = try await fixture.put("evil", refusal.archive)
                #expect(answer.status == refusal.status, "\(refusal.label): \(answer.text)")
                let error = Self.error(answer)
                #expect(error?.code == refusal.code, "\(refusal.label): \(answer.text)")
                #expect(error?.message.contains(refusal.message) == true, "\(refusal.label): \(answer.text)")
                try await Self.expectNoTrace(of: "evil", fixture, baseline: baseline, refusal.label)
            }
        }
    }

    /// GNU tar archives a directory that holds a link out of it, a hard link or a FIFO as they are.
    @Test func gnuTarArchivesOfHostileDirectoriesAreRefused() async throws {
        try await Self.withHost { fixture in
            let baseline = fixture.trace().subtracting(["sandbox/a/b/c/state/code"])
            let manager = FileManager.default
            let source = fixture.sandbox + "-src"
            defer { try? manager.removeItem(atPath: source) }
            func fresh() throws -> String {
                try? manager.removeItem(atPath: source)
                try manager.createDirectory(atPath: source + "/lib", withIntermediateDirectories: true)
                try Self.manifest.write(toFile: source + "/function.yaml", atomically: true, encoding: .utf8)
                try Self.handler.write(toFile: source + "/app.py", atomically: true, encoding: .utf8)
                return source
            }
            let cases: [(String, (String) throws -> Void, String)] = [
                (
                    "a link to the project",
                    { try manager.createSymbolicLink(atPath: $0 + "/lib/project", withDestinationPath: "../../..") },
                    "lib/project: a symbolic link to ../../.. points out of the function"
                ),
                (
                    "a link to /etc/passwd",
                    { try manager.createSymbolicLink(atPath: $0 + "/passwd", withDestinationPath: "/etc/passwd") },
                    "passwd: a symbolic link to an absolute path (/etc/passwd) points out of the function"
                ),
                (
                    "a hard link", { #expect(link($0 + "/app.py", $0 + "/lib/same.py") == 0) },
                    "lib/same.py: hard links are not accepted; archive the file itself"
                ),
                (
                    "a FIFO", { #expect(mkfifo($0 + "/lib/pipe", 0o644) == 0) },
                    "lib/pipe: FIFOs are not accepted in function code"
                ),
            ]
            for format in ["gnu", "pax", "ustar"] {
                for (label, make, message) in cases {
                    let directory = try fresh()
                    try make(directory)
                    let answer = try await fixture.put("evil", try Self.tarball(of: directory, format: format))
                    #expect(answer.status == 400, "\(format) \(label): \(answer.text)")
                    #expect(Self.error(answer)?.code == "InvalidArchive", "\(format) \(label)")
                    #expect(
                        Self.error(answer)?.message == "the archive is refused: " + message, "\(format) \(label)")
                    try await Self.expectNoTrace(of: "evil", fixture, baseline: baseline, "\(format) \(label)")
                }
            }
        }
    }

    /// Links that stay inside by their text but not once the links they go through are resolved: the reader
    /// lets them through, the host's `realpath` check refuses them.
    @Test func linksThatEscapeOnlyWhenResolvedAreRefused() async throws {
        try await Self.withHost { fixture in
            let baseline = fixture.trace().subtracting(["sandbox/a/b/c/state/code"])
            let cases: [(String, [UInt8], String)] = [
                (
                    "a -> ., b -> a/..",
                    Self.archive(
                        Self.valid, Self.entry("a", type: "2", link: "."), Self.entry("b", type: "2", link: "a/..")),
                    "b: the link to a/.. points out of the function"
                ),
                (
                    "a -> ., b/c -> ../a/..",
                    Self.archive(
                        Self.valid, Self.entry("a", type: "2", link: "."), Self.entry("b", type: "5"),
                        Self.entry("b/c", type: "2", link: "../a/..")),
                    "b/c: the link to ../a/.. points out of the function"
                ),
                (
                    "lib/self -> ., lib/up -> self/../..",
                    Self.archive(
                        Self.valid, Self.entry("lib", type: "5"), Self.entry("lib/self", type: "2", link: "."),
                        Self.entry("lib/up", type: "2", link: "self/../..")),
                    "lib/up: the link to self/../.. points out of the function"
                ),
                (
                    "a dangling link",
                    Self.archive(Self.valid, Self.entry("nowhere", type: "2", link: "missing/file")),
                    "nowhere: the link to missing/file leads nowhere"
                ),
            ]
            for (label, archive, message) in cases {
                let answer = try await fixture.put("evil", archive)
                #expect(answer.status == 400, "\(label): \(answer.text)")
                #expect(Self.error(answer)?.code == "InvalidArchive", "\(label)")
                #expect(Self.error(answer)?.message == "the archive is refused: " + message, "\(label)")
                try await Self.expectNoTrace(of: "evil", fixture, baseline: baseline, label)
            }
            // `lib/up -> self/..` reads as `lib`, resolves to the function's directory: inside, deployed.
            let inside = Self.archive(
                Self.valid, Self.entry("lib", type: "5"), Self.entry("lib/self", type: "2", link: "."),
                Self.entry("lib/up", type: "2", link: "self/.."))
            let answer = try await fixture.put("inside", inside)
            #expect(answer.status == 201, "\(answer.text)")
            #expect(
                try fixture.host.cli(["invoke", "inside"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    == "evil ran")
        }
    }

    /// A chain of links, each inside by its text: `a -> .` and `b -> a/..` make `b` the directory above the
    /// upload's, and links under `b/` are made there before any link is checked. Three levels reach out of
    /// the state directory.
    @Test func aChainOfLinksWritesNothingOutsideTheUpload() async throws {
        try await Self.withHost { fixture in
            let baseline = fixture.trace().subtracting(["sandbox/a/b/c/state/code"])
            let chain = Self.archive(
                Self.valid,
                Self.entry("a", type: "2", link: "."), Self.entry("b", type: "2", link: "a/.."),  // state/code
                Self.entry("b/a", type: "2", link: "."), Self.entry("b/b", type: "2", link: "a/.."),  // state
                Self.entry("b/b/a", type: "2", link: "."), Self.entry("b/b/b", type: "2", link: "a/.."),  // a/b/c
                Self.entry("b/b/b/escaped", type: "2", link: "function.yaml"),
                Self.entry("b/b/b/made-dir/link", type: "2", link: "../function.yaml"))
            let answer = try await fixture.put("evil", chain)
            #expect(answer.status == 400, "\(answer.text)")
            #expect(
                Self.error(answer)?.message == "the archive is refused: b/a: its directory b is a symbolic link")
            #expect(try fixture.host.functionStatus("evil").isEmpty)
            let written = fixture.trace().subtracting(["sandbox/a/b/c/state/code"]).subtracting(baseline)
            #expect(written.sorted() == [])
            #expect(
                try fixture.host.cli(["invoke", "hello"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "hi"
            )
        }
    }

    // MARK: Names, content types, the project's functions

    @Test func namesContentTypesAndProjectFunctions() async throws {
        try await Self.withHost { fixture in
            let baseline = fixture.trace().subtracting(["sandbox/a/b/c/state/code"])
            let good = Self.archive(Self.valid)

            let badName = try await fixture.put("Bad_Name", good)
            #expect(badName.status == 400)
            #expect(Self.error(badName)?.code == "InvalidParameter")
            #expect(
                Self.error(badName)?.message == "invalid function name 'Bad_Name'; expected [a-z0-9][a-z0-9-]{0,63}")
            for name in ["-dash", String(repeating: "a", count: 65), "a.b", "%2e%2e", "%2Fetc"] {
                let answer = try await fixture.put(name, good)
                #expect(answer.status == 400, "\(name): \(answer.text)")
                #expect(Self.error(answer)?.code == "InvalidParameter", "\(name)")
            }

            // Another type, or none, is refused before the body is read.
            for type in ["text/plain", "application/octet-stream", "application/x-www-form-urlencoded", nil] {
                let answer = try await fixture.put("evil", good, type: type)
                #expect(answer.status == 415, "\(type ?? "none"): \(answer.text)")
                #expect(Self.error(answer)?.code == "UnsupportedMediaType", "\(type ?? "none")")
            }
            try await Self.expectNoTrace(of: "evil", fixture, baseline: baseline, "content types")
            for type in ["APPLICATION/X-TAR", "application/x-tar; charset=binary"] {
                let answer = try await fixture.put("typed", good, type: type)
                #expect([200, 201].contains(answer.status), "\(type): \(answer.text)")
            }

            // The name `hello` is served from functions/: refused, and hello keeps its code.
            let conflict = try await fixture.put("hello", good)
            #expect(conflict.status == 409)
            #expect(Self.error(conflict)?.code == "ProjectFunction")
            #expect(Self.error(conflict)?.message.contains("served from the project's functions/hello") == true)
            #expect(
                try fixture.host.cli(["invoke", "hello"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "hi"
            )

            // application/json passes the control plane's type check (it is what /v1 takes), but a deploy is a
            // tar: the route refuses any other type.
            let json = try await fixture.put("as-json", good, type: "application/json")
            #expect(json.status == 415, "\(json.text)")
            #expect(Self.error(json)?.code == "UnsupportedMediaType")
            #expect(try fixture.host.functionStatus("as-json").isEmpty)
        }
    }

    /// A file and then a directory of the same name (or a file under a file) is the archive's fault, not the
    /// state directory's.
    @Test func entriesThatClashAreRefusedAsAnArchiveProblem() async throws {
        try await Self.withHost { fixture in
            let baseline = fixture.trace().subtracting(["sandbox/a/b/c/state/code"])
            let cases: [(String, [UInt8])] = [
                ("a file, then a directory", Self.archive(Self.valid, Self.file("x", "1"), Self.entry("x", type: "5"))),
                ("a file, then a file under it", Self.archive(Self.valid, Self.file("x", "1"), Self.file("x/y", "2"))),
            ]
            for (label, archive) in cases {
                let answer = try await fixture.put("evil", archive)
                #expect(answer.status != 201, "\(label): \(answer.text)")
                #expect(answer.status == 400, "\(label): \(answer.text)")
                #expect(Self.error(answer)?.code == "InvalidArchive", "\(label)")
                #expect(!answer.text.contains(fixture.sandbox), "\(label): the state directory's path")
                try await Self.expectNoTrace(of: "evil", fixture, baseline: baseline, label)
            }
            // A link over a directory that files made: refused as an archive problem.
            let linkOverDirectory = Self.archive(
                Self.valid, Self.entry("l", type: "2", link: "lib"), Self.entry("lib", type: "5"), Self.file("l/f", "1")
            )
            let answer = try await fixture.put("evil", linkOverDirectory)
            #expect(answer.status == 400, "\(answer.text)")
            #expect(Self.error(answer)?.message == "the archive is refused: l/f: its directory l is a symbolic link")
            try await Self.expectNoTrace(of: "evil", fixture, baseline: baseline, "link over a directory")
        }
    }

    /// `serve --state DIR` with a relative DIR: a deployed function's code is at a path relative to where
    /// `serve` started, which the worker (started elsewhere) does not find.
    @Test func aDeployedFunctionRunsWithARelativeStateDirectory() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("hello", code: "def handler(event, context):\n    return 'hi'\n")
        let sandbox = project.path + "-sandbox"
        defer { try? FileManager.default.removeItem(atPath: sandbox) }
        // The sandbox seen from this process's directory, which `serve` inherits.
        let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
        let relative = String(repeating: "../", count: depth) + sandbox.dropFirst() + "/state"
        let host = try await ServeProcess(project: project.path, extraArguments: ["--state", relative])
        let answer = try await HTTP.request(
            "PUT", host.controlURL + "/v1/functions/relative", headers: ["Content-Type": "application/x-tar"],
            body: Data(Self.archive(Self.valid)))
        #expect(answer.status == 201, "\(answer.text)")
        #expect(FileManager.default.fileExists(atPath: sandbox + "/state/deployed/relative.json"))
        let result = try host.cli(["invoke", "relative"])
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "evil ran", "\(result)")
        #expect(try host.cli(["invoke", "hello"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "hi")
        #expect(await host.stop() == 0)
    }

    // MARK: A good archive

    @Test func anArchiveMadeByGNUTarDeploysAndRuns() async throws {
        try await Self.withHost { fixture in
            let manager = FileManager.default
            let source = fixture.sandbox + "-src/tarred"
            defer { try? manager.removeItem(atPath: fixture.sandbox + "-src") }
            try manager.createDirectory(atPath: source + "/lib/data", withIntermediateDirectories: true)
            try Self.manifest.write(toFile: source + "/function.yaml", atomically: true, encoding: .utf8)
            try """
            import os
            from lib import helper
            def handler(event, context):
                config = open("config.txt").read().strip()
                shared = open("shared/data/value.txt").read().strip()
                return f"value={helper.VALUE} config={config} shared={shared} linkdir={os.path.isdir('shared')}"
            """.write(toFile: source + "/app.py", atomically: true, encoding: .utf8)
            try "".write(toFile: source + "/lib/__init__.py", atomically: true, encoding: .utf8)
            try "VALUE = 42\n".write(toFile: source + "/lib/helper.py", atomically: true, encoding: .utf8)
            try "on\n".write(toFile: source + "/lib/data/config.txt", atomically: true, encoding: .utf8)
            try "7\n".write(toFile: source + "/lib/data/value.txt", atomically: true, encoding: .utf8)
            try manager.createSymbolicLink(atPath: source + "/config.txt", withDestinationPath: "lib/data/config.txt")
            try manager.createSymbolicLink(atPath: source + "/shared", withDestinationPath: "lib")
            let expected = "value=42 config=on shared=7 linkdir=True"

            // The same directory in each format: the same code, so the same revision.
            var revisions: [String] = []
            for (index, format) in ["gnu", "pax", "ustar"].enumerated() {
                let answer = try await fixture.put("tarred", try Self.tarball(of: source, format: format))
                #expect(answer.status == (index == 0 ? 201 : 200), "\(format): \(answer.text)")
                let revision = try #require(answer.json?["revision"] as? String, "\(format): \(answer.text)")
                #expect(revision.count == 8)
                revisions.append(revision)
                let result = try fixture.host.cli(["invoke", "tarred"])
                #expect(result.status == 0, "\(format): \(result.stderr)")
                #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expected, "\(format)")
            }
            #expect(Set(revisions).count == 1, "\(revisions)")

            // `tar -cf x.tar tarred` puts every path under `tarred/`: no function.yaml at the top.
            let nested = fixture.sandbox + "-src/nested.tar"
            #expect(try Self.tar(["-C", fixture.sandbox + "-src", "-cf", nested, "tarred"]).status == 0)
            let answer = try await fixture.put("nested", Array(try Data(contentsOf: URL(fileURLWithPath: nested))))
            #expect(answer.status == 400)
            #expect(Self.error(answer)?.message == "function.yaml: missing or unreadable")

            let status = try fixture.host.functionStatus("tarred")
            #expect(status["revision"] as? String == revisions.first, "\(status)")
            let versions = try fixture.host.cli(["versions", "tarred"]).stdout
            #expect(versions.contains(revisions[0]), "\(versions)")
        }
    }

    // MARK: Limits

    /// Sends `PUT /v1/functions/NAME` with `head`, then `zeros` zero bytes written 1 MB at a time (never held
    /// in memory), then `tail`, with a Content-Length or chunked; returns the answer's status and body. When
    /// the host answers and closes before the body is sent, the rest is not sent.
    static func streamingPut(
        _ baseURL: String, _ name: String, head: [UInt8] = [], zeros: Int, tail: [UInt8] = [], chunked: Bool
    ) throws -> (status: Int, body: String) {
        guard let port = URL(string: baseURL)?.port else { throw ServeError(message: "no port in \(baseURL)") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServeError(message: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 300, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw ServeError(message: "connect: \(errno)") }

        func write(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent < 0 && errno == EINTR { continue }
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }
        func body(_ bytes: [UInt8]) -> Bool {
            guard !bytes.isEmpty else { return true }
            let crlf = Array("\r\n".utf8)
            return chunked ? write(Array(String(bytes.count, radix: 16).utf8) + crlf + bytes + crlf) : write(bytes)
        }
        var request = "PUT /v1/functions/\(name) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        request += "Content-Type: application/x-tar\r\n"
        request +=
            chunked
            ? "Transfer-Encoding: chunked\r\n\r\n" : "Content-Length: \(head.count + zeros + tail.count)\r\n\r\n"
        var open = write(Array(request.utf8)) && body(head)
        let megabyte = [UInt8](repeating: 0, count: 1 << 20)
        var remaining = zeros
        while open && remaining > 0 {
            let count = min(remaining, megabyte.count)
            open = body(count == megabyte.count ? megabyte : Array(megabyte.prefix(count)))
            remaining -= count
        }
        if open { open = body(tail) }
        if open && chunked { open = write(Array("0\r\n\r\n".utf8)) }

        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let answer = Self.parse(response) { return answer }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            response += buffer.prefix(count)
        }
        throw ServeError(
            message:
                "no answer (sent all: \(open), \(response.count) bytes: \(String(decoding: response, as: UTF8.self)))")
    }

    /// A complete HTTP answer with a Content-Length, or `nil`.
    static func parse(_ response: [UInt8]) -> (status: Int, body: String)? {
        let text = String(decoding: response, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<end.lowerBound].split(separator: "\r\n")
        guard let status = head.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        let length =
            head.dropFirst().first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        let body = Array(text[end.upperBound...].utf8)
        guard body.count >= length else { return nil }
        return (status, String(decoding: body.prefix(length), as: UTF8.self))
    }

    /// Bytes of memory the system can still give, from /proc/meminfo (`Int.max` when it cannot be read).
    static var availableMemory: Int {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return .max }
        return kilobytes * 1024
    }

    /// The host holds up to 256 MB of upload, copies it to unpack it: about 1 GB at the peak.
    @Test(
        .enabled(if: DeployArchiveTests.availableMemory > 1536 << 20, "the host needs about 1 GB for a 256 MB upload"))
    func archivesOverTheLimitsAreRefused() async throws {
        try await Self.withHost { fixture in
            let baseline = fixture.trace().subtracting(["sandbox/a/b/c/state/code"])
            let limit = Limits.deployArchiveBytes
            #expect(limit == 256 * 1024 * 1024)
            let url = fixture.host.controlURL

            // One byte over, with a Content-Length and chunked: 413, and the host still serves.
            for chunked in [false, true] {
                let started = ContinuousClock.now
                let answer = try Self.streamingPut(url, "evil", zeros: limit + 1, chunked: chunked)
                let elapsed = ContinuousClock.now - started
                #expect(answer.status == 413, "chunked \(chunked): \(answer.body)")
                #expect(answer.body.contains(#""code":"RequestTooLarge""#), "\(answer.body)")
                #expect(answer.body.contains("the archive exceeds 256 MB"), "\(answer.body)")
                #expect(elapsed < .seconds(120), "\(elapsed)")
                print("413 for \(limit + 1) bytes (chunked: \(chunked)) in \(elapsed)")
                try await Self.expectNoTrace(of: "evil", fixture, baseline: baseline, "over the limit")
            }

            // Exactly the limit is read: zeros are an empty archive, with no function.yaml.
            let exact = try Self.streamingPut(url, "evil", zeros: limit, chunked: false)
            #expect(exact.status == 400, "\(exact.body)")
            #expect(exact.body.contains("function.yaml: missing or unreadable"), "\(exact.body)")

            // Under the upload limit but over Lambda's 250 MB of code: refused while unpacking.
            let code = 250 * 1024 * 1024 + 1
            let head = Self.valid + Self.header("big.bin", size: code)
            let tail = [UInt8](repeating: 0, count: (512 - code % 512) % 512 + 1024)
            #expect(head.count + code + tail.count <= limit)
            let big = try Self.streamingPut(url, "evil", head: head, zeros: code, tail: tail, chunked: false)
            #expect(big.status == 400, "\(big.body)")
            #expect(
                big.body.contains("the code is larger than 250 MB, Lambda's limit for unzipped code"), "\(big.body)")
            try await Self.expectNoTrace(of: "evil", fixture, baseline: baseline, "code over 250 MB")

            // `stratus deploy` checks the same before it uploads (a sparse file: no disk used).
            let source = fixture.sandbox + "-src/huge"
            defer { try? FileManager.default.removeItem(atPath: fixture.sandbox + "-src") }
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            try Self.manifest.write(toFile: source + "/function.yaml", atomically: true, encoding: .utf8)
            try Self.handler.write(toFile: source + "/app.py", atomically: true, encoding: .utf8)
            #expect(FileManager.default.createFile(atPath: source + "/big.bin", contents: nil))
            #expect(truncate(source + "/big.bin", off_t(code)) == 0)
            let cli = try fixture.host.cli(["deploy", source])
            #expect(cli.status == 65, "\(cli.stdout) \(cli.stderr)")
            #expect(cli.stdout.contains("the code is larger than 250 MB"), "\(cli.stdout)")
            try await Self.expectNoTrace(of: "huge", fixture, baseline: baseline, "deploy over 250 MB")
        }
    }
}

import Foundation
import StratusRuntime
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Snapshots of function code on a real file system: what the revision depends on, what a snapshot holds,
/// how blobs are shared between revisions, and what pruning deletes.
@Suite(.timeLimit(.minutes(2))) struct CodeStoreTests {
    /// A function's source directory (`src/hello`) and a store (`state/code`) under one temporary directory.
    struct Scratch {
        let path: String
        var code: String { path + "/src/hello" }
        var root: String { path + "/state/code" }
        var store: CodeStore { CodeStore(root: root) }
        var blobs: String { root + "/blobs" }

        init() throws {
            path =
                FileManager.default.temporaryDirectory
                .appendingPathComponent("stratus-codestore-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: path + "/src/hello", withIntermediateDirectories: true)
        }

        /// Writes `contents` to `relative` (under the function's directory unless it starts with `/`).
        func write(_ relative: String, _ contents: String, mode: mode_t = 0o644) throws {
            let file = relative.hasPrefix("/") ? relative : code + "/" + relative
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
            #expect(chmod(file, mode) == 0)
        }

        func revision() throws -> String {
            try CodeStore.revision(of: code)
        }

        func blobNames() -> Set<String> {
            Set((try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? [])
        }

        func remove() {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// What a tree holds, entry by entry, without following links.
    enum Entry: Equatable, CustomStringConvertible {
        case file(String, executable: Bool)
        case link(String)

        var description: String {
            switch self {
            case .file(let text, let executable): "file(\(text.debugDescription)\(executable ? ", x" : ""))"
            case .link(let target): "link(\(target))"
            }
        }
    }

    static func tree(_ directory: String) -> [String: Entry] {
        var result: [String: Entry] = [:]
        func walk(_ relative: String) {
            let absolute = relative.isEmpty ? directory : directory + "/" + relative
            for name in (try? FileManager.default.contentsOfDirectory(atPath: absolute)) ?? [] {
                let path = relative.isEmpty ? name : relative + "/" + name
                let info = lstatOf(directory + "/" + path)
                switch (info?.st_mode ?? 0) & S_IFMT {
                case S_IFDIR: walk(path)
                case S_IFLNK:
                    let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + path)
                    result[path] = .link(target ?? "?")
                default:
                    let data = FileManager.default.contents(atPath: directory + "/" + path) ?? Data()
                    result[path] = .file(
                        String(decoding: data, as: UTF8.self), executable: (info?.st_mode ?? 0) & 0o111 != 0)
                }
            }
        }
        walk("")
        return result
    }

    static func statOf(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    static func lstatOf(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    func statOf(_ path: String) -> stat? { Self.statOf(path) }
    func lstatOf(_ path: String) -> stat? { Self.lstatOf(path) }
    /// The mode of what `path` names, following links (0 when there is nothing).
    func mode(_ path: String) -> mode_t { statOf(path)?.st_mode ?? 0 }
    /// The mode of `path` itself, not following a link.
    func linkMode(_ path: String) -> mode_t { lstatOf(path)?.st_mode ?? 0 }

    /// The blob a snapshot's file is a hard link to, found by inode.
    func blob(of file: String, in scratch: Scratch) -> String? {
        guard let inode = statOf(file)?.st_ino else { return nil }
        return scratch.blobNames().first { statOf(scratch.blobs + "/" + $0)?.st_ino == inode }
    }

    func setModified(_ path: String, secondsAgo: Double) throws {
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -secondsAgo)], ofItemAtPath: path)
    }

    // MARK: Revision

    @Test func revisionIsEightHexDigitsStableAndIndependentOfWhereTheCodeIs() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("app.py", "def handler(event, context):\n    return 1\n")
        try scratch.write("lib/util.py", "X = 1\n")
        let first = try scratch.revision()
        #expect(first.count == 8)
        #expect(first.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(try scratch.revision() == first)
        // The same files elsewhere are the same revision: it names the content, not the directory.
        try FileManager.default.copyItem(atPath: scratch.code, toPath: scratch.path + "/src/copy")
        #expect(try CodeStore.revision(of: scratch.path + "/src/copy") == first)
        #expect(try CodeStore.revision(of: scratch.code + "/") == first)
    }

    @Test func revisionChangesWithContentAndComesBackWithIt() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("app.py", "A = 1\n")
        try scratch.write("lib/util.py", "X = 1\n")
        let original = try scratch.revision()
        try scratch.write("app.py", "A = 2\n")
        let edited = try scratch.revision()
        #expect(edited != original)
        try scratch.write("lib/util.py", "X = 2\n")
        let nestedEdit = try scratch.revision()
        #expect(nestedEdit != edited && nestedEdit != original)
        try scratch.write("app.py", "A = 1\n")
        try scratch.write("lib/util.py", "X = 1\n")
        #expect(try scratch.revision() == original)
        // A new empty file is code too.
        try scratch.write("__init__.py", "")
        #expect(try scratch.revision() != original)
    }

    @Test func revisionChangesWithAFileName() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("app.py", "A = 1\n")
        let original = try scratch.revision()
        try FileManager.default.moveItem(atPath: scratch.code + "/app.py", toPath: scratch.code + "/main.py")
        #expect(try scratch.revision() != original)
        // Moving it into a directory changes the path as well.
        try FileManager.default.createDirectory(atPath: scratch.code + "/app", withIntermediateDirectories: true)
        let renamed = try scratch.revision()
        try FileManager.default.moveItem(atPath: scratch.code + "/main.py", toPath: scratch.code + "/app/py")
        #expect(try scratch.revision() != renamed)
        try FileManager.default.moveItem(atPath: scratch.code + "/app/py", toPath: scratch.code + "/app.py")
        try FileManager.default.removeItem(atPath: scratch.code + "/app")
        #expect(try scratch.revision() == original)
    }

    @Test func revisionChangesWithTheExecutableBit() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("bootstrap", "#!/bin/sh\n", mode: 0o644)
        let plain = try scratch.revision()
        #expect(chmod(scratch.code + "/bootstrap", 0o755) == 0)
        let executable = try scratch.revision()
        #expect(executable != plain)
        // Any execute bit makes it executable; other mode bits are not code.
        #expect(chmod(scratch.code + "/bootstrap", 0o700) == 0)
        #expect(try scratch.revision() == executable)
        #expect(chmod(scratch.code + "/bootstrap", 0o600) == 0)
        #expect(try scratch.revision() == plain)
    }

    @Test func hiddenFilesBackupsAndBytecodeAreNotCode() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("app.py", "A = 1\n")
        try scratch.write("lib/util.py", "X = 1\n")
        let original = try scratch.revision()
        try scratch.write(".app.py.swp", "vim swap")
        try scratch.write("lib/.x.swp", "vim swap")
        try scratch.write("app.py~", "A = 0\n")
        try scratch.write("__pycache__/app.cpython-312.pyc", "bytecode")
        try scratch.write("lib/__pycache__/util.cpython-312.pyc", "bytecode")
        try scratch.write(".git/HEAD", "ref: refs/heads/main\n")
        #expect(try scratch.revision() == original)
        // …and they stay out of the snapshot.
        let snapshot = try scratch.store.snapshot(of: scratch.code, function: "hello")
        #expect(snapshot.revision == original)
        let path = try #require(snapshot.path)
        #expect(Set(Self.tree(path).keys) == ["app.py", "lib/util.py"])
        // A name that merely contains one of those patterns is code.
        try scratch.write("pycache.py", "")
        #expect(try scratch.revision() != original)
    }

    // MARK: Snapshot

    @Test func snapshotHoldsTheSameFilesAndContents() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("app.py", "import lib.util\n")
        try scratch.write("lib/__init__.py", "")
        try scratch.write("lib/util.py", "X = 1\n")
        try scratch.write("lib/deep/er/data.json", #"{"a": [1, 2]}"#)
        try scratch.write("bootstrap", "#!/bin/sh\nexec python3 app.py\n", mode: 0o755)
        let snapshot = try scratch.store.snapshot(of: scratch.code, function: "hello")
        #expect(snapshot.revision == (try scratch.revision()))
        #expect(snapshot.path == "\(scratch.root)/hello/\(snapshot.revision)")
        let path = try #require(snapshot.path)
        #expect(
            Self.tree(path) == [
                "app.py": .file("import lib.util\n", executable: false),
                "lib/__init__.py": .file("", executable: false),
                "lib/util.py": .file("X = 1\n", executable: false),
                "lib/deep/er/data.json": .file(#"{"a": [1, 2]}"#, executable: false),
                "bootstrap": .file("#!/bin/sh\nexec python3 app.py\n", executable: true),
            ])
        // Nothing but the snapshot (no staging directory) is left for the function.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/hello") == [snapshot.revision])
        // Each file is a hard link to a read-only blob; the executable's blob is marked `x`.
        let bootstrap = try #require(statOf(path + "/bootstrap"))
        #expect(bootstrap.st_nlink == 2)
        #expect(bootstrap.st_mode & 0o777 == 0o555)
        #expect(mode(path + "/app.py") & 0o777 == 0o444)
        #expect(blob(of: path + "/bootstrap", in: scratch)?.hasSuffix("x") == true)
        let appBlob = try #require(blob(of: path + "/app.py", in: scratch))
        #expect(appBlob.count == 64 && appBlob.allSatisfy(\.isHexDigit))
        // Two files with the same bytes are one blob.
        #expect(scratch.blobNames().count == 5)
        #expect(blob(of: path + "/lib/__init__.py", in: scratch) != blob(of: path + "/app.py", in: scratch))
    }

    @Test func identicalFilesShareOneBlob() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("a/__init__.py", "")
        try scratch.write("b/__init__.py", "")
        try scratch.write("c.py", "")
        let path = try #require(try scratch.store.snapshot(of: scratch.code, function: "hello").path)
        #expect(scratch.blobNames().count == 1)
        let a = try #require(statOf(path + "/a/__init__.py"))
        let c = try #require(statOf(path + "/c.py"))
        #expect(a.st_ino == c.st_ino)
        #expect(a.st_nlink == 4)
    }

    @Test func executableBitIsPreserved() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("bootstrap", "#!/bin/sh\n", mode: 0o755)
        try scratch.write("bin/tool", "#!/bin/sh\n", mode: 0o700)
        try scratch.write("run.sh", "#!/bin/sh\n", mode: 0o644)
        let path = try #require(try scratch.store.snapshot(of: scratch.code, function: "hello").path)
        #expect(mode(path + "/bootstrap") & 0o111 == 0o111)
        #expect(mode(path + "/bin/tool") & 0o111 == 0o111)
        #expect(mode(path + "/run.sh") & 0o111 == 0)
        // The same bytes, executable or not, are two blobs.
        #expect(scratch.blobNames().count == 2)
        #expect(statOf(path + "/bootstrap")?.st_ino == statOf(path + "/bin/tool")?.st_ino)
        #expect(statOf(path + "/bootstrap")?.st_ino != statOf(path + "/run.sh")?.st_ino)
        #expect(access(path + "/bootstrap", X_OK) == 0)
    }

    @Test func nodeModulesIsLinkedNotCopied() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("index.js", "exports.handler = async () => 1\n")
        try scratch.write("node_modules/left-pad/index.js", "module.exports = 1\n")
        let before = try scratch.revision()
        let snapshot = try scratch.store.snapshot(of: scratch.code, function: "hello")
        let path = try #require(snapshot.path)
        let link = try #require(lstatOf(path + "/node_modules"))
        #expect(link.st_mode & S_IFMT == S_IFLNK)
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: path + "/node_modules")
                == scratch.code + "/node_modules")
        #expect(Self.tree(path).count == 2)
        // Through the link, the installed packages as they are now.
        try scratch.write("node_modules/left-pad/index.js", "module.exports = 2\n")
        try scratch.write("node_modules/new-package/index.js", "module.exports = 3\n")
        #expect(
            try String(contentsOfFile: path + "/node_modules/left-pad/index.js", encoding: .utf8)
                == "module.exports = 2\n")
        // Installing packages is not an edit of the function; no blob was written for them.
        #expect(try scratch.revision() == before)
        #expect(scratch.blobNames().count == 1)
    }

    @Test func secondSnapshotOfTheSameCodeWritesNothing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("app.py", "A = 1\n")
        try scratch.write("lib/util.py", "X = 1\n")
        let first = try scratch.store.snapshot(of: scratch.code, function: "hello")
        let path = try #require(first.path)
        let directory = try #require(statOf(path))
        let file = try #require(statOf(path + "/app.py"))
        let blobs = scratch.blobNames()
        try setModified(path, secondsAgo: 3600)

        let second = try scratch.store.snapshot(of: scratch.code, function: "hello")
        #expect(second.revision == first.revision)
        #expect(second.path == path)
        #expect(statOf(path)?.st_ino == directory.st_ino)
        #expect(statOf(path + "/app.py")?.st_ino == file.st_ino)
        #expect(statOf(path + "/app.py")?.st_nlink == 2)
        #expect(scratch.blobNames() == blobs)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/hello") == [first.revision])
        // …but the snapshot counts as the newest again.
        let modified = try #require(
            try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        #expect(modified.timeIntervalSinceNow > -60)
    }

    @Test func unchangedFilesAreSharedBetweenRevisionsAsHardLinks() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("app.py", "VERSION = 1\n")
        try scratch.write("lib/util.py", "X = 1\n")
        let one = try scratch.store.snapshot(of: scratch.code, function: "hello")
        try scratch.write("app.py", "VERSION = 2\n")
        let two = try scratch.store.snapshot(of: scratch.code, function: "hello")
        #expect(one.revision != two.revision)
        let first = try #require(one.path)
        let second = try #require(two.path)
        #expect(Self.tree(first)["app.py"] == .file("VERSION = 1\n", executable: false))
        #expect(Self.tree(second)["app.py"] == .file("VERSION = 2\n", executable: false))

        let sharedOne = try #require(statOf(first + "/lib/util.py"))
        let sharedTwo = try #require(statOf(second + "/lib/util.py"))
        #expect(sharedOne.st_ino == sharedTwo.st_ino)
        #expect(sharedOne.st_nlink == 3)  // the blob and two snapshots
        let changedOne = try #require(statOf(first + "/app.py"))
        let changedTwo = try #require(statOf(second + "/app.py"))
        #expect(changedOne.st_ino != changedTwo.st_ino)
        #expect(changedOne.st_nlink == 2 && changedTwo.st_nlink == 2)
        #expect(scratch.blobNames().count == 3)
        #expect(
            Set(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/hello"))
                == [one.revision, two.revision])
    }

    @Test func aLinkToAFileIsCopiedAsThatFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(scratch.path + "/src/common/shared.py", "SHARED = 1\n", mode: 0o755)
        try scratch.write("app.py", "import shared\n")
        try FileManager.default.createSymbolicLink(
            atPath: scratch.code + "/shared.py", withDestinationPath: "../common/shared.py")
        let snapshot = try scratch.store.snapshot(of: scratch.code, function: "hello")
        let path = try #require(snapshot.path)
        #expect(linkMode(path + "/shared.py") & S_IFMT == S_IFREG)
        #expect(Self.tree(path)["shared.py"] == .file("SHARED = 1\n", executable: true))
        // The snapshot does not change with the link's target; the revision does.
        try scratch.write(scratch.path + "/src/common/shared.py", "SHARED = 2\n", mode: 0o755)
        #expect(Self.tree(path)["shared.py"] == .file("SHARED = 1\n", executable: true))
        #expect(try scratch.revision() != snapshot.revision)
        // A dangling link is skipped, not an error.
        try FileManager.default.createSymbolicLink(
            atPath: scratch.code + "/gone.py", withDestinationPath: scratch.path + "/nowhere.py")
        let again = try scratch.store.snapshot(of: scratch.code, function: "hello")
        #expect(Set(Self.tree(again.path ?? "").keys) == ["app.py", "shared.py"])
    }

    @Test func aLinkToADirectoryOutsideStaysALinkAndItsTargetIsPartOfTheRevision() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(scratch.path + "/src/v1/mod.py", "V = 1\n")
        try scratch.write(scratch.path + "/src/v2/mod.py", "V = 2\n")
        try scratch.write("app.py", "from lib import mod\n")
        try FileManager.default.createSymbolicLink(atPath: scratch.code + "/lib", withDestinationPath: "../v1")
        let first = try scratch.store.snapshot(of: scratch.code, function: "hello")
        let path = try #require(first.path)
        #expect(
            Self.tree(path) == [
                "app.py": .file("from lib import mod\n", executable: false), "lib": .link(scratch.path + "/src/v1"),
            ])
        #expect(scratch.blobNames().count == 1)

        // Pointing the link elsewhere is a change of the code the function runs.
        try FileManager.default.removeItem(atPath: scratch.code + "/lib")
        try FileManager.default.createSymbolicLink(atPath: scratch.code + "/lib", withDestinationPath: "../v2")
        let second = try scratch.store.snapshot(of: scratch.code, function: "hello")
        #expect(second.revision != first.revision)
        #expect(Self.tree(second.path ?? "")["lib"] == .link(scratch.path + "/src/v2"))
        #expect(Self.tree(path)["lib"] == .link(scratch.path + "/src/v1"))
    }

    @Test func aLinkToADirectoryInsideIsRelativeInTheSnapshot() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("src/pkg/mod.py", "V = 1\n")
        try FileManager.default.createSymbolicLink(atPath: scratch.code + "/lib", withDestinationPath: "src")
        try FileManager.default.createDirectory(atPath: scratch.code + "/deep/er", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: scratch.code + "/deep/er/pkg", withDestinationPath: scratch.code + "/src/pkg")
        let path = try #require(try scratch.store.snapshot(of: scratch.code, function: "hello").path)
        #expect(
            Self.tree(path) == [
                "src/pkg/mod.py": .file("V = 1\n", executable: false), "lib": .link("src"),
                "deep/er/pkg": .link("../../src/pkg"),
            ])
        // Through the links, the snapshot's own files, not the source's.
        try scratch.write("src/pkg/mod.py", "V = 2\n")
        #expect(try String(contentsOfFile: path + "/lib/pkg/mod.py", encoding: .utf8) == "V = 1\n")
        #expect(try String(contentsOfFile: path + "/deep/er/pkg/mod.py", encoding: .utf8) == "V = 1\n")
    }

    @Test func nodeModulesIsCopiedWhenNotLinking() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("index.js", "exports.handler = async () => 1\n")
        try scratch.write("node_modules/left-pad/index.js", "module.exports = 1\n")
        try scratch.write("node_modules/.bin/left-pad", "#!/usr/bin/env node\n", mode: 0o755)
        let linked = try scratch.revision()
        let snapshot = try scratch.store.snapshot(of: scratch.code, function: "hello", linkingNodeModules: false)
        #expect(snapshot.revision != linked)
        let path = try #require(snapshot.path)
        #expect(linkMode(path + "/node_modules") & S_IFMT == S_IFDIR)
        #expect(
            Self.tree(path) == [
                "index.js": .file("exports.handler = async () => 1\n", executable: false),
                "node_modules/left-pad/index.js": .file("module.exports = 1\n", executable: false),
            ])
        try scratch.write("node_modules/left-pad/index.js", "module.exports = 2\n")
        #expect(Self.tree(path)["node_modules/left-pad/index.js"] == .file("module.exports = 1\n", executable: false))
    }

    @Test func aFIFOIsSkipped() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("app.py", "A = 1\n")
        let before = try scratch.revision()
        #expect(mkfifo(scratch.code + "/pipe", 0o644) == 0)
        #expect(mkfifo(scratch.code + "/lib-pipe", 0o644) == 0)
        #expect(linkMode(scratch.code + "/pipe") & S_IFMT == S_IFIFO)
        #expect(try scratch.revision() == before)
        let snapshot = try scratch.store.snapshot(of: scratch.code, function: "hello")
        #expect(snapshot.revision == before)
        #expect(Self.tree(snapshot.path ?? "") == ["app.py": .file("A = 1\n", executable: false)])
    }

    /// Sparse files: the limit is checked on the bytes read, without writing them to disk.
    @Test func codeLargerThanTheLimitIsRefused() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("app.py", "A = 1\n")
        let big = scratch.code + "/model.bin"
        try scratch.write("model.bin", "")
        #expect(truncate(big, off_t(CodeStore.maxCodeBytes - 6)) == 0)
        // Exactly the limit is allowed.
        #expect(try scratch.revision().count == 8)

        try scratch.write("more.py", "B")
        var error = #expect(throws: CodeStore.CodeError.self) { try scratch.revision() }
        #expect(error?.description.contains("\(CodeStore.maxCodeBytes / 1024 / 1024) MB") == true)
        #expect(error?.description.contains("250 MB") == true)
        error = #expect(throws: CodeStore.CodeError.self) {
            try scratch.store.snapshot(of: scratch.code, function: "hello")
        }
        #expect(error?.description.contains("250 MB") == true)
        // Nothing was written for it.
        #expect(!FileManager.default.fileExists(atPath: scratch.root))
    }

    @Test func theLimitIsOnTheTotalOfAllFiles() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let half = off_t(CodeStore.maxCodeBytes / 2 + 1)
        try scratch.write("a.bin", "")
        try scratch.write("lib/b.bin", "")
        #expect(truncate(scratch.code + "/a.bin", half) == 0)
        #expect(truncate(scratch.code + "/lib/b.bin", half) == 0)
        #expect(throws: CodeStore.CodeError.self) { try scratch.revision() }
        // node_modules is linked, so it does not count.
        try FileManager.default.moveItem(atPath: scratch.code + "/lib", toPath: scratch.code + "/node_modules")
        #expect(try scratch.revision().count == 8)
    }

    // MARK: Prune

    /// Makes `count` revisions of `function` (each with its own `version.py` and a shared `common.py`), oldest
    /// first, with modification times a minute apart.
    func revisions(_ count: Int, of function: String, in scratch: Scratch) throws -> [CodeStore.Snapshot] {
        try scratch.write("common.py", "COMMON = True\n")
        var result: [CodeStore.Snapshot] = []
        for index in 0..<count {
            try scratch.write("version.py", "VERSION = \(index)\n")
            let snapshot = try scratch.store.snapshot(of: scratch.code, function: function)
            try setModified(try #require(snapshot.path), secondsAgo: Double(60 * (count - index)))
            result.append(snapshot)
        }
        return result
    }

    @Test func pruneKeepsTheNewestAndTheKeptAndDeletesTheRest() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let snapshots = try revisions(5, of: "hello", in: scratch)
        #expect(Set(snapshots.map(\.revision)).count == 5)
        let paths = try snapshots.map { try #require($0.path) }
        let versionBlobs = try paths.map { try #require(blob(of: $0 + "/version.py", in: scratch)) }
        let commonBlob = try #require(blob(of: paths[0] + "/common.py", in: scratch))
        #expect(statOf(scratch.blobs + "/" + commonBlob)?.st_nlink == 6)
        #expect(scratch.blobNames() == Set(versionBlobs + [commonBlob]))

        scratch.store.prune(function: "hello", keeping: [snapshots[1].revision], newest: 2)

        let left = Set(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/hello"))
        #expect(left == [snapshots[1].revision, snapshots[3].revision, snapshots[4].revision])
        // The blobs only the deleted snapshots used are gone; the others are intact.
        #expect(scratch.blobNames() == [commonBlob, versionBlobs[1], versionBlobs[3], versionBlobs[4]])
        #expect(statOf(scratch.blobs + "/" + commonBlob)?.st_nlink == 4)
        #expect(statOf(scratch.blobs + "/" + versionBlobs[3])?.st_nlink == 2)
        #expect(Self.tree(paths[1])["version.py"] == .file("VERSION = 1\n", executable: false))
        #expect(Self.tree(paths[4])["common.py"] == .file("COMMON = True\n", executable: false))
    }

    @Test func pruneWithNothingBeyondNewestDeletesNothing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let snapshots = try revisions(3, of: "hello", in: scratch)
        let blobs = scratch.blobNames()
        scratch.store.prune(function: "hello", keeping: [], newest: 3)
        #expect(
            Set(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/hello"))
                == Set(snapshots.map(\.revision)))
        #expect(scratch.blobNames() == blobs)
        scratch.store.prune(function: "hello", keeping: Set(snapshots.map(\.revision)), newest: 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/hello").count == 3)
        #expect(scratch.blobNames() == blobs)
        // An unknown function is nothing to prune.
        scratch.store.prune(function: "absent", keeping: [], newest: 0)
        #expect(scratch.blobNames() == blobs)
    }

    @Test func aSnapshotMadeAgainIsTheNewestForPruning() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let snapshots = try revisions(3, of: "hello", in: scratch)
        // Back to the first version: the same revision, reused, and now the newest.
        try scratch.write("version.py", "VERSION = 0\n")
        let again = try scratch.store.snapshot(of: scratch.code, function: "hello")
        #expect(again.revision == snapshots[0].revision)
        scratch.store.prune(function: "hello", keeping: [], newest: 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/hello") == [again.revision])
        #expect(scratch.blobNames().count == 2)
    }

    @Test func pruneKeepsBlobsAnotherFunctionStillUses() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hello = try revisions(2, of: "hello", in: scratch)
        // `other` is the same code as hello's newest revision, so it links the same blobs.
        let other = try scratch.store.snapshot(of: scratch.code, function: "other")
        #expect(other.revision == hello[1].revision)
        let otherPath = try #require(other.path)
        let oldPath = try #require(hello[0].path)
        let oldVersion = try #require(blob(of: oldPath + "/version.py", in: scratch))

        scratch.store.prune(function: "hello", keeping: [], newest: 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/hello") == [])
        #expect(!scratch.blobNames().contains(oldVersion))
        #expect(scratch.blobNames().count == 2)
        #expect(
            Self.tree(otherPath) == [
                "common.py": .file("COMMON = True\n", executable: false),
                "version.py": .file("VERSION = 1\n", executable: false),
            ])
        #expect(statOf(otherPath + "/version.py")?.st_nlink == 2)
    }
}

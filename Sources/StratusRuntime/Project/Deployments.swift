import Foundation
import StratusCore

/// Functions put on a running host with `stratus deploy`, each with the revisions it has had, kept in the
/// state directory so that they and their live revision survive restarts: `deployed/<name>.json` says which
/// revision is live and lists the kept ones; their code is in `CodeStore`'s snapshots. A deploy and a
/// rollback change only this record and the snapshots; the host makes the result live (`StratusHost.deploy`).
package struct Deployments: Sendable {
    /// One revision of a deployed function.
    package struct Version: Sendable, Codable, Equatable {
        package var revision: String
        /// Epoch milliseconds of the deploy (or rollback) that made it.
        package var timeMs: Int64
        /// Where it came from: the directory `stratus deploy` uploaded (or what another client said).
        package var source: String
    }

    struct Record: Codable {
        var live: String
        /// Oldest first.
        var versions: [Version]
    }

    package enum DeployError: Error, Sendable, CustomStringConvertible {
        case invalidArchive(String)
        case invalidFunction([ManifestError])
        case notDeployed(String)
        case unknownRevision(function: String, revision: String, known: [String])
        case storage(String)

        package var description: String {
            switch self {
            case .invalidArchive(let reason): "the archive is refused: \(reason)"
            case .invalidFunction(let errors): errors.map(\.description).joined(separator: "\n")
            case .notDeployed(let name):
                "no function named '\(name.prefix(100))' was deployed (functions/ directories have no revisions to roll back to)"
            case .unknownRevision(let function, let revision, let known):
                "\(function) has no revision '\(revision.prefix(64))'; kept: \(known.joined(separator: ", "))"
            case .storage(let reason): "the state directory could not be written: \(reason)"
            }
        }
    }

    /// Revisions kept per function (the live one always is).
    package static let keptVersions = 10

    package let code: CodeStore
    private let records: String
    /// Installs a revision's `requirements.txt` and finds its layers before it becomes live.
    private let dependencies: Dependencies?

    package init(stateDirectory: String, dependencies: Dependencies? = nil) {
        code = CodeStore(root: stateDirectory + "/code")
        records = stateDirectory + "/deployed"
        self.dependencies = dependencies
    }

    /// Names of the deployed functions.
    package func names() -> Set<String> {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: records)) ?? []
        return Set(
            files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.filter(FunctionConfig.isValidName))
    }

    /// Every deployed function at its live revision; a function whose record or code cannot be read is reported.
    package func load() -> (functions: [DeployedFunction], errors: [String]) {
        var functions: [DeployedFunction] = []
        var errors: [String] = []
        for name in names().sorted() {
            do {
                guard let record = try record(of: name) else { continue }
                functions.append(try function(name, at: record.live))
            } catch {
                errors.append("deployed function \(name): \(error)")
            }
        }
        return (functions, errors)
    }

    /// The function's revisions, oldest first, and which one is live.
    package func versions(of name: String) throws(DeployError) -> (live: String, versions: [Version]) {
        guard let record = try? record(of: name) else { throw .notDeployed(name) }
        return (record.live, record.versions)
    }

    /// Unpacks `archive` (a tar of the function's directory), checks it as a load does, keeps it as a new
    /// revision and records it as live. Returns the function at that revision and the one it replaces.
    package func deploy(_ name: String, archive: [UInt8], source: String) throws(DeployError) -> (
        function: DeployedFunction, previous: String?
    ) {
        let entries: [TarArchive.Entry]
        do {
            entries = try TarArchive.read(archive)
        } catch {
            throw .invalidArchive(error.description)
        }
        let staging = "\(code.root)/.incoming-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try unpack(entries, into: staging)
        do {
            _ = try ProjectLoader.checkFunction(named: name, at: staging, shownPath: "function.yaml")
        } catch {
            throw .invalidFunction([error])
        }
        let snapshot: CodeStore.Snapshot
        do {
            snapshot = try code.snapshot(of: staging, function: name, linkingNodeModules: false)
        } catch {
            throw .invalidArchive("\(error)")
        }
        let function = try function(name, at: snapshot.revision)  // its requirements installed before it is recorded
        var record = (try? self.record(of: name)) ?? Record(live: snapshot.revision, versions: [])
        let previous = record.versions.isEmpty ? nil : record.live
        record.live = snapshot.revision
        record.versions.removeAll { $0.revision == snapshot.revision }
        record.versions.append(Version(revision: snapshot.revision, timeMs: Self.nowMs, source: source))
        try save(record, of: name)
        return (function, previous)
    }

    /// Makes an earlier revision live again: `revision`, or the one deployed before the live one. The list of
    /// revisions stays as deployed; only which one is live changes.
    package func rollback(_ name: String, to revision: String?) throws(DeployError) -> (
        function: DeployedFunction, previous: String
    ) {
        guard var record = try? record(of: name) else { throw .notDeployed(name) }
        let known = record.versions.map(\.revision)
        let target: String
        if let revision {
            guard let match = known.first(where: { $0 == revision || (revision.count >= 4 && $0.hasPrefix(revision)) })
            else {
                throw .unknownRevision(function: name, revision: revision, known: known)
            }
            target = match
        } else {
            guard let index = known.firstIndex(of: record.live), index > 0 else {
                throw .unknownRevision(function: name, revision: "before \(record.live)", known: known)
            }
            target = known[index - 1]
        }
        let previous = record.live
        let function = try function(name, at: target)
        record.live = target
        try save(record, of: name)
        return (function, previous)
    }

    // MARK: Internals

    private static var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private func record(of name: String) throws -> Record? {
        guard FunctionConfig.isValidName(name),
            let data = FileManager.default.contents(atPath: "\(records)/\(name).json")
        else { return nil }
        return try JSONDecoder().decode(Record.self, from: data)
    }

    /// Writes the record (a new file renamed over the old one) and prunes revisions beyond `keptVersions`.
    private func save(_ record: Record, of name: String) throws(DeployError) {
        var record = record
        while record.versions.count > Self.keptVersions, let oldest = record.versions.first,
            oldest.revision != record.live
        {
            record.versions.removeFirst()
        }
        do {
            try FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
            let path = "\(records)/\(name).json"
            try JSONEncoder().encode(record).write(to: URL(fileURLWithPath: path + ".tmp"))
            guard rename(path + ".tmp", path) == 0 else {
                throw CodeStore.CodeError(description: "cannot write \(path)")
            }
        } catch {
            throw .storage("\(error)")
        }
        code.prune(function: name, keeping: Set(record.versions.map(\.revision)), newest: 0)
    }

    private func function(_ name: String, at revision: String) throws(DeployError) -> DeployedFunction {
        let directory = "\(code.root)/\(name)/\(revision)"
        guard FileManager.default.fileExists(atPath: directory) else {
            throw .storage("the code of \(name) revision \(revision) is missing from \(code.root)")
        }
        do {
            let config = try ProjectLoader.checkFunction(named: name, at: directory, shownPath: "function.yaml")
            let function = DeployedFunction(config: config, directory: directory, revision: revision)
            guard let dependencies else { return function }
            return try dependencies.resolve(function, shownDirectory: "\(name) rev \(revision)")
        } catch {
            throw .invalidFunction([error])
        }
    }

    /// Writes the entries under `root`: directories and files first, then the links, each of which must resolve
    /// inside `root` (a chain of links could otherwise reach out of it).
    private func unpack(_ entries: [TarArchive.Entry], into root: String) throws(DeployError) {
        let manager = FileManager.default
        // Nothing is written through a link: an entry under a path the archive makes a link is refused (links
        // each harmless alone can chain to a place outside the upload).
        let links = Set(
            entries.compactMap { entry -> String? in
                if case .symlink = entry.kind { return entry.path } else { return nil }
            })
        for entry in entries {
            var parent = entry.path.split(separator: "/").dropLast()
            while !parent.isEmpty {
                if links.contains(parent.joined(separator: "/")) {
                    throw .invalidArchive(
                        "\(entry.path): its directory \(parent.joined(separator: "/")) is a symbolic link")
                }
                parent = parent.dropLast()
            }
        }
        do {
            try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
            var total = 0
            for entry in entries {
                let path = root + "/" + entry.path
                switch entry.kind {
                case .directory:
                    try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
                case .file(let data, let executable):
                    total += data.count
                    guard total <= CodeStore.maxCodeBytes else {
                        throw DeployError.invalidArchive(
                            "the code is larger than \(CodeStore.maxCodeBytes / 1024 / 1024) MB, Lambda's limit for unzipped code"
                        )
                    }
                    try manager.createDirectory(
                        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    var isDirectory: ObjCBool = false
                    if manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                        throw DeployError.invalidArchive("\(entry.path) is both a directory and a file")
                    }
                    guard
                        manager.createFile(
                            atPath: path, contents: data, attributes: [.posixPermissions: executable ? 0o755 : 0o644])
                    else {
                        throw DeployError.invalidArchive("\(entry.path) cannot be written where the archive puts it")
                    }
                case .symlink:
                    continue
                }
            }
            let realRoot = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
            for entry in entries {
                guard case .symlink(let target) = entry.kind else { continue }
                let path = root + "/" + entry.path
                try manager.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                guard symlink(target, path) == 0 else {
                    throw DeployError.invalidArchive(
                        "\(entry.path): cannot create the link (\(String(cString: strerror(errno))))")
                }
            }
            for entry in entries {
                guard case .symlink(let target) = entry.kind else { continue }
                guard let resolved = realpath(root + "/" + entry.path, nil) else {
                    throw DeployError.invalidArchive("\(entry.path): the link to \(target.prefix(200)) leads nowhere")
                }
                defer { free(resolved) }
                let real = String(cString: resolved)
                guard real == realRoot || real.hasPrefix(realRoot + "/") else {
                    throw DeployError.invalidArchive(
                        "\(entry.path): the link to \(target.prefix(200)) points out of the function")
                }
            }
        } catch let error as DeployError {
            throw error
        } catch let error as CocoaError where error.code == .fileWriteFileExists || error.code == .fileWriteUnknown {
            // Two entries claim one path (a file and a directory of the same name).
            throw .invalidArchive("two entries claim the same path (a file and a directory, or a file twice)")
        } catch {
            throw .storage("the upload could not be unpacked (\((error as NSError).code))")
        }
    }
}

import Crypto
import Foundation
import StratusCore

/// Snapshots of function code in the state directory, so that a revision names exactly the code its workers
/// run: an edit saved while a worker of the previous revision starts cannot leak into it, and an earlier
/// revision can be made live again.
///
/// A function directory is read once per load: each file's SHA-256 names a blob (`code/blobs/<sha>[x]`, `x`
/// for executables, written once), and the snapshot `code/<function>/<revision>/` is made of hard links to the
/// blobs, so unchanged files cost nothing from one revision to the next. The revision is the first 8 hex
/// digits of the hash of the (path, blob) list. Hidden files, editor backups (`file~`) and `__pycache__` are
/// not code; `node_modules` is linked, not copied (installing packages is not an edit of the function).
/// Like Lambda's `/var/task`, a snapshot is the function's code, not a place to write.
package struct CodeStore: Sendable {
    /// Lambda's limit on a function's unzipped code.
    package static let maxCodeBytes = 250 * 1024 * 1024

    package struct CodeError: Error, CustomStringConvertible, Sendable {
        package var description: String
    }

    /// A function directory as read: its files, its revision.
    package struct Snapshot: Sendable {
        package var revision: String
        /// Where the snapshot lives (`nil` until it is written).
        package var path: String?
    }

    /// `<state>/code`.
    package let root: String

    package init(root: String) {
        self.root = root
    }

    /// The revision of `directory`'s code, without writing anything (`stratus validate`, hosts without a store).
    package static func revision(of directory: String) throws -> String {
        try read(directory).revision
    }

    /// Reads `directory` and makes its snapshot for `function` (nothing is written when that revision exists).
    /// With `linkingNodeModules` false (an upload, whose directory goes away), `node_modules` is copied too.
    package func snapshot(of directory: String, function: String, linkingNodeModules: Bool = true) throws -> Snapshot {
        let code = try Self.read(directory, linkingNodeModules: linkingNodeModules)
        let target = "\(root)/\(function)/\(code.revision)"
        let manager = FileManager.default
        if manager.fileExists(atPath: target) {
            utimes(target, nil)  // the newest again: pruning goes by age
            return Snapshot(revision: code.revision, path: target)
        }
        let blobs = root + "/blobs"
        try manager.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        let staging = "\(root)/\(function)/.staging-\(code.revision)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        do {
            for file in code.files {
                let destination = staging + "/" + file.path
                try manager.createDirectory(
                    atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                switch file.content {
                case .link(let target):
                    try manager.createSymbolicLink(atPath: destination, withDestinationPath: target)
                case .bytes(let data, let digest, let executable):
                    let blob = "\(blobs)/\(digest)\(executable ? "x" : "")"
                    if !manager.fileExists(atPath: blob) {
                        let temporary = "\(blob).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
                        guard manager.createFile(atPath: temporary, contents: data) else {
                            throw CodeError(description: "cannot write \(temporary)")
                        }
                        chmod(temporary, executable ? 0o555 : 0o444)
                        guard rename(temporary, blob) == 0 else { throw CodeError(description: "cannot write \(blob)") }
                    }
                    if link(blob, destination) != 0 {
                        // A blob shared by very many snapshots reaches the file system's link limit: copy it.
                        guard errno == EMLINK, manager.createFile(atPath: destination, contents: data) else {
                            throw CodeError(
                                description: "cannot link \(destination): \(String(cString: strerror(errno)))")
                        }
                        chmod(destination, executable ? 0o555 : 0o444)
                    }
                }
            }
            if rename(staging, target) != 0 {
                // Another load made the same revision meanwhile: its snapshot is identical.
                try? manager.removeItem(atPath: staging)
                guard manager.fileExists(atPath: target) else {
                    throw CodeError(description: "cannot create \(target): \(String(cString: strerror(errno)))")
                }
            }
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
        return Snapshot(revision: code.revision, path: target)
    }

    /// Deletes `function`'s snapshots beyond the `newest` most recent, except those in `keeping`, then the
    /// blobs no snapshot links to any more.
    package func prune(function: String, keeping: Set<String>, newest: Int) {
        let manager = FileManager.default
        let directory = "\(root)/\(function)"
        let names = ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }
        func modified(_ name: String) -> Date {
            ((try? manager.attributesOfItem(atPath: directory + "/" + name))?[.modificationDate] as? Date)
                ?? .distantPast
        }
        let byAge = names.map { ($0, modified($0)) }.sorted { $0.1 > $1.1 }.map(\.0)
        var removed = false
        for name in byAge.dropFirst(newest) where !keeping.contains(name) {
            try? manager.removeItem(atPath: directory + "/" + name)
            removed = true
        }
        guard removed else { return }
        let blobs = root + "/blobs"
        for blob in (try? manager.contentsOfDirectory(atPath: blobs)) ?? [] {
            var info = stat()
            if stat(blobs + "/" + blob, &info) == 0, info.st_nlink == 1 { unlink(blobs + "/" + blob) }
        }
    }

    /// `directory`'s code as `stratus deploy` uploads it: what a snapshot would hold, `node_modules` included.
    package static func archive(of directory: String) throws -> [UInt8] {
        let code = try read(directory, linkingNodeModules: false)
        return TarArchive.write(
            code.files.map { file in
                switch file.content {
                case .bytes(let data, _, let executable):
                    TarArchive.Entry(path: file.path, kind: .file(data, executable: executable))
                case .link(let target): TarArchive.Entry(path: file.path, kind: .symlink(target))
                }
            })
    }

    // MARK: Reading a directory

    private struct File {
        enum Content {
            case bytes(Data, digest: String, executable: Bool)
            /// A symbolic link kept as one (to `node_modules`, or to a directory), with its absolute target.
            case link(String)
        }
        var path: String
        var content: Content
    }

    private static func isCode(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.hasSuffix("~") && name != "__pycache__"
    }

    private static func read(_ directory: String, linkingNodeModules: Bool = true) throws -> (
        revision: String, files: [File]
    ) {
        let manager = FileManager.default
        let base = URL(fileURLWithPath: directory).standardizedFileURL.path
        var files: [File] = []
        var total = 0
        func walk(_ relative: String) throws {
            let absolute = relative.isEmpty ? base : base + "/" + relative
            for name in try manager.contentsOfDirectory(atPath: absolute).sorted() where isCode(name) {
                let path = relative.isEmpty ? name : relative + "/" + name
                let full = base + "/" + path
                var info = stat()
                guard lstat(full, &info) == 0 else { continue }
                let kind = info.st_mode & S_IFMT
                if name == "node_modules", linkingNodeModules {
                    files.append(File(path: path, content: .link(full)))
                    continue
                }
                if kind == S_IFLNK {
                    // A link to a file is read as that file; a link to a directory stays a link: relative when
                    // it points inside the directory (so that the snapshot's points inside the snapshot).
                    var target = stat()
                    guard stat(full, &target) == 0 else { continue }
                    if target.st_mode & S_IFMT == S_IFDIR {
                        let resolved = URL(fileURLWithPath: full).resolvingSymlinksInPath().path
                        let root = URL(fileURLWithPath: base).resolvingSymlinksInPath().path
                        let up = String(repeating: "../", count: path.split(separator: "/").count - 1)
                        if resolved.hasPrefix(root + "/") {
                            files.append(File(path: path, content: .link(up + resolved.dropFirst(root.count + 1))))
                        } else if resolved == root {
                            files.append(File(path: path, content: .link(up.isEmpty ? "." : up)))
                        } else {
                            files.append(File(path: path, content: .link(resolved)))
                        }
                        continue
                    }
                    info = target
                } else if kind == S_IFDIR {
                    try walk(path)
                    continue
                }
                guard info.st_mode & S_IFMT == S_IFREG else { continue }  // devices, sockets, FIFOs are not code
                guard let data = manager.contents(atPath: full) else {
                    throw CodeError(description: "cannot read \(full)")
                }
                total += data.count
                guard total <= maxCodeBytes else {
                    throw CodeError(
                        description:
                            "the code is larger than \(maxCodeBytes / 1024 / 1024) MB, Lambda's limit for unzipped code"
                    )
                }
                let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
                files.append(
                    File(path: path, content: .bytes(data, digest: digest, executable: info.st_mode & 0o111 != 0)))
            }
        }
        try walk("")
        var hasher = SHA256()
        for file in files {
            hasher.update(data: Data(file.path.utf8))
            switch file.content {
            case .bytes(_, let digest, let executable):
                hasher.update(data: Data("\0\(digest)\(executable ? "x" : "")\n".utf8))
            case .link(let target):
                // node_modules is linked to wherever the project is: where it is is not part of the code.
                let shown =
                    file.path.hasSuffix("node_modules") && target.hasSuffix("/node_modules") ? "node_modules" : target
                hasher.update(data: Data("\0link:\(shown)\n".utf8))
            }
        }
        let revision = hasher.finalize().prefix(4).map { String(format: "%02x", $0) }.joined()
        return (revision, files)
    }
}

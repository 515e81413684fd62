import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Tells when files under a project's `functions/` and `triggers/` change (`stratus serve --watch`): inotify on
/// Linux, costing nothing while nothing changes; a scan once a second where inotify is not available. A burst
/// of writes (an editor's save, a `git checkout`) is reported once, after it has been quiet for a moment.
package final class ProjectWatcher: Sendable {
    private let root: String
    /// Counts raw changes; the debouncer waits until it stops moving.
    private let changes = Atomic<Int>(0)

    /// Directories never watched: they change without the code changing (bytecode, installed packages, VCS).
    static let ignoredDirectories: Set<String> = ["__pycache__", "node_modules", ".git"]

    package init(directory: String) {
        root = URL(fileURLWithPath: directory).standardizedFileURL.path
    }

    /// Calls `onChange` after each burst of changes, once no change came for `quiet` (or after `longest` of
    /// continuous changes), until the calling task is cancelled.
    package func run(
        quiet: Duration = .milliseconds(60), longest: Duration = .seconds(1), onChange: @Sendable () async -> Void
    ) async {
        let (bursts, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let stop = watch { [self] in
            changes.add(1, ordering: .relaxed)
            signal.yield()
        }
        defer { stop() }
        var handled = -1
        for await _ in bursts {
            // A signal queued while the last burst was being gathered is part of that burst.
            if changes.load(ordering: .relaxed) == handled { continue }
            let start = ContinuousClock.now
            while ContinuousClock.now - start < longest {
                let seen = changes.load(ordering: .relaxed)
                do { try await Task.sleep(for: quiet) } catch { return }
                if changes.load(ordering: .relaxed) == seen { break }
            }
            handled = changes.load(ordering: .relaxed)
            await onChange()
        }
    }

    /// Starts watching; `changed` is called on a background thread for every relevant change. Returns the
    /// function that stops it.
    private func watch(_ changed: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        #if os(Linux)
            if let inotify = InotifyWatch(root: root, changed: changed) { return inotify.stop }
        #endif
        return scan(changed)
    }

    /// The fallback: compares the files' names, sizes and modification times once a second.
    private func scan(_ changed: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let root = root
        let task = Task.detached {
            var last = Self.fingerprint(root)
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let now = Self.fingerprint(root)
                if now != last {
                    last = now
                    changed()
                }
            }
        }
        return { task.cancel() }
    }

    static func fingerprint(_ root: String) -> [String: Date] {
        var result: [String: Date] = [:]
        for top in ["functions", "triggers"] {
            let base = URL(fileURLWithPath: root).appendingPathComponent(top)
            let files = FileManager.default.enumerator(
                at: base, includingPropertiesForKeys: [.contentModificationDateKey, .fileSizeKey])
            while let url = files?.nextObject() as? URL {
                if ignoredDirectories.contains(url.lastPathComponent) {
                    files?.skipDescendants()
                    continue
                }
                let values = try? url.resourceValues(forKeys: [.contentModificationDateKey, .fileSizeKey])
                let size = Double(values?.fileSize ?? 0)
                result[url.path] = (values?.contentModificationDate ?? .distantPast).addingTimeInterval(size / 1e9)
            }
        }
        return result
    }
}

#if os(Linux)
    /// inotify watches on the project directory, `functions/` (recursively, new directories included) and
    /// `triggers/`, read by one thread that sleeps in `poll` until something changes or `stop` is called.
    private final class InotifyWatch: Sendable {
        private let descriptor: Int32
        private let wakeup: (read: Int32, write: Int32)

        private static let mask =
            UInt32(IN_CLOSE_WRITE) | UInt32(IN_MODIFY) | UInt32(IN_CREATE) | UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM)
            | UInt32(IN_MOVED_TO) | UInt32(IN_ATTRIB) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)

        init?(root: String, changed: @escaping @Sendable () -> Void) {
            let descriptor = inotify_init1(Int32(IN_CLOEXEC))
            guard descriptor >= 0 else { return nil }
            var pipe: [Int32] = [0, 0]
            guard Glibc.pipe(&pipe) == 0 else {
                close(descriptor)
                return nil
            }
            _ = fcntl(pipe[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(pipe[1], F_SETFD, FD_CLOEXEC)
            self.descriptor = descriptor
            wakeup = (pipe[0], pipe[1])
            let thread = Thread { [descriptor, wakeup] in
                Self.loop(descriptor: descriptor, wakeup: wakeup.read, root: root, changed: changed)
                close(descriptor)
                close(wakeup.read)
            }
            thread.name = "stratus-watch"
            thread.start()
        }

        /// Wakes the thread, which closes the descriptors and ends.
        func stop() {
            var byte: UInt8 = 1
            _ = write(wakeup.write, &byte, 1)
            close(wakeup.write)
        }

        private static func loop(descriptor: Int32, wakeup: Int32, root: String, changed: @Sendable () -> Void) {
            var paths: [Int32: String] = [:]
            func add(_ path: String, recursive: Bool) {
                let wd = inotify_add_watch(descriptor, path, mask | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW))
                guard wd >= 0 else { return }
                paths[wd] = path
                guard recursive, let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
                for name in names where !ProjectWatcher.ignoredDirectories.contains(name) && !name.hasPrefix(".") {
                    var isDirectory: ObjCBool = false
                    let child = path + "/" + name
                    if FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory), isDirectory.boolValue {
                        add(child, recursive: true)
                    }
                }
            }
            add(root, recursive: false)
            add(root + "/functions", recursive: true)
            add(root + "/triggers", recursive: false)

            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var fds = [
                pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0),
            ]
            while true {
                fds[0].revents = 0
                fds[1].revents = 0
                guard poll(&fds, 2, -1) >= 0 || errno == EINTR else { return }
                if fds[1].revents != 0 { return }
                guard fds[0].revents != 0 else { continue }
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { continue }
                var relevant = false
                var offset = 0
                while offset + 16 <= count {
                    let (wd, eventMask, length) = buffer.withUnsafeBytes { bytes in
                        (
                            bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                            bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                            Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                        )
                    }
                    let nameBytes = buffer[(offset + 16)..<min(count, offset + 16 + length)].prefix { $0 != 0 }
                    let name = String(decoding: nameBytes, as: UTF8.self)
                    offset += 16 + length
                    if eventMask & UInt32(IN_Q_OVERFLOW) != 0 {
                        // Events were lost (a large checkout): watch every directory again and reload.
                        add(root + "/functions", recursive: true)
                        add(root + "/triggers", recursive: false)
                        relevant = true
                        continue
                    }
                    if eventMask & UInt32(IN_IGNORED) != 0 {
                        paths[wd] = nil
                        continue
                    }
                    guard let directory = paths[wd] else { continue }
                    if directory == root {
                        // Only `functions/` and `triggers/` themselves matter at the top.
                        guard name == "functions" || name == "triggers" else { continue }
                        if eventMask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 {
                            add(root + "/" + name, recursive: name == "functions")
                        }
                        relevant = true
                        continue
                    }
                    // Hidden files (an editor's swap file) and bytecode are not code: they change nothing.
                    if ProjectWatcher.ignoredDirectories.contains(name) || name.hasPrefix(".") { continue }
                    if eventMask & UInt32(IN_ISDIR) != 0, eventMask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0,
                        directory.hasPrefix(root + "/functions")
                    {
                        add(directory + "/" + name, recursive: true)
                    }
                    relevant = true
                }
                if relevant { changed() }
            }
        }
    }
#endif

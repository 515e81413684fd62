import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Collects what a worker prints, so each invocation's record holds the lines printed while it ran.
///
/// Reads happen under the lock, both when the pipe becomes readable and from `take()`, so `take()` after
/// the runtime posted its response sees everything the runtime wrote before posting.
package final class OutputCapture: Sendable {
    /// Output kept per invocation; the rest is cut with a note.
    package static let limit = 256 * 1024

    private struct State {
        var buffer: [UInt8] = []
        var truncated = false
        var closed = false
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
    }

    private let descriptor: Int32
    private let state = Mutex(State())
    private let watch: PipeWatcher.Token

    /// Takes ownership of `descriptor` (the read end of the worker's stdout/stderr pipe); it is closed at EOF
    /// or on `cancel()`.
    package init(descriptor: Int32) {
        self.descriptor = descriptor
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        watch = PipeWatcher.shared.token()
        PipeWatcher.shared.watch(descriptor, token: watch, self)
    }

    /// Reads whatever is in the pipe now; returns `false` once the pipe is closed.
    @discardableResult
    package func drain() -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            while true {
                let count = state.scratch.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    if state.buffer.count < Self.limit {
                        state.buffer.append(contentsOf: state.scratch[0..<min(count, Self.limit - state.buffer.count)])
                    } else {
                        state.truncated = true
                    }
                } else if count < 0 && errno == EINTR {
                    continue
                } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    return true  // nothing more for now
                } else {
                    closeLocked(&state)  // EOF (or an error that ends the pipe)
                    return false
                }
            }
        }
    }

    /// Everything printed since the last call.
    package func take() -> String {
        drain()
        let (bytes, truncated) = state.withLock { state in
            defer {
                state.buffer.removeAll(keepingCapacity: true)
                state.truncated = false
            }
            return (state.buffer, state.truncated)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return truncated ? text + "\n[stratus: output truncated at \(Self.limit / 1024) KB]\n" : text
    }

    package func cancel() {
        state.withLock { state in closeLocked(&state) }
    }

    /// Stops watching and closes the descriptor, under the lock: no read can run on a closed (or reused) number.
    private func closeLocked(_ state: inout State) {
        guard !state.closed else { return }
        state.closed = true
        PipeWatcher.shared.unwatch(descriptor, token: watch)
        close(descriptor)
    }
}

/// One thread that waits, with `poll`, for every capture's pipe to become readable, and drains it.
///
/// libdispatch read sources did this before; on Linux they can crash the process when many are set up and
/// torn down concurrently (a freed epoll muxnote, swift-corelibs-libdispatch#949), which workers starting
/// and exiting do all the time. The set of pipes is read afresh on every wake-up (a byte on the watcher's
/// own pipe says it changed), and registrations are keyed by a token, never by descriptor, so a pipe just
/// closed (and its number already reused) reaches nobody. Waiting costs nothing: the thread sleeps in
/// `poll` without a timeout.
final class PipeWatcher: Sendable {
    struct Token: Sendable, Hashable {
        fileprivate var value: UInt64
    }

    static let shared = PipeWatcher()

    private let watched = Mutex<[UInt64: (descriptor: Int32, capture: OutputCapture)]>([:])
    private let nextToken = Atomic<UInt64>(1)
    /// Written to when the set changes, so that `poll` returns and the next one watches the new set.
    private let wakeRead: Int32
    private let wakeWrite: Int32

    private init() {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        (wakeRead, wakeWrite) = (fds[0], fds[1])
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        let thread = Thread { [self] in run() }
        thread.name = "stratus-output"
        thread.start()
    }

    func token() -> Token {
        Token(value: nextToken.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    func watch(_ descriptor: Int32, token: Token, _ capture: OutputCapture) {
        watched.withLock { $0[token.value] = (descriptor, capture) }
        wake()
    }

    func unwatch(_ descriptor: Int32, token: Token) {
        _ = watched.withLock { $0.removeValue(forKey: token.value) }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)  // a full pipe already holds a wake-up
    }

    private func run() {
        var scratch = [UInt8](repeating: 0, count: 256)
        while true {
            let current = watched.withLock { Array($0) }
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            for entry in current {
                fds.append(pollfd(fd: entry.value.descriptor, events: Int16(POLLIN), revents: 0))
            }
            let count = poll(&fds, nfds_t(fds.count), -1)
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[0].revents != 0 { while read(wakeRead, &scratch, scratch.count) > 0 {} }
            for (index, entry) in current.enumerated() where fds[index + 1].revents != 0 {
                // Still watched: not closed (and its number not reused) since this set was read.
                if watched.withLock({ $0[entry.key] != nil }) { entry.value.capture.drain() }
            }
        }
    }
}

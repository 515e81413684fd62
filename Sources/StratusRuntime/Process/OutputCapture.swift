@preconcurrency import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Collects what a worker prints, so each invocation's record holds the lines printed while it ran.
///
/// Reads happen under the lock, both from the dispatch source and from `take()`, so `take()` after the
/// runtime posted its response sees everything the runtime wrote before posting.
package final class OutputCapture: Sendable {
    /// Output kept per invocation; the rest is cut with a note.
    package static let limit = 256 * 1024

    private struct State {
        var buffer: [UInt8] = []
        var truncated = false
        var closed = false
        var source: (any DispatchSourceRead)?
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
    }

    private let descriptor: Int32
    private let state = Mutex(State())

    package init(descriptor: Int32, queue: DispatchQueue) {
        self.descriptor = descriptor
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setCancelHandler { close(descriptor) }
        state.withLock { $0.source = source }
        source.setEventHandler { [weak self] in self?.drain() }
        source.resume()
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
                } else if count == 0 {
                    state.closed = true
                    state.source?.cancel()
                    return false
                } else {
                    return true  // EAGAIN: nothing more for now
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
        state.withLock { state in
            if !state.closed {
                state.closed = true
                state.source?.cancel()
            }
        }
    }
}

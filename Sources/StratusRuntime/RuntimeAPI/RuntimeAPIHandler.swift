import NIOCore
import NIOHTTP1
import StratusCore

#if canImport(Glibc)
    import Glibc
#endif

/// What the Runtime API answers a runtime.
package struct RuntimeAPIResponse: Sendable {
    package var status: HTTPResponseStatus
    package var headers: HTTPHeaders = [:]
    package var body: ByteBuffer

    package static func accepted() -> RuntimeAPIResponse {
        RuntimeAPIResponse(status: .accepted, body: ByteBuffer(string: #"{"status":"OK"}"#))
    }

    package static func error(_ status: HTTPResponseStatus, type: String, message: String) -> RuntimeAPIResponse {
        RuntimeAPIResponse(status: status, body: ByteBuffer(bytes: LambdaPayloads.error(type: type, message: message)))
    }
}

/// Serves the AWS Lambda Runtime API (2018-06-01) for one worker, on its own loopback port.
///
/// Bodies are bounded (Lambda's 6 MB response limit; what goes beyond is dropped as it arrives and the
/// request answered 413), a second `/next` while one is parked is refused, and requests a browser sends
/// on a page's behalf (with `Origin` or `Sec-Fetch-Site`) are refused: runtimes never send those.
final class RuntimeAPIHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private static let prefix = "/2018-06-01/runtime/"
    private let worker: Worker
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var oversized = false
    /// An invocation's `202` written and not yet flushed. When the runtime sent its next `/next` right behind
    /// the response (Stratus's bootstraps do) and that `/next` waits for work, the `202` goes out with the next
    /// invocation, in one write and one wake-up of the runtime; otherwise it is flushed when the read ends.
    private var unflushed = false
    /// A `/next` of this read is parked behind the unflushed `202`.
    private var holding = false

    init(worker: Worker) {
        self.worker = worker
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
            oversized = false
        case .body(var chunk):
            guard !oversized else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > Limits.responseBytes {
                oversized = true
                body = nil
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            route(context: context, head: head, body: body ?? ByteBuffer())
            body = nil
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if unflushed && !holding {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        worker.connectionClosed(ObjectIdentifier(self))
        context.fireChannelInactive()
    }

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if head.headers.contains(name: "Origin") || head.headers.contains(name: "Sec-Fetch-Site") {
            write(
                context, .error(.forbidden, type: "Forbidden", message: "browser requests are refused"),
                keepAlive: false)
            return
        }
        if oversized {
            oversized = false
            let parts = path.dropFirst(Self.prefix.count).split(separator: "/")
            if path.hasPrefix(Self.prefix), parts.count == 3, parts.first == "invocation" {
                worker.responseTooLarge(id: String(parts[1]))
            }
            let message = "Response payload size exceeded maximum allowed payload size (\(Limits.responseBytes) bytes)."
            write(
                context, .error(.payloadTooLarge, type: "Function.ResponseSizeTooLarge", message: message),
                keepAlive: head.isKeepAlive)
            return
        }
        guard path.hasPrefix(Self.prefix) else {
            write(
                context, .error(.notFound, type: "NotFound", message: "unknown path \(path)"),
                keepAlive: head.isKeepAlive)
            return
        }
        let parts = path.dropFirst(Self.prefix.count).split(separator: "/")
        let errorType = head.headers.first(name: "Lambda-Runtime-Function-Error-Type")
        switch (head.method, parts.count, parts.first, parts.last) {
        case (.GET, 2, "invocation", "next"):
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let keepAlive = head.isKeepAlive
            let worker = worker
            defer { holding = unflushed && keepAlive }
            worker.nextInvocation(connection: ObjectIdentifier(self)) { response in
                bound.eventLoop.execute {
                    let (handler, context) = bound.value
                    guard let id = response.headers.first(name: "Lambda-Runtime-Aws-Request-Id") else {
                        handler.write(context, response, keepAlive: keepAlive)
                        return
                    }
                    Self.peerHasClosed(context.channel).whenComplete { closed in
                        let (handler, context) = bound.value
                        // The runtime's process died while its /next waited, and the host has not read the end of
                        // the connection yet: a write would still succeed, but nobody reads it. The invocation
                        // stays undelivered and goes to another worker when this one's exit is seen.
                        if (try? closed.get()) == true {
                            worker.delivery(id: id, written: false)
                            context.close(promise: nil)
                            return
                        }
                        let written = handler.write(context, response, keepAlive: keepAlive)
                        // The runtime went away while its /next was being answered: it never got the invocation.
                        written.whenComplete { worker.delivery(id: id, written: (try? $0.get()) != nil) }
                    }
                }
            }
        case (.POST, 3, "invocation", "response"):
            let response = worker.invocationResponse(id: String(parts[1]), body: body)
            write(context, response, keepAlive: head.isKeepAlive, flush: response.status != .accepted)
        case (.POST, 3, "invocation", "error"):
            let response = worker.invocationError(id: String(parts[1]), errorType: errorType, body: body)
            write(context, response, keepAlive: head.isKeepAlive, flush: response.status != .accepted)
        case (.POST, 2, "init", "error"):
            write(context, worker.initError(errorType: errorType, body: body), keepAlive: head.isKeepAlive)
        default:
            write(
                context, .error(.notFound, type: "NotFound", message: "unknown path \(path)"),
                keepAlive: head.isKeepAlive)
        }
    }

    /// Whether the runtime has closed its side of the connection (TCP `CLOSE_WAIT`: its FIN arrived, not read yet).
    /// Answered at once on the channel's event loop.
    private static func peerHasClosed(_ channel: any Channel) -> EventLoopFuture<Bool> {
        #if os(Linux)
            if let provider = channel as? any SocketOptionProvider {
                return provider.getTCPInfo().map { Int($0.tcpi_state) == Int(TCP_CLOSE_WAIT) }
            }
        #endif
        return channel.eventLoop.makeSucceededFuture(false)
    }

    /// Writes `response`; with `flush: false` (a `202` that may wait for the next invocation), it is flushed
    /// at the end of the read or with the next response.
    @discardableResult
    private func write(
        _ context: ChannelHandlerContext, _ response: RuntimeAPIResponse, keepAlive: Bool, flush: Bool = true
    ) -> EventLoopFuture<Void> {
        guard context.channel.isActive else {
            return context.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
        }
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        if headers["Content-Type"].isEmpty { headers.add(name: "Content-Type", value: "application/json") }
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        if !flush && keepAlive {
            unflushed = true
            return context.write(wrapOutboundOut(.end(nil)))
        }
        unflushed = false
        holding = false
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) } }
        return done
    }
}

import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StratusCore

/// A client of the control plane's `/v1` API, with the CLI's exit codes for its failures.
///
/// It runs on async-http-client (SwiftNIO's event loop, which sleeps in `epoll` while it waits): a CLI
/// waiting for a 15-minute invocation costs no CPU.
struct ControlClient {
    var endpoint: String
    /// Sent as `Authorization: Bearer …` (`--token` / `STRATUS_TOKEN`).
    var token: String?

    /// Longest a request may take: a 15-minute invocation plus the time to start its worker.
    static let timeout: TimeAmount = .seconds(960)
    /// Largest answer read: a 6 MB result wrapped in the invoke answer, or a page of logs.
    static let maxAnswer = 64 * 1024 * 1024

    /// async-http-client's shared client retries a refused connection until the request's deadline: with no
    /// host listening, the CLI would wait minutes before saying so. This one fails at once.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Sends a request; exits 69 when the host cannot be reached.
    func send(
        _ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json",
        headers: [(String, String)] = []
    ) async throws -> (status: Int, body: Data) {
        let url = endpoint.trimmingSuffix("/") + path
        guard URL(string: url)?.host != nil else { throw ValidationError("invalid endpoint '\(endpoint)'") }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if method != "GET" {
            // The control plane refuses bodies of any other type (a web page cannot send this one unasked).
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body ?? Data()))
        }
        do {
            let response = try await Self.http.execute(request, timeout: Self.timeout)
            let buffer = try await response.body.collect(upTo: Self.maxAnswer)
            return (Int(response.status.code), Data(buffer.readableBytesView))
        } catch {
            printError("cannot reach the Stratus host at \(endpoint): \(Self.describe(error))")
            printError("start it with `stratus serve` (or `make run`), or point --endpoint / STRATUS_ENDPOINT at it")
            throw ExitCode(69)
        }
    }

    /// Sends a request and returns the body of a 2xx answer; prints the API error and exits 1 otherwise.
    func call(
        _ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json",
        headers: [(String, String)] = []
    ) async throws -> Data {
        let (status, data) = try await send(method, path, body: body, contentType: contentType, headers: headers)
        guard (200..<300).contains(status) else {
            let message = (try? V1.decoder.decode(V1.ErrorBody.self, from: data))?.error.message
            printError("error: \(message ?? String(decoding: data, as: UTF8.self)) (HTTP \(status))")
            throw ExitCode.failure
        }
        return data
    }

    /// `GET path`, the answer decoded as `Answer` (and its raw bytes, for `--json`).
    func get<Answer: Decodable>(_ path: String, as type: Answer.Type) async throws -> (answer: Answer, raw: Data) {
        let data = try await call("GET", path)
        return (try V1.decoder.decode(type, from: data), data)
    }

    /// `POST path` with `body` encoded as JSON, the answer decoded as `Answer` (and its raw bytes).
    func post<Answer: Decodable>(
        _ path: String, _ body: some Encodable, as type: Answer.Type
    ) async throws -> (answer: Answer, raw: Data) {
        let data = try await call("POST", path, body: try V1.encoder.encode(body))
        return (try V1.decoder.decode(type, from: data), data)
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError, error == .deadlineExceeded { return "no answer within 960 s" }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED { return "connection refused" }
        if let error = error as? HTTPClientError, error == .connectTimeout { return "no connection within 10 s" }
        return "\(error)"
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }

    var percentEncodedQuery: String {
        addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? self
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// An HTTP answer as a test looks at it.
package struct HTTPAnswer: Sendable {
    package var status: Int
    package var headers: HTTPHeaders
    package var body: Data

    /// The first value of header `name` (case-insensitive).
    package func header(_ name: String) -> String? { headers.first(name: name) }

    /// The body as text.
    package var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object, or `nil`.
    package var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
}

/// HTTP for tests, on async-http-client: waiting costs no CPU (URLSession spins on Linux while a request is
/// outstanding, which starves the host on small machines).
package enum HTTP {
    /// One client for the test process, with room for bursts of hundreds of concurrent requests.
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 512
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Sends a request. `json` is encoded as the body with `Content-Type: application/json` unless `headers`
    /// says otherwise; `body` is sent as it is.
    package static func request(
        _ method: String, _ url: String, headers: [String: String] = [:], json: Any? = nil, body: Data? = nil,
        timeout: Duration = .seconds(120)
    ) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        var payload = body
        if let json {
            payload = try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed])
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let payload { request.body = .bytes(ByteBuffer(bytes: payload)) }
        let response = try await client.execute(request, timeout: .seconds(max(1, timeout.components.seconds)))
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return HTTPAnswer(
            status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView))
    }

    /// `POST url` with a JSON body.
    package static func post(_ url: String, json: Any, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await request("POST", url, headers: headers, json: json)
    }

    /// `GET url`.
    package static func get(_ url: String, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await request("GET", url, headers: headers)
    }
}

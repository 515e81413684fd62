import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StratusCore
import StratusRuntime
import StratusServer
import StratusTesting

/// A project with a Python echo function, one that raises, an HTTP route and a topic feeding a queue, served by a running host;
/// the control router and the gateway are called in-process, without a socket.
struct ServerFixture {
    let project: TemporaryProject
    let host: StratusHost

    static let triggers = """
        http:
          - route: POST /echo/{name}
            function: echo
          - route: GET /sleep/{seconds}
            function: sleepy
          - route: GET /keyed
            function: echo
            auth: {apiKeys: [secret-key]}
        topics:
          orders:
            subscriptions:
              - queue: orders-copy
                filter: {kind: [created]}
        queues:
          orders-copy: {visibilityTimeout: 5s}
        """

    /// Runs `body` with a prepared, running host; stops its workers and removes the project afterwards.
    static func with<Value: Sendable>(_ body: @Sendable (ServerFixture) async throws -> Value) async throws -> Value {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("echo", code: Fixtures.echo)
        try project.addPython("raises", code: Fixtures.raises)
        try project.write("triggers/main.yaml", triggers)
        try project.addPython("sleepy", code: Fixtures.sleepy, manifest: "timeout: 5s\n")
        let host = try project.host()
        guard host.project.errors.isEmpty else { throw FixtureError(errors: host.project.errors.map { "\($0)" }) }
        try await host.prepare()
        let fixture = ServerFixture(project: project, host: host)
        let result = await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await host.run() }
            defer { group.cancelAll() }
            return await Result(catching: { try await body(fixture) })
        }
        await host.stopWorkers()
        return try result.get()
    }

    /// Calls the control plane (`/v1`, `/metrics`, the Lambda facade) as `stratus serve` routes it.
    func control<Value: Sendable>(
        exposure: ControlExposure = .init(), _ test: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        try await Application(router: ControlAPI.router(host: host, exposure: exposure)).test(.router, test)
    }

    /// Calls the API Gateway as `stratus serve` routes it (with another integration timeout if asked).
    func gateway<Value: Sendable>(
        integrationTimeout: Duration = .seconds(30), _ test: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        try await Application(responder: Gateway(host: host, integrationTimeout: integrationTimeout)).test(
            .router, test)
    }
}

struct FixtureError: Error {
    var errors: [String]
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

extension TestResponse {
    /// The body decoded as a `/v1` answer.
    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        try V1.decoder.decode(T.self, from: Data(body.readableBytesView))
    }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    var text: String { String(buffer: body) }
}

extension HTTPFields {
    static let json: HTTPFields = [.contentType: "application/json"]
}

extension ByteBuffer {
    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
}

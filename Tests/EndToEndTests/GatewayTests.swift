import Foundation
import StratusTesting
import Testing

/// HTTP triggers through the built binary, with a real HTTP client on loopback.
@Suite(.serialized) struct GatewayTests {
    static let handler = """
        import base64, json, time
        def handler(event, context):
            path = event["rawPath"]
            if path.startswith("/boom"):
                raise RuntimeError("boom")
            if path.startswith("/slow"):
                time.sleep(5)
            if path.startswith("/bad"):
                return {"statusCode": "not a number"}
            if path.startswith("/png"):
                data = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else event.get("body", "").encode()
                return {"statusCode": 200, "headers": {"content-type": "image/png"},
                        "body": base64.b64encode(data).decode(), "isBase64Encoded": True}
            if path.startswith("/cookie"):
                return {"statusCode": 201, "cookies": ["seen=" + ",".join(event.get("cookies", [])), "b=2"], "body": "ok"}
            if path.startswith("/plain"):
                return {"hello": event["pathParameters"]["name"]}
            return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
        """

    func request(_ url: String, method: String = "GET", headers: [String: String] = [:], body: Data? = nil) async throws
        -> (status: Int, headers: [String: String], body: Data)
    {
        let answer = try await HTTP.request(method, url, headers: headers, body: body)
        var fields: [String: String] = [:]
        for header in answer.headers {
            let name = header.name.lowercased()
            fields[name] = fields[name].map { $0 + ", " + header.value } ?? header.value
        }
        return (answer.status, fields, answer.body)
    }

    @Test func routesEventsResponsesAndErrors() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("web", code: Self.handler, manifest: "timeout: 1s\n")
        try project.write(
            "triggers/http.yaml",
            """
            http:
              - route: GET /items/{id}
                function: web
              - route: POST /items
                function: web
              - route: ANY /png
                function: web
              - route: ANY /{proxy+}
                function: web
              - route: GET /plain/{name}
                function: web
              - route: GET /private
                function: web
                auth: {apiKeys: [k1, env:STRATUS_TEST_KEY]}
              - route: GET /cors
                function: web
                cors: {allowOrigins: ["http://app.local"], allowMethods: [GET], allowHeaders: [x-custom], maxAge: 300}
            """)
        setenv("STRATUS_TEST_KEY", "k2", 1)
        let host = try await ServeProcess(project: project.path)
        let base = host.gatewayURL
        #expect(host.log.contains("route   GET /items/{id} -> web"))

        let get = try await request(base + "/items/42?tag=a&tag=b&q=x%20y")
        #expect(get.status == 200)
        let event = try #require(try JSONSerialization.jsonObject(with: get.body) as? [String: Any])
        #expect(event["routeKey"] as? String == "GET /items/{id}")
        #expect(event["pathParameters"] as? [String: String] == ["id": "42"])
        #expect(event["queryStringParameters"] as? [String: String] == ["tag": "a,b", "q": "x y"])
        #expect(get.headers["apigw-requestid"] != nil)
        let invocationId = try #require(get.headers["x-stratus-invocation-id"])
        #expect(try host.cli(["logs", "web", "--json"]).stdout.contains(invocationId))

        let post = try await request(
            base + "/items", method: "POST", headers: ["content-type": "application/json"], body: Data(#"{"a":1}"#.utf8)
        )
        let postEvent = try #require(try JSONSerialization.jsonObject(with: post.body) as? [String: Any])
        #expect(postEvent["body"] as? String == #"{"a":1}"# && postEvent["isBase64Encoded"] as? Bool == false)

        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<2048).map { UInt8($0 % 256) })
        let round = try await request(base + "/png", method: "POST", headers: ["content-type": "image/png"], body: png)
        #expect(round.status == 200 && round.headers["content-type"] == "image/png")
        #expect(round.body == png, "binary bodies round-trip byte for byte")

        let cookies = try await request(base + "/cookie/x", headers: ["Cookie": "a=1; c=3"])
        #expect(cookies.status == 201)
        #expect(cookies.headers["set-cookie"]?.contains("seen=a=1,c=3") == true)

        let plain = try await request(base + "/plain/ada")
        #expect(plain.status == 200 && String(decoding: plain.body, as: UTF8.self) == #"{"hello": "ada"}"#)

        let greedy = try await request(base + "/items/1/2", method: "DELETE")
        let greedyEvent = try #require(try JSONSerialization.jsonObject(with: greedy.body) as? [String: Any])
        #expect(
            greedyEvent["routeKey"] as? String == "ANY /{proxy+}", "the greedy route catches what the others do not")
        #expect(greedyEvent["pathParameters"] as? [String: String] == ["proxy": "items/1/2"])

        let boom = try await request(base + "/boom")
        #expect(
            boom.status == 502 && String(decoding: boom.body, as: UTF8.self) == #"{"message":"Internal Server Error"}"#)
        let bad = try await request(base + "/bad")
        #expect(bad.status == 502)
        let slow = try await request(base + "/slow")
        #expect(slow.status == 502, "a function that timed out is a function error to HTTP API")

        let large = try await request(base + "/items", method: "POST", body: Data(count: 6 * 1024 * 1024 + 1))
        #expect(large.status == 413)

        #expect(try await request(base + "/private").status == 401)
        #expect(try await request(base + "/private", headers: ["x-api-key": "nope"]).status == 403)
        #expect(try await request(base + "/private", headers: ["x-api-key": "k1"]).status == 200)
        #expect(try await request(base + "/private", headers: ["x-api-key": "k2"]).status == 200)

        let before = try host.cli(["logs", "web", "--limit", "1000", "--json"]).stdout.split(separator: "\n").count
        let preflight = try await request(
            base + "/cors", method: "OPTIONS",
            headers: ["Origin": "http://app.local", "Access-Control-Request-Method": "GET"])
        #expect(preflight.status == 204)
        #expect(preflight.headers["access-control-allow-origin"] == "http://app.local")
        #expect(preflight.headers["access-control-allow-methods"] == "GET")
        #expect(preflight.headers["access-control-max-age"] == "300")
        let after = try host.cli(["logs", "web", "--limit", "1000", "--json"]).stdout.split(separator: "\n").count
        #expect(before == after, "a preflight never invokes the function")
        let simple = try await request(base + "/cors", headers: ["Origin": "http://app.local"])
        #expect(simple.headers["access-control-allow-origin"] == "http://app.local")

        let routes = try host.cli(["routes"])
        #expect(routes.status == 0 && routes.stdout.contains("GET /items/{id}") && routes.stdout.contains("web"))
        #expect(await host.stop() == 0)
    }

    @Test func noRouteIs404AndBadTriggersAreReported() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("web", code: Self.handler)
        try project.write("triggers/a.yaml", "http:\n  - route: GET /a/{x}\n    function: web\n")
        try project.write(
            "triggers/b.yaml",
            "http:\n  - route: GET /a/{y}\n    function: web\n  - route: GET /z\n    function: nobody\n")
        let validate = try StratusBinary.run(["validate", project.path])
        #expect(validate.status == 65)
        #expect(
            validate.stdout.contains(
                "triggers/b.yaml:2: http[0]: route 'GET /a/{y}' collides with 'GET /a/{x}' at triggers/a.yaml:2"))
        try project.write("triggers/b.yaml", "http:\n  - route: GET /z\n    function: nobody\n")
        #expect(
            try StratusBinary.run(["validate", project.path]).stdout.contains(
                "triggers/b.yaml:3: http[0].function: unknown function 'nobody'"))
        let host = try await ServeProcess(project: project.path)
        let none = try await request(host.gatewayURL + "/nothing")
        #expect(none.status == 404 && String(decoding: none.body, as: UTF8.self) == #"{"message":"Not Found"}"#)
        #expect(await host.stop() == 0)
    }
}

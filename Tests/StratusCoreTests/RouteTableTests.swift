import Foundation
import StratusCore
import Testing

@Suite struct RouteTableTests {
    func triggers(_ yaml: String, functions: Set<String> = ["a", "b", "c", "d"]) throws(ManifestError) -> Triggers {
        var triggers = Triggers()
        try triggers.merge(yaml: yaml, file: "triggers/http.yaml", functions: functions, environment: ["KEY": "s3cret"])
        return triggers
    }

    @Test func mostSpecificRouteWins() throws {
        let table = RouteTable(
            routes: try triggers(
                """
                http:
                  - route: GET /items/{id}
                    function: a
                  - route: GET /items/special
                    function: b
                  - route: ANY /items/{proxy+}
                    function: c
                  - route: $default
                    function: d
                  - route: POST /items/{id}
                    function: c
                """
            ).routes)
        #expect(table.match(method: "GET", path: "/items/special")?.route.function == "b")
        let param = table.match(method: "GET", path: "/items/42")
        #expect(param?.route.function == "a" && param?.pathParameters == ["id": "42"])
        #expect(table.match(method: "POST", path: "/items/42")?.route.function == "c")
        let greedy = table.match(method: "DELETE", path: "/items/a/b%20c")
        #expect(greedy?.route.function == "c" && greedy?.pathParameters == ["proxy": "a/b c"])
        #expect(table.match(method: "GET", path: "/other")?.route.routeKey == "$default")
        #expect(RouteTable(routes: []).match(method: "GET", path: "/") == nil)
    }

    @Test func exactMethodBeatsAny() throws {
        let table = RouteTable(
            routes: try triggers(
                """
                http:
                  - {route: ANY /x, function: a}
                  - {route: GET /x, function: b}
                """
            ).routes)
        #expect(table.match(method: "GET", path: "/x")?.route.function == "b")
        #expect(table.match(method: "PUT", path: "/x")?.route.function == "a")
    }

    @Test func loadErrorsNameFileLineAndWhy() {
        #expect(
            throws: ManifestError(
                file: "triggers/http.yaml", line: 4, key: "http[1]",
                message: "route 'GET /a/{y}' collides with 'GET /a/{x}' at triggers/http.yaml:2")
        ) {
            try triggers("http:\n  - route: GET /a/{x}\n    function: a\n  - route: GET /a/{y}\n    function: b\n")
        }
        #expect(
            throws: ManifestError(
                file: "triggers/http.yaml", line: 2, key: "http[0].function",
                message: "unknown function 'zz'; expected one of: a, b, c, d")
        ) {
            try triggers("http:\n  - {route: GET /a, function: zz}\n")
        }
        #expect(throws: ManifestError.self) { try triggers("http:\n  - {route: FETCH /a, function: a}\n") }
        #expect(throws: ManifestError.self) { try triggers("http:\n  - route: GET /{p+}/x\n    function: a\n") }
        #expect(throws: ManifestError.self) {
            try triggers("http:\n  - {route: GET /a, function: a, auth: {apiKeys: [env:MISSING]}}\n")
        }
    }

    @Test func optionsAreParsed() throws {
        let route = try #require(
            triggers(
                """
                http:
                  - route: get /k
                    function: a
                    cors: {allowOrigins: [http://x], allowMethods: [get], maxAge: 60, allowCredentials: true}
                    auth: {apiKeys: [literal, env:KEY]}
                """
            ).routes.first)
        #expect(route.method == "GET")
        #expect(route.apiKeys == ["literal", "s3cret"])
        #expect(
            route.cors?.allowOrigins == ["http://x"] && route.cors?.allowMethods == ["GET"] && route.cors?.maxAge == 60)
    }
}

@Suite struct APIGatewayV2Tests {
    let match = RouteTable.Match(
        route: HTTPRoute(method: "GET", path: "/items/{id}", function: "a"), pathParameters: ["id": "7"])

    func event(_ request: APIGatewayV2.Request) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: APIGatewayV2.event(for: request, match: match)) as? [String: Any])
    }

    @Test func eventHasFormat20Fields() throws {
        let request = APIGatewayV2.Request(
            method: "GET", rawPath: "/items/7", rawQueryString: "a=1&a=2&b=x%20y&c",
            headers: [
                ("Host", "localhost:8080"), ("X-Multi", "1"), ("x-multi", "2"), ("Cookie", "s=1; t=2"),
                ("User-Agent", "ua"),
            ],
            body: Data(), requestId: "rid")
        let e = try event(request)
        #expect(e["version"] as? String == "2.0")
        #expect(e["routeKey"] as? String == "GET /items/{id}")
        #expect(e["rawQueryString"] as? String == "a=1&a=2&b=x%20y&c")
        #expect(e["queryStringParameters"] as? [String: String] == ["a": "1,2", "b": "x y", "c": ""])
        #expect(e["pathParameters"] as? [String: String] == ["id": "7"])
        #expect(e["cookies"] as? [String] == ["s=1", "t=2"])
        let headers = try #require(e["headers"] as? [String: String])
        #expect(headers["x-multi"] == "1,2" && headers["cookie"] == nil)
        #expect(e["body"] == nil && e["isBase64Encoded"] as? Bool == false)
        let context = try #require(e["requestContext"] as? [String: Any])
        #expect(context["stage"] as? String == "$default" && context["requestId"] as? String == "rid")
        #expect((context["http"] as? [String: String])?["userAgent"] == "ua")
        #expect((context["http"] as? [String: String])?["method"] == "GET")
        #expect(context["timeEpoch"] is Int)
    }

    @Test func binaryBodiesAreBase64AndTextIsNot() throws {
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0xFF])
        var request = APIGatewayV2.Request(
            method: "POST", rawPath: "/", rawQueryString: "", headers: [("content-type", "image/png")], body: png,
            requestId: "r")
        var e = try event(request)
        #expect(e["isBase64Encoded"] as? Bool == true && e["body"] as? String == png.base64EncodedString())
        request.headers = [("content-type", "application/json; charset=utf-8")]
        request.body = Data(#"{"a":1}"#.utf8)
        e = try event(request)
        #expect(e["isBase64Encoded"] as? Bool == false && e["body"] as? String == #"{"a":1}"#)
    }

    @Test func responseShapes() throws {
        let full = try #require(
            APIGatewayV2.response(
                fromResult: Data(
                    """
                    {"statusCode": 201, "headers": {"X-A": "1", "n": 2}, "cookies": ["a=1", "b=2"], "body": "hi"}
                    """.utf8)))
        #expect(
            full
                == APIGatewayV2.Response(
                    statusCode: 201, headers: ["x-a": "1", "n": "2"], cookies: ["a=1", "b=2"], body: Data("hi".utf8)))
        let binary = try #require(
            APIGatewayV2.response(fromResult: Data(#"{"statusCode":200,"body":"AAEC","isBase64Encoded":true}"#.utf8)))
        #expect(binary.body == Data([0, 1, 2]))
        let inferred = try #require(APIGatewayV2.response(fromResult: Data(#"{"message":"x"}"#.utf8)))
        #expect(inferred.statusCode == 200 && inferred.body == Data(#"{"message":"x"}"#.utf8))
        #expect(inferred.headers["content-type"] == "application/json")
        #expect(APIGatewayV2.response(fromResult: Data(#""Hello""#.utf8))?.body == Data("Hello".utf8))
        #expect(APIGatewayV2.response(fromResult: Data("42".utf8))?.body == Data("42".utf8))
        #expect(APIGatewayV2.response(fromResult: Data("not json".utf8)) == nil)
        #expect(APIGatewayV2.response(fromResult: Data(#"{"statusCode":"abc"}"#.utf8)) == nil)
        #expect(
            APIGatewayV2.response(fromResult: Data(#"{"statusCode":200,"body":"%%","isBase64Encoded":true}"#.utf8))
                == nil)
        // Format 2.0's body is a string: anything else is a malformed response (the gateway's 502), never a
        // rendering of it. Header values: numbers and booleans as their JSON text, null left out.
        for body in [#"{"nested":true}"#, "[1,2]", "true", "1.5"] {
            #expect(APIGatewayV2.response(fromResult: Data(#"{"statusCode":200,"body":\#(body)}"#.utf8)) == nil)
        }
        let scalars = try #require(
            APIGatewayV2.response(
                fromResult: Data(#"{"statusCode":200,"headers":{"x-b":true,"x-n":null,"x-f":1.5,"x-i":7}}"#.utf8)))
        #expect(scalars.headers == ["x-b": "true", "x-f": "1.5", "x-i": "7"])
        #expect(APIGatewayV2.response(fromResult: Data(#"{"statusCode":200,"headers":{"x-o":{"a":1}}}"#.utf8)) == nil)
        #expect(APIGatewayV2.response(fromResult: Data(#"{"statusCode":200,"cookies":["a=1",2]}"#.utf8)) == nil)
    }

    @Test func aTextBodyThatIsNotUTF8GoesAsBase64() throws {
        for bytes in [[0x00, 0x01, 0xFF, 0xFE], Array("héllo".utf8)] as [[UInt8]] {
            let request = APIGatewayV2.Request(
                method: "POST", rawPath: "/in", rawQueryString: "", headers: [("content-type", "text/plain")],
                body: Data(bytes), requestId: "r")
            let event = try #require(JSONValue.parseObject(APIGatewayV2.event(for: request, match: match)))
            let utf8 = String(validating: bytes, as: UTF8.self)
            #expect(event["isBase64Encoded"] == .bool(utf8 == nil))
            #expect(event["body"] == .string(utf8 ?? Data(bytes).base64EncodedString()))
        }
    }
}

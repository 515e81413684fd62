import Foundation

/// Builds API Gateway HTTP API payload format 2.0 events and maps function results back to responses.
package enum APIGatewayV2 {
    /// An HTTP request as the gateway received it.
    package struct Request: Sendable {
        package var method: String
        package var rawPath: String
        package var rawQueryString: String
        /// Header fields in arrival order, names as sent.
        package var headers: [(name: String, value: String)]
        package var body: Data
        package var sourceIp = "127.0.0.1"
        package var requestId: String
        package var time = Date()

        package init(
            method: String, rawPath: String, rawQueryString: String, headers: [(name: String, value: String)],
            body: Data, requestId: String
        ) {
            self.method = method
            self.rawPath = rawPath
            self.rawQueryString = rawQueryString
            self.headers = headers
            self.body = body
            self.requestId = requestId
        }

        /// The first value of a header, by case-insensitive name.
        package func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }
    }

    /// A response for the gateway to send.
    package struct Response: Sendable, Equatable {
        package var statusCode: Int
        package var headers: [String: String]
        package var cookies: [String]
        package var body: Data

        package init(statusCode: Int, headers: [String: String], cookies: [String], body: Data) {
            self.statusCode = statusCode
            self.headers = headers
            self.cookies = cookies
            self.body = body
        }
    }

    /// The event JSON for `request` matched to `match`.
    package static func event(for request: Request, match: RouteTable.Match, apiId: String = "stratus") -> Data {
        let (headers, cookies) = headersAndCookies(request.headers)
        var json = JSONWriter(capacity: 1024 + request.body.count * 4 / 3)
        json.beginObject()
        json.field("version", "2.0")
        json.field("routeKey", match.route.routeKey)
        json.field("rawPath", request.rawPath)
        json.field("rawQueryString", request.rawQueryString)
        if !cookies.isEmpty {
            json.key("cookies")
            json.beginArray()
            for cookie in cookies { json.string(cookie) }
            json.endArray()
        }
        json.object("headers", headers)
        let query = queryParameters(request.rawQueryString)
        if !query.isEmpty { json.object("queryStringParameters", query) }
        if !match.pathParameters.isEmpty { json.object("pathParameters", match.pathParameters) }
        writeRequestContext(request, match: match, apiId: apiId, headers: headers, into: &json)
        writeBody(request.body, contentType: headers["content-type"], into: &json)
        json.endObject()
        return Data(json.bytes)
    }

    /// Headers lower-cased, repeats joined with commas; `cookie` headers split into the `cookies` list.
    static func headersAndCookies(_ fields: [(String, String)]) -> (headers: [String: String], cookies: [String]) {
        var headers: [String: String] = [:]
        var cookies: [String] = []
        for (name, value) in fields {
            let key = name.lowercased()
            if key == "cookie" {
                cookies += value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                }
                continue
            }
            headers[key] = headers[key].map { $0 + "," + value } ?? value
        }
        return (headers, cookies)
    }

    private static func writeRequestContext(
        _ request: Request, match: RouteTable.Match, apiId: String, headers: [String: String],
        into json: inout JSONWriter
    ) {
        let host = headers["host"] ?? "localhost"
        let epochMs = Int64(request.time.timeIntervalSince1970 * 1000)
        json.key("requestContext")
        json.beginObject()
        json.field("accountId", AWS.accountId)
        json.field("apiId", apiId)
        json.field("domainName", host)
        json.field("domainPrefix", String(host.split(separator: ".").first ?? Substring(host)))
        json.key("http")
        json.beginObject()
        json.field("method", request.method)
        json.field("path", request.rawPath)
        json.field("protocol", "HTTP/1.1")
        json.field("sourceIp", request.sourceIp)
        json.field("userAgent", headers["user-agent"] ?? "")
        json.endObject()
        json.field("requestId", request.requestId)
        json.field("routeKey", match.route.routeKey)
        json.field("stage", "$default")
        json.field("time", JSONWriter.apiGatewayTime(epochSeconds: Int(epochMs / 1000)))
        json.key("timeEpoch")
        json.number(epochMs)
        json.endObject()
    }

    /// Text bodies as they are, others base64 (`isBase64Encoded`), as format 2.0 does.
    private static func writeBody(_ body: Data, contentType: String?, into json: inout JSONWriter) {
        if body.isEmpty {
            json.key("isBase64Encoded")
            json.bool(false)
        } else if isText(contentType: contentType), let text = String(validating: body, as: UTF8.self) {
            // (A text type whose bytes are not UTF-8 goes as base64 below: the function gets them unchanged.)
            json.field("body", text)
            json.key("isBase64Encoded")
            json.bool(false)
        } else {
            json.field("body", body.base64EncodedString())
            json.key("isBase64Encoded")
            json.bool(true)
        }
    }

    /// Decoded query parameters, repeated keys joined with commas, as format 2.0 does.
    static func queryParameters(_ raw: String) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in raw.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            parameters[key] = parameters[key].map { $0 + "," + value } ?? value
        }
        return parameters
    }

    private static func decode(_ text: Substring) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
    }

    /// Bodies of these types are passed as text; everything else is base64.
    static func isText(contentType: String?) -> Bool {
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        else {
            return true
        }
        return type.hasPrefix("text/") || type.hasSuffix("+json") || type.hasSuffix("+xml")
            || [
                "application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded",
                "application/graphql", "application/x-yaml", "application/yaml",
            ].contains(type)
    }

    /// Maps a function's result to a response, or `nil` when it is malformed (the gateway answers 502).
    package static func response(fromResult data: Data) -> Response? {
        guard let value = JSONValue.parse(data) else { return nil }
        guard case .object(let object) = value, let code = object["statusCode"] else {
            // API Gateway's shortcut: any other JSON is the body of a 200, a string without its quotes.
            let body = if case .string(let text) = value { Data(text.utf8) } else { data }
            return Response(statusCode: 200, headers: ["content-type": "application/json"], cookies: [], body: body)
        }
        let statusCode: Int? =
            switch code {
            case .number(let number): Int(exactly: number)
            case .string(let text): Int(text)
            default: nil
            }
        guard let statusCode, (100...599).contains(statusCode) else { return nil }
        var headers: [String: String] = [:]
        if let raw = object["headers"] {
            guard case .object(let fields) = raw else { return nil }
            for (name, value) in fields {
                switch value {
                case .string(let text): headers[name.lowercased()] = text
                case .number, .bool: headers[name.lowercased()] = value.jsonText
                case .null: continue
                case .array, .object: return nil  // no header value: a malformed response
                }
            }
        }
        var cookies: [String] = []
        if let raw = object["cookies"] {
            guard case .array(let list) = raw else { return nil }
            for item in list {
                guard case .string(let cookie) = item else { return nil }
                cookies.append(cookie)
            }
        }
        var body = Data()
        switch object["body"] {
        case nil, .null?: break
        case .string(let text)?:
            if case .bool(true)? = object["isBase64Encoded"] {
                guard let decoded = Data(base64Encoded: text) else { return nil }
                body = decoded
            } else {
                body = Data(text.utf8)
            }
        default: return nil  // format 2.0's body is a string: an object or a number is a malformed response
        }
        return Response(statusCode: statusCode, headers: headers, cookies: cookies, body: body)
    }
}

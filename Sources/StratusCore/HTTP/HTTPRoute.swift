/// One `http:` entry of `triggers/*.yaml`: a route to a function, with its options.
package struct HTTPRoute: Sendable, Equatable {
    /// CORS settings answered by the gateway itself.
    package struct CORS: Sendable, Equatable {
        package var allowOrigins: [String] = ["*"]
        package var allowMethods: [String] = ["*"]
        package var allowHeaders: [String] = ["*"]
        package var exposeHeaders: [String] = []
        package var maxAge: Int?
        package var allowCredentials = false
        package init() {}
    }

    /// Upper-cased method, or `ANY`; `$default` routes have method `ANY` and path `$default`.
    package var method: String
    /// `/items/{id}`, `/files/{proxy+}`, or `$default`.
    package var path: String
    package var function: String
    package var cors: CORS?
    /// Accepted `x-api-key` values (already resolved from `env:NAME`); `nil` means open.
    package var apiKeys: [String]?
    /// Where it was declared, for errors.
    package var file: String
    package var line: Int?

    package init(method: String, path: String, function: String, file: String = "", line: Int? = nil) {
        self.method = method
        self.path = path
        self.function = function
        self.file = file
        self.line = line
    }

    /// API Gateway's route key: `GET /items/{id}` or `$default`.
    package var routeKey: String { path == "$default" ? "$default" : "\(method) \(path)" }

    /// The path's segments (empty for `$default`).
    var segments: [Substring] { path == "$default" ? [] : path.split(separator: "/", omittingEmptySubsequences: true) }

    /// Two routes collide when they have the same method and the same shape of path.
    var shape: String {
        let normalized = segments.map { segment -> String in
            guard segment.hasPrefix("{") else { return String(segment) }
            return segment.hasSuffix("+}") ? "{+}" : "{}"
        }
        return method + " /" + normalized.joined(separator: "/") + (path == "$default" ? "$default" : "")
    }
}

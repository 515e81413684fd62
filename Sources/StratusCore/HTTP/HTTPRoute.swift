/// One `http:` entry of `triggers/*.yaml`: a route to a function, with its options.
public struct HTTPRoute: Sendable, Equatable {
    /// CORS settings answered by the gateway itself.
    public struct CORS: Sendable, Equatable {
        public var allowOrigins: [String] = ["*"]
        public var allowMethods: [String] = ["*"]
        public var allowHeaders: [String] = ["*"]
        public var exposeHeaders: [String] = []
        public var maxAge: Int?
        public var allowCredentials = false
        public init() {}
    }

    /// Upper-cased method, or `ANY`; `$default` routes have method `ANY` and path `$default`.
    public var method: String
    /// `/items/{id}`, `/files/{proxy+}`, or `$default`.
    public var path: String
    public var function: String
    public var cors: CORS?
    /// Accepted `x-api-key` values (already resolved from `env:NAME`); `nil` means open.
    public var apiKeys: [String]?
    /// Where it was declared, for errors.
    public var file: String
    public var line: Int?

    public init(method: String, path: String, function: String, file: String = "", line: Int? = nil) {
        self.method = method
        self.path = path
        self.function = function
        self.file = file
        self.line = line
    }

    /// API Gateway's route key: `GET /items/{id}` or `$default`.
    public var routeKey: String { path == "$default" ? "$default" : "\(method) \(path)" }

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

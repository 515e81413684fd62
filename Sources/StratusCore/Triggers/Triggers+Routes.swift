import Foundation

extension Triggers {
    private static let methods: Set<String> = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]

    static func parseRoute(
        _ item: YAMLValue, functions: Set<String>, environment: [String: String]
    ) throws(ManifestError) -> HTTPRoute {
        let entries = Dictionary(
            try item.mapping(allowed: ["route", "function", "cors", "auth"]), uniquingKeysWith: { a, _ in a })
        guard let routeValue = entries["route"] else {
            throw item.error("missing 'route'; expected e.g. route: GET /hello/{name}")
        }
        guard let functionValue = entries["function"] else { throw item.error("missing 'function'") }
        let text = try routeValue.string()
        let method: String
        let path: String
        if text == "$default" {
            (method, path) = ("ANY", "$default")
        } else {
            let parts = text.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, methods.contains(parts[0].uppercased()), parts[1].hasPrefix("/") else {
                throw routeValue.error(
                    "expected 'METHOD /path' (GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY) or $default (got '\(text)')"
                )
            }
            (method, path) = (parts[0].uppercased(), String(parts[1]))
            let segments = path.split(separator: "/")
            for (index, segment) in segments.enumerated() where segment.hasPrefix("{") || segment.hasSuffix("}") {
                let valid = segment.hasPrefix("{") && segment.hasSuffix("}") && segment.count > 2
                let greedyNotLast = segment.hasSuffix("+}") && index != segments.count - 1
                if !valid || greedyNotLast {
                    throw routeValue.error(
                        "invalid path parameter '\(segment)': use {name}, or {name+} as the last segment")
                }
            }
        }
        let function = try functionValue.string()
        guard functions.contains(function) else {
            throw functionValue.error(
                "unknown function '\(function)'; expected one of: \(functions.sorted().joined(separator: ", "))")
        }
        var route = HTTPRoute(method: method, path: path, function: function, file: item.file, line: item.line)
        if let cors = entries["cors"] { route.cors = try parseCORS(cors) }
        if let auth = entries["auth"] {
            for (_, keys) in try auth.mapping(allowed: ["apiKeys"]) {
                route.apiKeys = try keys.sequence().map { key throws(ManifestError) -> String in
                    let text = try key.string()
                    guard text.hasPrefix("env:") else { return text }
                    guard let value = environment[String(text.dropFirst(4))], !value.isEmpty else {
                        throw key.error("environment variable \(text.dropFirst(4)) is not set")
                    }
                    return value
                }
            }
        }
        return route
    }

    private static func parseCORS(_ value: YAMLValue) throws(ManifestError) -> HTTPRoute.CORS {
        var cors = HTTPRoute.CORS()
        let keys: Set<String> = [
            "allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials",
        ]
        for (key, item) in try value.mapping(allowed: keys) {
            switch key {
            case "maxAge": cors.maxAge = try item.int(in: 0...86_400)
            case "allowCredentials": cors.allowCredentials = try item.bool()
            default:
                let list = try item.sequence().map { entry throws(ManifestError) in try entry.string() }
                switch key {
                case "allowOrigins": cors.allowOrigins = list
                case "allowMethods": cors.allowMethods = list.map { $0.uppercased() }
                case "allowHeaders": cors.allowHeaders = list.map { $0.lowercased() }
                default: cors.exposeHeaders = list.map { $0.lowercased() }
                }
            }
        }
        return cors
    }
}

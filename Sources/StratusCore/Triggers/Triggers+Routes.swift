import Foundation

extension Triggers {
    /// Reads a route the schema has checked: `METHOD /path` with well-formed parameters, or `$default`.
    static func parseRoute(
        _ item: YAMLValue, functions: Set<String>, environment: [String: String]
    ) throws(ManifestError) -> HTTPRoute {
        let entries = Dictionary(try item.mapping(), uniquingKeysWith: { a, _ in a })
        guard let routeValue = entries["route"], let functionValue = entries["function"] else {
            throw item.error("missing 'route' or 'function'")
        }
        let text = try routeValue.string()
        var (method, path) = ("ANY", "$default")
        if text != "$default" {
            let parts = text.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 else { throw routeValue.error("expected 'METHOD /path' or $default") }
            (method, path) = (parts[0].uppercased(), String(parts[1]))
        }
        let function = try functionValue.string()
        guard functions.contains(function) else {
            throw functionValue.error(
                "unknown function '\(function)'; expected one of: \(functions.sorted().joined(separator: ", "))")
        }
        var route = HTTPRoute(method: method, path: path, function: function, file: item.file, line: item.line)
        if let cors = entries["cors"] { route.cors = try parseCORS(cors) }
        if let auth = entries["auth"] {
            for (_, keys) in try auth.mapping() {
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
        for (key, item) in try value.mapping() {
            switch key {
            case "maxAge": cors.maxAge = try item.int(in: Limits.corsMaxAge)
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

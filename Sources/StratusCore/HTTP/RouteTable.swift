import Foundation

/// Matches requests to routes the way API Gateway HTTP APIs do: the most specific route wins
/// (literal segments over `{param}` over a greedy `{proxy+}`, an exact method over `ANY`), and
/// `$default` catches what nothing else matched.
package struct RouteTable: Sendable {
    /// A matched route and the path parameters it bound.
    package struct Match: Sendable, Equatable {
        package var route: HTTPRoute
        package var pathParameters: [String: String]

        package init(route: HTTPRoute, pathParameters: [String: String]) {
            self.route = route
            self.pathParameters = pathParameters
        }
    }

    package let routes: [HTTPRoute]

    package init(routes: [HTTPRoute]) {
        self.routes = routes
    }

    /// Finds the route for `method` and `path` (the raw path, without the query).
    package func match(method: String, path: String) -> Match? {
        let requestSegments = path.split(separator: "/", omittingEmptySubsequences: true)
        var best: (score: [Int], match: Match)?
        for route in routes where route.path != "$default" {
            guard route.method == "ANY" || route.method == method.uppercased() else { continue }
            guard let (score, parameters) = Self.score(route.segments, requestSegments) else { continue }
            let ranked = score + [route.method == "ANY" ? 0 : 1]
            if best == nil || best!.score.lexicographicallyPrecedes(ranked) {
                best = (ranked, Match(route: route, pathParameters: parameters))
            }
        }
        if let best { return best.match }
        return routes.first { $0.path == "$default" }.map { Match(route: $0, pathParameters: [:]) }
    }

    /// Per-segment specificity (2 literal, 1 parameter, 0 greedy) when the route matches, else `nil`.
    private static func score(_ pattern: [Substring], _ request: [Substring]) -> ([Int], [String: String])? {
        var score: [Int] = []
        var parameters: [String: String] = [:]
        for (index, segment) in pattern.enumerated() {
            if segment.hasPrefix("{") && segment.hasSuffix("+}") {
                guard index < request.count else { return nil }
                let name = String(segment.dropFirst().dropLast(2))
                parameters[name] = request[index...].joined(separator: "/").removingPercentEncodingOrSelf
                score.append(0)
                return (score, parameters)
            }
            guard index < request.count else { return nil }
            if segment.hasPrefix("{") && segment.hasSuffix("}") {
                parameters[String(segment.dropFirst().dropLast())] =
                    String(request[index]).removingPercentEncodingOrSelf
                score.append(1)
            } else {
                guard segment == request[index] else { return nil }
                score.append(2)
            }
        }
        return pattern.count == request.count ? (score, parameters) : nil
    }
}

extension String {
    var removingPercentEncodingOrSelf: String { removingPercentEncoding ?? self }
}

import Foundation
import HTTPTypes
import Hummingbird

/// Who may drive the control plane.
///
/// A web page open in the user's browser must not: requests that carry a foreign `Origin` (or a
/// `Sec-Fetch-Site` other than `same-origin`) are refused, `Host` must name loopback or a name the user
/// allowed (no DNS rebinding), and `/v1` requests with a body must say `application/json` (which a page
/// cannot send cross-site without a preflight this server never answers). A control plane bound beyond
/// loopback requires a bearer token on every request but `/v1/health`.
package struct ControlExposure: Sendable {
    /// Required as `Authorization: Bearer TOKEN`, or as the access key id of an AWS SigV4 signature
    /// (`AWS_ACCESS_KEY_ID=TOKEN`) for the AWS clients. `nil`: no token (loopback only).
    package var token: String?
    /// `Host` names accepted besides loopback (`--allow-host`).
    package var allowedHosts: Set<String>

    package init(token: String? = nil, allowedHosts: Set<String> = []) {
        self.token = token
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
    }

    /// Whether `host` (an address to bind or a `Host` name, without port) is loopback.
    package static func isLoopback(_ host: String) -> Bool {
        // Runs on every control request: no Foundation character sets.
        var name = Substring(host.lowercased())
        while name.first == "[" { name = name.dropFirst() }
        while name.last == "]" { name = name.dropLast() }
        if name == "localhost" || name.hasSuffix(".localhost") || name == "::1" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// Whether binding to `host` keeps a listener on this machine: `localhost` or a numeric loopback address
    /// (a name such as `x.localhost` may resolve elsewhere, so it does not count).
    package static func isLoopbackBind(_ host: String) -> Bool {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return name == "localhost" || name == "::1" || (isLoopback(name) && !name.hasSuffix("localhost"))
    }

    /// The host name of an `authority` (`name:port`, `[v6]:port`).
    static func hostName(ofAuthority authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close])
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "")
    }

    /// Why `request` is refused, or `nil` when it may go on.
    func refusal(of request: Request) -> Refusal? {
        // As the router reads it: empty segments do not count (`//v1/topics` is `/v1/topics`).
        let raw = request.uri.path
        let path = Self.hasEmptySegments(raw) ? "/" + raw.split(separator: "/").joined(separator: "/") : raw
        let authority = request.head.authority ?? ""
        if let token {
            if path != "/v1/health", !DashboardController.staticPaths.contains(path),
                !Self.presents(token, request.headers[.authorization])
            {
                return Refusal(
                    .unauthorized, "MissingToken",
                    "this control plane needs its token: Authorization: Bearer TOKEN (stratus --token / STRATUS_TOKEN)")
            }
        } else if !authority.isEmpty {
            let name = Self.hostName(ofAuthority: authority).lowercased()
            if !Self.isLoopback(name), !allowedHosts.contains(name) {
                return Refusal(
                    .forbidden, "ForbiddenHost",
                    "Host '\(name.prefix(100))' is not loopback; allow it with --allow-host")
            }
        }
        // The page itself holds no data: a link from elsewhere may open it (framing is refused by its CSP).
        let page = DashboardController.staticPaths.contains(path) && (request.method == .get || request.method == .head)
        if page { return nil }
        if let origin = request.headers[.origin], origin != "http://\(authority)" {
            return Refusal(.forbidden, "ForbiddenOrigin", "requests from web pages of other origins are refused")
        }
        if let site = request.headers[.secFetchSite], site != "same-origin", site != "none" {
            return Refusal(.forbidden, "ForbiddenOrigin", "requests from web pages of other origins are refused")
        }
        if path.hasPrefix("/v1/"), request.method != .get, request.method != .head,
            !Self.isJSON(request.headers[.contentType]), !Self.isDeploy(request, path: path)
        {
            return Refusal(
                .unsupportedMediaType, "UnsupportedMediaType",
                "/v1 requests with a body must be Content-Type: application/json")
        }
        return nil
    }

    /// Whether `path` has an empty segment (`//`, no leading `/`, a trailing `/`) the router would drop.
    package static func hasEmptySegments(_ path: String) -> Bool {
        let bytes = path.utf8
        guard bytes.first == UInt8(ascii: "/") else { return true }
        if bytes.count == 1 { return false }
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == UInt8(ascii: "/") && previous == UInt8(ascii: "/") { return true }
            previous = byte
        }
        return previous == UInt8(ascii: "/")
    }

    /// `PUT /v1/functions/NAME` with a tar: like JSON, not a type a web page can send without asking first.
    static func isDeploy(_ request: Request, path: String) -> Bool {
        guard request.method == .put, path.hasPrefix("/v1/functions/"),
            let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
                .lowercased()
        else { return false }
        return type == "application/x-tar"
    }

    static func isJSON(_ contentType: String?) -> Bool {
        guard let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        else {
            return false
        }
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    /// `Bearer TOKEN`, or SigV4 `Credential=TOKEN/…`, compared in constant time.
    static func presents(_ token: String, _ authorization: String?) -> Bool {
        guard let authorization else { return false }
        var presented: Substring?
        if authorization.hasPrefix("Bearer ") {
            presented = authorization.dropFirst("Bearer ".count)
        } else if authorization.hasPrefix("AWS4-HMAC-SHA256"), let range = authorization.range(of: "Credential=") {
            presented = authorization[range.upperBound...].prefix { $0 != "/" && $0 != "," }
        }
        guard let presented else { return false }
        let a = Array(presented.utf8)
        let b = Array(token.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<b.count { difference |= b[index] ^ (index < a.count ? a[index] : 0) }
        return difference == 0
    }

    struct Refusal: Error {
        var status: HTTPResponse.Status
        var code: String
        var message: String

        init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
            self.status = status
            self.code = code
            self.message = message
        }
    }
}

/// Applies `ControlExposure` to every request of the control plane, answering a refusal in the shape of
/// the protocol the path belongs to (Lambda's for its API, the `/v1` error shape otherwise).
struct ControlExposureMiddleware<Context: RequestContext>: RouterMiddleware {
    let exposure: ControlExposure

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let refusal = exposure.refusal(of: request) else { return try await next(request, context) }
        if request.uri.path.hasPrefix("/2015-03-31/") {
            let type = refusal.status == .unauthorized ? "UnrecognizedClientException" : "AccessDeniedException"
            return LambdaFacade.error(refusal.status, type: type, body: ["Type": "User", "message": refusal.message])
        }
        return try APIError(refusal.status, code: refusal.code, message: refusal.message).response(
            from: request, context: context)
    }
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    /// What `stratus deploy` uploaded (its directory), kept with the revision.
    static let stratusSource = HTTPField.Name("X-Stratus-Source")!
}

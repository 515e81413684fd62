import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), as the `aws` CLI and boto3 call it.
enum LambdaFacade {
    static func register(on router: Router<ControlContext>, host: StratusHost) {
        router.post("/2015-03-31/functions/:name/invocations") { request, context in
            let raw = try context.parameters.require("name")
            let identifier = raw.removingPercentEncoding ?? raw
            if let problem = validationProblem(identifier) {
                return error(.badRequest, type: "ValidationException", body: ["message": problem])
            }
            var (name, qualifier) = functionName(from: identifier)
            qualifier = request.uri.queryParameters.get("Qualifier") ?? qualifier
            return try await invoke(request: request, name: name, qualifier: qualifier, host: host)
        }
    }

    /// Whether `path` is one of the Lambda API's (they start with an API version date, `/2015-03-31/`).
    static func isLambdaPath(_ path: String) -> Bool {
        let bytes = Array(path.utf8.prefix(12))
        guard bytes.count == 12, bytes[0] == UInt8(ascii: "/"), bytes[11] == UInt8(ascii: "/") else { return false }
        return bytes[1...10].enumerated().allSatisfy { index, byte in
            index == 4 || index == 7 ? byte == UInt8(ascii: "-") : (0x30...0x39).contains(byte)
        }
    }

    /// Lambda's answer to a function name no function can have (Lambda's pattern: up to 64 letters, digits,
    /// hyphens or underscores, a qualifier of up to 128), before looking it up; `nil` if the form is valid.
    static func validationProblem(_ identifier: String) -> String? {
        let (name, qualifier) = functionName(from: identifier)
        func word(_ text: String, _ limit: Int, dollar: Bool = false) -> Bool {
            (1...limit).contains(text.utf8.count)
                && text.utf8.allSatisfy { c in
                    (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x2D
                        || c == 0x5F || (dollar && c == 0x24)
                }
        }
        guard identifier.utf8.count > 170 || !word(name, 64) || !(qualifier.map { word($0, 128, dollar: true) } ?? true)
        else { return nil }
        return
            "1 validation error detected: Value '\(identifier.prefix(200))' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
    }

    /// Accepts `name`, `name:qualifier`, a partial ARN `acct:function:name` or a full ARN.
    static func functionName(from identifier: String) -> (name: String, qualifier: String?) {
        var rest = Substring(identifier)
        if let range = identifier.range(of: "function:") { rest = identifier[range.upperBound...] }
        let parts = rest.split(separator: ":", maxSplits: 1)
        return (String(parts.first ?? rest), parts.count > 1 ? String(parts[1]) : nil)
    }

    private static func invoke(request: Request, name: String, qualifier: String?, host: StratusHost) async throws
        -> Response
    {
        do {
            // Stratus runs one version of each function, `$LATEST`; any other qualifier does not exist, as in Lambda.
            guard let function = host.dispatcher.function(named: name), qualifier == nil || qualifier == "$LATEST"
            else {
                throw Failure.notFound(AWS.lambdaArn(name) + (qualifier.map { ":\($0)" } ?? ""))
            }
            let payload = try await Self.payload(request)
            switch request.headers[.amzInvocationType] ?? "RequestResponse" {
            case "RequestResponse":
                let clientContext = request.headers[.amzClientContext].flatMap {
                    Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) }
                }
                let result = try await host.dispatcher.invoke(
                    function.name, payload: payload, origin: .init(trigger: .invokeAPI), clientContext: clientContext)
                return try answer(result, tail: request.headers[.amzLogType] == "Tail")
            case "DryRun":
                return Response(status: .noContent, headers: [.amznRequestId: RequestID.make()])
            case "Event":
                guard payload.readableBytes <= Limits.asyncPayloadBytes else {
                    throw Failure.tooLarge(
                        "Request must be smaller than \(Limits.asyncPayloadBytes) bytes for an Event invocation")
                }
                let eventId = try await host.invokeAsync(function.name, payload: String(buffer: payload))
                return Response(status: .accepted, headers: [.amznRequestId: eventId])
            case let other:
                throw Failure(
                    .badRequest, "InvalidParameterValueException",
                    ["message": "Unsupported X-Amz-Invocation-Type '\(other)'"])
            }
        } catch let failure as Failure {
            return error(failure.status, type: failure.type, body: failure.body.merging(["Type": "User"]) { a, _ in a })
        } catch let failure as StoreError where failure.code == .unavailable {
            // An Event invoke could not be committed: nothing was accepted, the client retries the 503.
            return error(
                .serviceUnavailable, type: "ServiceException", body: ["Type": "Service", "message": failure.message])
        }
    }

    /// The event: JSON of at most 6 MB (`{}` when empty).
    private static func payload(_ request: Request) async throws -> ByteBuffer {
        var payload: ByteBuffer
        do {
            payload = try await request.collectBody(upTo: Limits.syncPayloadBytes)
        } catch {
            throw Failure.tooLarge(
                "Request must be smaller than \(Limits.syncPayloadBytes) bytes for the InvokeFunction operation")
        }
        if payload.readableBytes == 0 { payload = ByteBuffer(string: "{}") }
        guard JSONWriter.isJSON(payload.readableBytesView) else {
            throw Failure(
                .badRequest, "InvalidRequestContentException",
                ["message": "Could not parse request body into json: Unexpected character"])
        }
        return payload
    }

    /// Lambda's answer to a synchronous invoke: the payload with its headers, or a throttle.
    private static func answer(_ result: Dispatcher.Result, tail: Bool) throws -> Response {
        let record = result.record
        switch record.status {
        case .throttled:
            throw Failure(
                .tooManyRequests, "TooManyRequestsException",
                ["message": "Rate Exceeded.", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"])
        case .rejected:
            var response = error(
                .tooManyRequests, type: "TooManyRequestsException",
                body: [
                    "Type": "User", "message": record.errorMessage ?? "circuit breaker open",
                    "Reason": "CircuitBreakerOpen",
                ])
            if let wait = result.retryAfterSeconds { response.headers[.retryAfter] = String(wait) }
            return response
        default:
            var headers: HTTPFields = [
                .contentType: "application/json", .amzExecutedVersion: record.version, .amznRequestId: record.id,
            ]
            if record.status != .ok { headers[.amzFunctionError] = "Unhandled" }
            if tail { headers[.amzLogResult] = Data(record.lambdaLog.utf8.suffix(4096)).base64EncodedString() }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: result.payload))
        }
    }

    /// A Lambda API error: its status, `x-amzn-ErrorType` and body fields.
    private struct Failure: Error {
        var status: HTTPResponse.Status
        var type: String
        var body: [String: String]

        init(_ status: HTTPResponse.Status, _ type: String, _ body: [String: String]) {
            self.status = status
            self.type = type
            self.body = body
        }

        static func notFound(_ arn: String) -> Failure {
            Failure(.notFound, "ResourceNotFoundException", ["Message": "Function not found: \(arn)"])
        }

        static func tooLarge(_ message: String) -> Failure {
            Failure(.contentTooLarge, "RequestTooLargeException", ["message": message])
        }
    }

    /// Lambda's error shape: `x-amzn-ErrorType` plus a JSON body.
    static func error(_ status: HTTPResponse.Status, type: String, body: [String: String]) -> Response {
        let data = (try? V1.encoder.encode(body)) ?? Data()
        return Response(
            status: status,
            headers: [.contentType: "application/json", .amznErrorType: type],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension HTTPField.Name {
    static let amzInvocationType = HTTPField.Name("X-Amz-Invocation-Type")!
    static let amznRequestId = HTTPField.Name("x-amzn-RequestId")!
    static let amzClientContext = HTTPField.Name("X-Amz-Client-Context")!
    static let amzExecutedVersion = HTTPField.Name("X-Amz-Executed-Version")!
    static let amzFunctionError = HTTPField.Name("X-Amz-Function-Error")!
    static let amzLogType = HTTPField.Name("X-Amz-Log-Type")!
    static let amzLogResult = HTTPField.Name("X-Amz-Log-Result")!
    static let amznErrorType = HTTPField.Name("x-amzn-ErrorType")!
}

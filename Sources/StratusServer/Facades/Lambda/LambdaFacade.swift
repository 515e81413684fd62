import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime

/// Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), as the `aws` CLI and boto3 call it.
enum LambdaFacade {
    static func register(on router: Router<ControlContext>, host: StratusHost) {
        router.post("/2015-03-31/functions/:name/invocations") { request, context in
            let raw = try context.parameters.require("name")
            var (name, qualifier) = functionName(from: raw.removingPercentEncoding ?? raw)
            qualifier = request.uri.queryParameters.get("Qualifier") ?? qualifier
            return try await invoke(request: request, name: name, qualifier: qualifier, host: host)
        }
    }

    /// Accepts `name`, `name:qualifier`, a partial ARN `acct:function:name` or a full ARN.
    static func functionName(from identifier: String) -> (name: String, qualifier: String?) {
        var rest = Substring(identifier)
        if let range = identifier.range(of: "function:") { rest = identifier[range.upperBound...] }
        let parts = rest.split(separator: ":", maxSplits: 1)
        return (String(parts.first ?? rest), parts.count > 1 ? String(parts[1]) : nil)
    }

    private static func invoke(request: Request, name: String, qualifier: String?, host: StratusHost) async throws -> Response {
        // Stratus runs one version of each function, `$LATEST`; any other qualifier does not exist, as in Lambda.
        guard let function = host.dispatcher.function(named: name), qualifier == nil || qualifier == "$LATEST" else {
            let arn = "arn:aws:lambda:\(AWS.region):\(AWS.accountId):function:\(name)"
                + (qualifier.map { ":\($0)" } ?? "")
            return error(.notFound, type: "ResourceNotFoundException", body: ["Type": "User", "Message": "Function not found: \(arn)"])
        }
        var payload: ByteBuffer
        do {
            payload = try await request.body.collect(upTo: Limits.syncPayloadBytes)
        } catch {
            return self.error(.contentTooLarge, type: "RequestTooLargeException", body: [
                "Type": "User", "message": "Request must be smaller than \(Limits.syncPayloadBytes) bytes for the InvokeFunction operation",
            ])
        }
        if payload.readableBytes == 0 { payload = ByteBuffer(string: "{}") }
        guard JSONWriter.isJSON(payload.readableBytesView) else {
            return error(.badRequest, type: "InvalidRequestContentException", body: [
                "Type": "User", "message": "Could not parse request body into json: Unexpected character",
            ])
        }
        switch request.headers[.amzInvocationType] ?? "RequestResponse" {
        case "RequestResponse": break
        case "DryRun": return Response(status: .noContent, headers: [.amznRequestId: UUID().uuidString.lowercased()])
        case "Event":
            guard payload.readableBytes <= Limits.asyncPayloadBytes else {
                return error(.contentTooLarge, type: "RequestTooLargeException", body: [
                    "Type": "User", "message": "Request must be smaller than 1048576 bytes for an Event invocation",
                ])
            }
            let eventId = try await host.invokeAsync(function.name, payload: String(buffer: payload))
            return Response(status: .accepted, headers: [.amznRequestId: eventId])
        case let other:
            return error(.badRequest, type: "InvalidParameterValueException", body: [
                "Type": "User", "message": "Unsupported X-Amz-Invocation-Type '\(other)'",
            ])
        }
        let clientContext = request.headers[.amzClientContext].flatMap {
            Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) }
        }
        let result = try await host.dispatcher.invoke(
            function.name, payload: payload, origin: .init(trigger: .invokeAPI), clientContext: clientContext)
        let record = result.record
        if record.status == .throttled {
            return error(.tooManyRequests, type: "TooManyRequestsException", body: [
                "Type": "User", "message": "Rate Exceeded.", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
            ])
        }
        if record.status == .rejected {
            var response = error(.tooManyRequests, type: "TooManyRequestsException", body: [
                "Type": "User", "message": record.errorMessage ?? "circuit breaker open", "Reason": "CircuitBreakerOpen",
            ])
            if let wait = result.retryAfterSeconds { response.headers[.retryAfter] = String(wait) }
            return response
        }
        var headers: HTTPFields = [
            .contentType: "application/json",
            .amzExecutedVersion: record.version,
            .amznRequestId: record.id,
        ]
        if record.status != .ok { headers[.amzFunctionError] = "Unhandled" }
        if request.headers[.amzLogType] == "Tail" {
            let log = Array(record.lambdaLog.utf8.suffix(4096))
            headers[.amzLogResult] = Data(log).base64EncodedString()
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: result.payload))
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

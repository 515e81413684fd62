import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// Lambda's read API (ListFunctions, GetFunction, GetFunctionConfiguration) and its event source mappings
/// for SQS queues. A mapping is the queue's consumer, the same one `consumer:` declares in a trigger file:
/// made here it is durable and runs at once; declared there it is listed here but changed only in its file.
enum LambdaFunctionsAPI {
    static func register(on router: Router<ControlContext>, host: StratusHost) {
        router.get("/2015-03-31/functions") { request, _ in
            await answer(request) { info in
                let functions = host.dispatcher.allPools().map(\.function).sorted { $0.name < $1.name }
                let (page, next) = try page(
                    functions.map(\.name), marker: request.uri.queryParameters.get("Marker"),
                    max: request.uri.queryParameters.get("MaxItems"))
                var fields: [(String, AWSShape)] = [
                    (
                        "Functions",
                        .list(
                            member: "member", flattened: false,
                            page.compactMap { name in functions.first { $0.name == name } }.map {
                                configuration($0, info)
                            })
                    )
                ]
                if let next { fields.append(("NextMarker", .string(next))) }
                return (.ok, .structure(fields))
            }
        }
        router.get("/2015-03-31/functions/:name") { request, context in
            let name = try context.parameters.decoded("name")
            return await answer(request) { info in
                let function = try function(name, host, qualifier: request.uri.queryParameters.get("Qualifier"))
                return (
                    .ok,
                    .structure([
                        ("Configuration", configuration(function, info)),
                        (
                            "Code",
                            .structure([("RepositoryType", .string("S3")), ("Location", .string(function.directory))])
                        ),
                        ("Tags", .structure([])),
                    ])
                )
            }
        }
        router.get("/2015-03-31/functions/:name/configuration") { request, context in
            let name = try context.parameters.decoded("name")
            return await answer(request) { info in
                let qualifier = request.uri.queryParameters.get("Qualifier")
                return (.ok, configuration(try function(name, host, qualifier: qualifier), info))
            }
        }
        LambdaPermissions.register(on: router, host: host)
        router.post("/2015-03-31/event-source-mappings") { request, _ in
            await answer(request) { info in try await EventSourceMappings(host: host, info: info).create(request) }
        }
        router.get("/2015-03-31/event-source-mappings") { request, _ in
            await answer(request) { info in try EventSourceMappings(host: host, info: info).list(request) }
        }
        router.get("/2015-03-31/event-source-mappings/:uuid") { request, context in
            let uuid = try context.parameters.decoded("uuid")
            return await answer(request) { info in
                let mappings = EventSourceMappings(host: host, info: info)
                return (.ok, mappings.shape(try mappings.find(uuid)))
            }
        }
        router.put("/2015-03-31/event-source-mappings/:uuid") { request, context in
            let uuid = try context.parameters.decoded("uuid")
            return await answer(request) { info in
                try await EventSourceMappings(host: host, info: info).update(uuid, request)
            }
        }
        router.delete("/2015-03-31/event-source-mappings/:uuid") { request, context in
            let uuid = try context.parameters.decoded("uuid")
            return await answer(request) { info in try await EventSourceMappings(host: host, info: info).delete(uuid) }
        }
    }

    /// Runs `body`, answering its shape as Lambda's JSON, or its error in Lambda's error shape.
    static func answer(
        _ request: Request,
        _ body: (AWSRequestInfo) async throws -> (HTTPResponse.Status, AWSShape)
    ) async -> Response {
        let info = AWSRequestInfo(request)
        do {
            let (status, shape) = try await body(info)
            return Response(
                status: status, headers: [.contentType: "application/json", .amznRequestId: info.requestId],
                body: status == .noContent ? .init() : .init(byteBuffer: ByteBuffer(bytes: shape.json)))
        } catch let error as LambdaError {
            var response = LambdaFacade.error(
                error.status, type: error.type, body: ["Type": "User", "message": error.message])
            response.headers[.amznRequestId] = info.requestId
            return response
        } catch let error as AWSInput.WrongType {
            return LambdaFacade.error(
                .badRequest, type: "InvalidParameterValueException", body: ["Type": "User", "message": error.message])
        } catch let error as QueueService.QueueError {
            let status: HTTPResponse.Status = error.code == .notFound ? .notFound : .badRequest
            let type = error.code == .notFound ? "ResourceNotFoundException" : "InvalidParameterValueException"
            return LambdaFacade.error(status, type: type, body: ["Type": "User", "message": error.message])
        } catch let error as StoreError where error.code == .unavailable {
            return LambdaFacade.error(
                .serviceUnavailable, type: "ServiceException", body: ["Type": "Service", "message": error.message])
        } catch {
            return LambdaFacade.error(
                .internalServerError, type: "ServiceException", body: ["Type": "Service", "message": "\(error)"])
        }
    }

    /// The loaded function `identifier` names (name, `name:$LATEST` or an ARN); another qualifier, in the name
    /// or as `Qualifier`, is a version or alias Stratus does not have.
    static func function(_ identifier: String, _ host: StratusHost, qualifier given: String? = nil) throws
        -> DeployedFunction
    {
        if let problem = LambdaFacade.validationProblem(identifier) {
            throw LambdaError(.badRequest, "ValidationException", problem)
        }
        var (name, qualifier) = LambdaFacade.functionName(from: identifier)
        qualifier = given ?? qualifier
        guard let function = host.dispatcher.function(named: name), qualifier == nil || qualifier == "$LATEST" else {
            throw LambdaError(
                .notFound, "ResourceNotFoundException",
                "Function not found: \(AWS.lambdaArn(name))\(qualifier.map { ":\($0)" } ?? "")")
        }
        return function
    }

    /// Lambda's `FunctionConfiguration` of a loaded function.
    static func configuration(_ function: DeployedFunction, _ info: AWSRequestInfo) -> AWSShape {
        let config = function.config
        let runtime =
            switch config.runtime {
            case .python: "python3"
            case .node: "nodejs"
            case .provided: "provided"
            }
        let timeoutMs = config.timeout.milliseconds
        var fields: [(String, AWSShape)] = [
            ("FunctionName", .string(function.name)),
            ("FunctionArn", .string("arn:aws:lambda:\(info.region):\(AWS.accountId):function:\(function.name)")),
            ("Runtime", .string(runtime)), ("Role", .string("arn:aws:iam::\(AWS.accountId):role/stratus")),
            ("Handler", .string(config.handler)), ("CodeSize", .number(0)), ("Description", .string("")),
            ("Timeout", .number(Swift.max(1, (timeoutMs + 999) / 1000))),
            ("MemorySize", .number(Int64(config.memoryMB))),
            ("CodeSha256", .string(function.revision)), ("Version", .string(function.version)),
            ("State", .string("Active")), ("LastUpdateStatus", .string("Successful")), ("PackageType", .string("Zip")),
            ("Architectures", .list(member: "member", flattened: false, [.string("x86_64")])),
            ("LastModified", .string(lastModified(function))), ("RevisionId", .string(revisionId(function))),
            ("TracingConfig", .structure([("Mode", .string("PassThrough"))])),
            ("EphemeralStorage", .structure([("Size", .number(512))])),
            (
                "LoggingConfig",
                .structure([("LogFormat", .string("Text")), ("LogGroup", .string("/aws/lambda/\(function.name)"))])
            ),
            ("SnapStart", .structure([("ApplyOn", .string("None")), ("OptimizationStatus", .string("Off"))])),
        ]
        if !config.environment.isEmpty {
            fields.append(
                (
                    "Environment",
                    .structure([
                        (
                            "Variables",
                            .strings(config.environment, entry: "entry", flattened: false, key: "key", value: "value")
                        )
                    ])
                ))
        }
        return .structure(fields)
    }

    /// When the function's code last changed, in Lambda's format (`2024-01-01T00:00:00.000+0000`): its
    /// manifest's modification time.
    static func lastModified(_ function: DeployedFunction) -> String {
        let manifest = URL(fileURLWithPath: function.directory).appendingPathComponent("function.yaml").path
        let modified =
            (try? FileManager.default.attributesOfItem(atPath: manifest)[.modificationDate] as? Date) ?? Date()
        let seconds = modified.timeIntervalSince1970
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int((seconds - seconds.rounded(.down)) * 1000)
        let fraction = String(repeating: "0", count: millis < 10 ? 2 : millis < 100 ? 1 : 0) + "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):"
            + "\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)+0000"
    }

    /// A UUID that changes when the code does (Lambda's `RevisionId`), from the code's revision.
    static func revisionId(_ function: DeployedFunction) -> String {
        let hex = Array(MessageDigest.sha256(function.name + "/" + function.revision).prefix(32))
        return [hex[0..<8], hex[8..<12], hex[12..<16], hex[16..<20], hex[20..<32]].map { String($0) }
            .joined(separator: "-")
    }

    /// A page of `items` after `marker` (the last item of the previous page), at most `max` (default 50).
    static func page(_ items: [String], marker: String?, max: String?) throws -> (page: [String], next: String?) {
        var limit = 50
        if let max {
            guard let value = Int(max), (1...10_000).contains(value) else {
                throw LambdaError(.badRequest, "InvalidParameterValueException", "MaxItems must be between 1 and 10000")
            }
            limit = value
        }
        // In order, and after the marker by value: a marker stays good when its item is deleted meanwhile.
        var rest = items.sorted()[...]
        if let marker { rest = rest.drop { $0 <= marker } }
        let page = Array(rest.prefix(limit))
        return (page, rest.count > limit ? page.last : nil)
    }
}

/// A Lambda API error: status, `x-amzn-ErrorType` and message.
struct LambdaError: Error {
    var status: HTTPResponse.Status
    var type: String
    var message: String

    init(_ status: HTTPResponse.Status, _ type: String, _ message: String) {
        self.status = status
        self.type = type
        self.message = message
    }

    static func invalid(_ message: String) -> LambdaError {
        LambdaError(.badRequest, "InvalidParameterValueException", message)
    }

    /// A request body past the control port's limit, as Lambda answers one.
    static let tooLarge = LambdaError(
        .contentTooLarge, "RequestTooLargeException",
        "Request must be smaller than \(Limits.awsRequestBytes) bytes for the operation")
}

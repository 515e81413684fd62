import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime
import Synchronization

/// Lambda's resource policy (AddPermission, GetPolicy, RemovePermission), which the AWS tutorials call before
/// subscribing a function to a topic. Stratus has no IAM: every caller may invoke every function, so the
/// statements are kept (in this host's memory, until it stops: not shared with the other hosts of a cluster)
/// and shown, never enforced.
enum LambdaPermissions {
    private struct Statement: Sendable {
        var sid: String
        var json: String
    }

    /// Statements by function name, in the order they were added.
    private static let policies = Mutex<[String: [Statement]]>([:])

    /// Lambda's limit on a function's resource policy (20 KB), and the bytes of GetPolicy's document around the
    /// statements.
    static let maxPolicyBytes = 20_480
    private static let policyFrame = #"{"Version":"2012-10-17","Id":"default","Statement":[]}"#.utf8.count

    static func register(on router: Router<ControlContext>, host: StratusHost) {
        router.post("/2015-03-31/functions/:name/policy") { request, context in
            let name = try context.parameters.decoded("name")
            return await LambdaFunctionsAPI.answer(request) { info in
                try await add(request, name: name, host: host, info: info)
            }
        }
        router.get("/2015-03-31/functions/:name/policy") { request, context in
            let name = try context.parameters.decoded("name")
            return await LambdaFunctionsAPI.answer(request) { info in
                let function = try LambdaFunctionsAPI.function(
                    name, host, qualifier: request.uri.queryParameters.get("Qualifier"))
                let statements = policies.withLock { $0[function.name] ?? [] }
                guard !statements.isEmpty else {
                    throw LambdaError(
                        .notFound, "ResourceNotFoundException", "The resource you requested does not exist.")
                }
                let policy =
                    #"{"Version":"2012-10-17","Id":"default","Statement":["#
                    + statements.map(\.json).joined(separator: ",") + "]}"
                return (
                    .ok,
                    .structure([
                        ("Policy", .string(policy)), ("RevisionId", .string(LambdaFunctionsAPI.revisionId(function))),
                    ])
                )
            }
        }
        router.delete("/2015-03-31/functions/:name/policy/:sid") { request, context in
            let name = try context.parameters.decoded("name")
            let sid = try context.parameters.decoded("sid")
            return await LambdaFunctionsAPI.answer(request) { _ in
                let function = try LambdaFunctionsAPI.function(
                    name, host, qualifier: request.uri.queryParameters.get("Qualifier"))
                let removed = policies.withLock { policies in
                    let before = policies[function.name]?.count ?? 0
                    policies[function.name]?.removeAll { $0.sid == sid }
                    return (policies[function.name]?.count ?? 0) < before
                }
                guard removed else {
                    throw LambdaError(
                        .notFound, "ResourceNotFoundException",
                        "Statement \(sid.prefix(100)) is not found in resource policy.")
                }
                return (.noContent, .structure([]))
            }
        }
    }

    private static func add(_ request: Request, name: String, host: StratusHost, info: AWSRequestInfo) async throws
        -> (HTTPResponse.Status, AWSShape)
    {
        let function = try LambdaFunctionsAPI.function(
            name, host, qualifier: request.uri.queryParameters.get("Qualifier"))
        guard let buffer = await collectBody(request) else { throw LambdaError.tooLarge }
        guard let fields = JSONValue.parseObject(buffer.readableBytesView) else {
            throw LambdaError(.badRequest, "InvalidRequestContentException", "Could not parse request body into json")
        }
        let input = AWSInput(fields)
        guard let sid = try input.string("StatementId"), (1...100).contains(sid.utf8.count),
            sid.utf8.allSatisfy({
                $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0)
                    || (0x61...0x7A).contains($0)
            })
        else {
            throw LambdaError.invalid("StatementId must be 1 to 100 letters, digits, '-' or '_'")
        }
        guard let action = try input.string("Action"), action.lowercased().hasPrefix("lambda:") else {
            throw LambdaError.invalid("Action must be a Lambda action, such as lambda:InvokeFunction")
        }
        guard let principal = try input.string("Principal"), !principal.isEmpty else {
            throw LambdaError.invalid("Principal is required")
        }
        var statement = JSONWriter()
        statement.beginObject()
        statement.field("Sid", sid)
        statement.field("Effect", "Allow")
        // As Lambda writes them: `*` as is, a service by name, an account as its root user.
        if principal == "*" {
            statement.field("Principal", "*")
        } else {
            statement.key("Principal")
            statement.beginObject()
            if principal.hasSuffix(".amazonaws.com") {
                statement.field("Service", principal)
            } else if AWS.isAccountId(principal) {
                statement.field("AWS", "arn:aws:iam::\(principal):root")
            } else {
                statement.field("AWS", principal)
            }
            statement.endObject()
        }
        statement.field("Action", action)
        statement.field("Resource", "arn:aws:lambda:\(info.region):\(AWS.accountId):function:\(function.name)")
        var conditions: [(String, String, String)] = []
        if let source = try input.string("SourceArn") { conditions.append(("ArnLike", "AWS:SourceArn", source)) }
        if let account = try input.string("SourceAccount") {
            conditions.append(("StringEquals", "AWS:SourceAccount", account))
        }
        if !conditions.isEmpty {
            statement.key("Condition")
            statement.beginObject()
            for (test, key, value) in conditions {
                statement.key(test)
                statement.beginObject()
                statement.field(key, value)
                statement.endObject()
            }
            statement.endObject()
        }
        statement.endObject()
        let json = String(decoding: statement.bytes, as: UTF8.self)
        enum Outcome { case added, exists, tooLong(Int) }
        let outcome = policies.withLock { policies -> Outcome in
            let statements = policies[function.name] ?? []
            guard !statements.contains(where: { $0.sid == sid }) else { return .exists }
            // Lambda's limit on a function's policy, as GetPolicy shows it.
            let size = Self.policyFrame + statements.reduce(json.utf8.count) { $0 + $1.json.utf8.count + 1 }
            guard size <= Self.maxPolicyBytes else { return .tooLong(size) }
            policies[function.name, default: []].append(Statement(sid: sid, json: json))
            return .added
        }
        switch outcome {
        case .added: break
        case .exists:
            throw LambdaError(
                .conflict, "ResourceConflictException",
                "The statement id (\(sid)) provided already exists. Please choose a new statement id, or remove the existing statement."
            )
        case .tooLong(let size):
            throw LambdaError(
                .badRequest, "PolicyLengthExceededException",
                "The final policy size (\(size)) is bigger than the limit (\(Self.maxPolicyBytes)).")
        }
        return (.created, .structure([("Statement", .string(json))]))
    }
}

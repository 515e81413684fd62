import Foundation
import Hummingbird
import StratusCore
import StratusRuntime

/// Where SQS and SNS requests arrive on the control port: `POST /` (both services, both SQS protocols)
/// and, for SQS's query protocol, the queue URL itself (`POST /<account>/<queue>`, or LocalStack's
/// `/queue/<region>/<account>/<queue>`). The service is told
/// by `X-Amz-Target` (SQS JSON), then the SigV4 credential scope, then the query `Version`, then the action.
enum AWSRouter {
    static func register(on router: Router<ControlContext>, host: StratusHost) {
        // POST only: a query-protocol GET would let any page that can make the browser load a URL act.
        router.post("/") { request, _ in await handle(request, queuePath: nil, host: host) }
        router.post("/:account/:queue") { request, context in
            let account = try context.parameters.require("account")
            guard !account.isEmpty, account.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw HTTPError(.notFound)
            }
            let queue = try context.parameters.decoded("queue")
            return await handle(request, queuePath: "/\(account)/\(queue)", host: host)
        }
        // The path of a queue URL that LocalStack minted (`/queue/<region>/<account>/<queue>`).
        router.post("/queue/:region/:account/:queue") { request, context in
            let queue = try context.parameters.decoded("queue")
            return await handle(request, queuePath: "/\(AWS.accountId)/\(queue)", host: host)
        }
    }

    private static func handle(_ request: Request, queuePath: String?, host: StratusHost) async -> Response {
        if let target = request.headers[.amzTarget] {
            if target.hasPrefix("AmazonSQS.") { return await SQSFacade.handleJSON(request, target: target, host: host) }
            var body = JSONWriter()
            body.beginObject()
            body.field("__type", "UnknownOperationException")
            body.field(
                "message",
                "Stratus answers AmazonSQS.* on this port (SNS uses the query protocol); '\(target.prefix(100))' is not known"
            )
            body.endObject()
            return Response(
                status: .badRequest,
                headers: [
                    .contentType: "application/x-amz-json-1.0", .amznErrorType: "UnknownOperationException",
                    .amznRequestId: RequestID.make(),
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: body.bytes)))
        }
        var parameters = QueryParameters(request.uri.query.map { Substring($0) } ?? "")
        if request.method == .post {
            guard let body = await collectBody(request) else {
                return XML.error(
                    namespace: SQSFacade.namespace, status: .contentTooLarge, code: "RequestTooLarge",
                    message: "The request body exceeds \(Limits.awsRequestBytes) bytes.", requestId: RequestID.make())
            }
            guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
                return XML.error(
                    namespace: SQSFacade.namespace, status: .badRequest, code: "MalformedQueryString",
                    message: "The request body is not valid UTF-8.", requestId: RequestID.make())
            }
            parameters = QueryParameters(merging: parameters, with: QueryParameters(Substring(text)))
        }
        if let name = parameters.undecodable {
            return XML.error(
                namespace: SQSFacade.namespace, status: .badRequest, code: "MalformedQueryString",
                message: "Parameter \(name) is not percent-encoded UTF-8.", requestId: RequestID.make())
        }
        let info = AWSRequestInfo(request)
        let isSNS: Bool =
            switch info.service {
            case "sns": true
            case "sqs": false
            default:
                switch parameters["Version"] {
                case SNSFacade.queryVersion: true
                case SQSFacade.queryVersion: false
                default: queuePath == nil && SNSFacade.actions.contains(parameters["Action"] ?? "")
                }
            }
        if isSNS { return await SNSFacade.handle(request, parameters: parameters, host: host) }
        return await SQSFacade.handleQuery(request, parameters: parameters, queuePath: queuePath, host: host)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// SQS on the control port, in both protocols clients speak, detected per request: AWS JSON 1.0
/// (`X-Amz-Target: AmazonSQS.<Op>`, what current botocore and the aws CLI send) and the query protocol
/// (form `Action=<Op>`, XML answers). Both read into one `AWSInput` and run the same operation; errors come
/// back in the request's protocol (`__type` + `x-amzn-query-error`, or an XML `ErrorResponse`).
enum SQSFacade {
    static let namespace = "http://queue.amazonaws.com/doc/2012-11-05/"
    static let queryVersion = "2012-11-05"

    /// A JSON-protocol request (`X-Amz-Target: AmazonSQS.<Op>`).
    static func handleJSON(_ request: Request, target: String, host: StratusHost) async -> Response {
        let info = AWSRequestInfo(request)
        let action = String(target.dropFirst("AmazonSQS.".count))
        do {
            guard let buffer = await collectBody(request) else {
                throw SQSError(
                    type: "RequestTooLarge", code: "RequestTooLarge",
                    message: "The request body exceeds \(Limits.awsRequestBytes) bytes.", status: .contentTooLarge)
            }
            let fields: [String: JSONValue]
            if buffer.readableBytes == 0 {
                fields = [:]
            } else {
                guard
                    let decoded = JSONValue.parseObject(buffer.readableBytesView)
                else {
                    throw SQSError(
                        type: "SerializationException", code: "SerializationException",
                        message: "The request body is not a JSON object.")
                }
                fields = decoded
            }
            let operations = SQSOperations(host: host, info: info)
            let result = try await operations.perform(action, AWSInput(fields))
            return Response(
                status: .ok,
                headers: [.contentType: "application/x-amz-json-1.0", .amznRequestId: info.requestId],
                body: .init(byteBuffer: ByteBuffer(bytes: (result ?? .structure([])).json)))
        } catch {
            let failure = SQSError(error)
            var body = JSONWriter()
            body.beginObject()
            body.field("__type", "com.amazonaws.sqs#\(failure.type)")
            body.field("message", failure.message)
            body.endObject()
            return Response(
                status: failure.status,
                headers: [
                    .contentType: "application/x-amz-json-1.0", .amznRequestId: info.requestId,
                    .amznQueryError: "\(failure.code);Sender", .amznErrorType: "com.amazonaws.sqs#\(failure.type)",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: body.bytes)))
        }
    }

    /// A query-protocol request, its parameters already read; `queuePath` is the queue a request POSTed to
    /// a queue URL (`/<account>/<name>`) names.
    static func handleQuery(
        _ request: Request, parameters: QueryParameters, queuePath: String?, host: StratusHost
    ) async -> Response {
        let info = AWSRequestInfo(request)
        let action = parameters["Action"] ?? ""
        do {
            var input = try Self.input(from: parameters)
            if input["QueueUrl"] == nil, let queuePath { input.fields["QueueUrl"] = .string(queuePath) }
            let result = try await SQSOperations(host: host, info: info).perform(action, input)
            return XML.response(action: action, namespace: namespace, result: result, requestId: info.requestId)
        } catch {
            let failure = SQSError(error)
            return XML.error(
                namespace: namespace, status: failure.status, code: failure.code, message: failure.message,
                requestId: info.requestId)
        }
    }

    /// The query protocol's flattened parameters (`Attribute.1.Name`, `MessageAttribute.1.Value.StringValue`,
    /// `SendMessageBatchRequestEntry.1.Id`, …) in the JSON protocol's shape.
    static func input(from parameters: QueryParameters) throws(QueryParameters.Malformed) -> AWSInput {
        var fields: [String: JSONValue] = [:]
        var handled: Set<String> = []
        func pairs(_ prefix: String, key: String, value: String) throws(QueryParameters.Malformed) -> JSONValue {
            var object: [String: JSONValue] = [:]
            for (index, member) in try parameters.members(prefix).enumerated() {
                guard let name = member[key] else {
                    throw QueryParameters.Malformed(message: "\(prefix).\(index + 1).\(key) is required.")
                }
                object[name] = .string(member[value] ?? "")
            }
            return .object(object)
        }
        func list(_ prefix: String) throws(QueryParameters.Malformed) -> JSONValue {
            .array(try parameters.members(prefix).compactMap { $0[""].map(JSONValue.string) })
        }
        for name in parameters.values.keys {
            let head = String(name.prefix { $0 != "." })
            guard handled.insert(head).inserted else { continue }
            switch head {
            case "Attribute": fields["Attributes"] = try pairs("Attribute", key: "Name", value: "Value")
            case "Tag": fields["Tags"] = try pairs("Tag", key: "Key", value: "Value")
            case "TagKey": fields["TagKeys"] = try list("TagKey")
            case "AttributeName", "MessageAttributeName", "MessageSystemAttributeName":
                fields[head + "s"] = try list(head)
            case "MessageAttribute", "MessageSystemAttribute":
                fields[head + "s"] = try messageAttributes(parameters, head)
            case _ where head.hasSuffix("RequestEntry"):
                var entries: [JSONValue] = []
                for member in try parameters.members(head) {
                    entries.append(.object(try Self.input(from: member).fields))
                }
                fields["Entries"] = .array(entries)
            default:
                if name == head, let value = parameters[name] { fields[name] = .string(value) }
            }
        }
        return AWSInput(fields)
    }

    private static func messageAttributes(_ parameters: QueryParameters, _ prefix: String)
        throws(QueryParameters.Malformed) -> JSONValue
    {
        var object: [String: JSONValue] = [:]
        for (index, member) in try parameters.members(prefix).enumerated() {
            guard let name = member["Name"] else {
                throw QueryParameters.Malformed(message: "\(prefix).\(index + 1).Name is required.")
            }
            var value: [String: JSONValue] = [:]
            for key in ["DataType", "StringValue", "BinaryValue"] {
                if let text = member["Value.\(key)"] { value[key] = .string(text) }
            }
            object[name] = .object(value)
        }
        return .object(object)
    }
}

/// An SQS error: its shape name (`__type`), its legacy code (what botocore shows as `Error.Code`), a message.
struct SQSError: Error {
    var type: String
    var code: String
    var message: String
    var status: HTTPResponse.Status = .badRequest

    static func invalidParameter(_ message: String) -> SQSError {
        SQSError(type: "InvalidParameterValueException", code: "InvalidParameterValue", message: message)
    }

    static func missing(_ name: String) -> SQSError {
        SQSError(
            type: "MissingRequiredParameterException", code: "MissingParameter",
            message: "The request must contain the parameter \(name).")
    }

    static let queueDoesNotExist = SQSError(
        type: "QueueDoesNotExist", code: "AWS.SimpleQueueService.NonExistentQueue",
        message: "The specified queue does not exist.")

    /// A move task's queue that does not exist (404, as SQS answers the ARN parameters of move tasks).
    static func resourceNotFound(_ parameter: String) -> SQSError {
        SQSError(
            type: "ResourceNotFoundException", code: "ResourceNotFoundException",
            message: "The resource that you specified for the \(parameter) parameter doesn't exist.", status: .notFound)
    }

    static func batch(_ type: String, _ message: String) -> SQSError {
        SQSError(type: type, code: "AWS.SimpleQueueService.\(type)", message: message)
    }

    static func invalidAttributeName(_ name: String) -> SQSError {
        SQSError(
            type: "InvalidAttributeName", code: "InvalidAttributeName",
            message: "Unknown Attribute \(name.prefix(256)).")
    }

    static func invalidAttributeValue(_ message: String) -> SQSError {
        SQSError(type: "InvalidAttributeValue", code: "InvalidAttributeValue", message: message)
    }

    static func receiptHandleInvalid(_ handle: String) -> SQSError {
        SQSError(
            type: "ReceiptHandleIsInvalid", code: "ReceiptHandleIsInvalid",
            message: "The input receipt handle \"\(handle.prefix(200))\" is not a valid receipt handle.")
    }

    static func unsupported(_ message: String) -> SQSError {
        SQSError(type: "UnsupportedOperation", code: "AWS.SimpleQueueService.UnsupportedOperation", message: message)
    }
}

extension SQSError {
    /// Any error of the host, in SQS's terms.
    init(_ error: any Error) {
        switch error {
        case let error as SQSError:
            self = error
        case let error as AWSInput.WrongType:
            self = .invalidParameter(error.message)
        case let error as QueryParameters.Malformed:
            self = .invalidParameter(error.message)
        case let error as QueueService.QueueError:
            switch error.code {
            case .notFound: self = .queueDoesNotExist
            case .alreadyExists:
                self = SQSError(type: "QueueNameExists", code: "QueueAlreadyExists", message: error.message)
            case .overLimit: self = SQSError(type: "OverLimit", code: "OverLimit", message: error.message)
            case .tooLarge, .invalid: self = .invalidParameter(error.message)
            }
        case let error as StoreError where error.code == .queueDoesNotExist:
            self = .queueDoesNotExist
        case let error as StoreError where error.code == .unavailable:
            // A 503 that botocore and the aws CLI retry with backoff.
            self = SQSError(
                type: "ServiceUnavailable", code: "ServiceUnavailable", message: error.message,
                status: .serviceUnavailable)
        default:
            self = SQSError(
                type: "InternalError", code: "InternalError", message: "\(error)", status: .internalServerError)
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// Publish and PublishBatch: their parameters, message attributes and batch entries.
extension SNSFacade {
    func publish(to topic: String, _ p: QueryParameters) async throws -> TopicPublisher.Published {
        guard let message = p["Message"] else {
            throw SNSError(
                code: "InvalidParameter", message: "Invalid parameter: Message Reason: no value for required parameter")
        }
        guard !message.isEmpty else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Empty message")
        }
        let attributes = try Self.messageAttributes(p)
        guard message.utf8.count + MessageAttribute.size(of: attributes) <= TopicPublisher.maxMessageBytes else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Message too long")
        }
        var perProtocol: [String: String] = [:]
        var defaultMessage = message
        if let structure = p["MessageStructure"] {
            guard structure == "json" else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: MessageStructure")
            }
            guard let object = JSONValue.parseObject(message.utf8),
                case .string(let fallback)? = object["default"]
            else {
                throw SNSError(
                    code: "InvalidParameter",
                    message: "Invalid parameter: Message Structure - No default entry in JSON message body")
            }
            guard !fallback.isEmpty else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Empty message")
            }
            defaultMessage = fallback
            for (key, value) in object where key != "default" {
                guard case .string(let text) = value else {
                    throw SNSError(
                        code: "InvalidParameter",
                        message:
                            "Invalid parameter: Message Structure - the value for '\(key.prefix(40))' must be a string")
                }
                perProtocol[key] = text
            }
        }
        if let subject = p["Subject"] {
            guard !subject.isEmpty, subject.count <= 100, !subject.contains(where: \.isNewline) else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Subject")
            }
        }
        return try await host.topics.publish(
            to: topic, message: defaultMessage, subject: p["Subject"], attributes: attributes, perProtocol: perProtocol,
            groupId: p["MessageGroupId"], deduplicationId: p["MessageDeduplicationId"])
    }

    func publishBatch(_ p: QueryParameters) async throws -> AWSShape {
        let topic = try topicName(p["TopicArn"])
        let entries = try p.members("PublishBatchRequestEntries.member")
        guard !entries.isEmpty else {
            throw SNSError(code: "EmptyBatchRequest", message: "The batch request doesn't contain any entries.")
        }
        guard entries.count <= 10 else {
            throw SNSError(
                code: "TooManyEntriesInBatchRequest",
                message: "The batch request contains more entries than permissible.")
        }
        var ids: Set<String> = []
        var total = 0
        for entry in entries {
            let id = entry["Id"] ?? ""
            guard (1...80).contains(id.utf8.count),
                id.utf8.allSatisfy({
                    $0 == 0x2D || $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A)
                })
            else {
                throw SNSError(
                    code: "InvalidBatchEntryId",
                    message: "The Id of a batch entry in a batch request doesn't abide by the specification.")
            }
            guard ids.insert(id).inserted else {
                throw SNSError(
                    code: "BatchEntryIdsNotDistinct",
                    message: "Two or more batch entries in the request have the same Id.")
            }
            let attributes = (try? Self.messageAttributes(entry)) ?? [:]
            total += (entry["Message"]?.utf8.count ?? 0) + MessageAttribute.size(of: attributes)
        }
        guard total <= TopicPublisher.maxMessageBytes else {
            throw SNSError(
                code: "BatchRequestTooLong",
                message: "The length of all the messages put together is more than the limit.")
        }
        var successful: [AWSShape] = []
        var failed: [AWSShape] = []
        for entry in entries {
            let id = entry["Id"] ?? ""
            do {
                let published = try await publish(to: topic, entry)
                var fields: [(String, AWSShape)] = [("Id", .string(id)), ("MessageId", .string(published.messageId))]
                if let sequence = published.sequenceNumber { fields.append(("SequenceNumber", .string(sequence))) }
                successful.append(.structure(fields))
            } catch {
                let failure = SNSError(error)
                guard failure.status.code < 500 || failure.code == "InternalError" else { throw error }
                failed.append(
                    .structure([
                        ("Id", .string(id)), ("Code", .string(failure.code)), ("Message", .string(failure.message)),
                        ("SenderFault", .bool(failure.status.code < 500)),
                    ]))
            }
        }
        return .structure([
            ("Successful", .list(member: "member", flattened: false, successful)),
            ("Failed", .list(member: "member", flattened: false, failed)),
        ])
    }

    /// `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` / `.Value.BinaryValue`.
    private static func messageAttributes(_ p: QueryParameters) throws -> [String: MessageAttribute] {
        var attributes: [String: MessageAttribute] = [:]
        for entry in try p.members("MessageAttributes.entry") {
            guard let name = entry["Name"] else { continue }
            guard let type = entry["Value.DataType"], !type.isEmpty else {
                throw SNSError(
                    code: "ParameterValueInvalid",
                    message:
                        "The message attribute '\(name.prefix(256))' must contain non-empty message attribute type.")
            }
            let value = type.hasPrefix("Binary") ? entry["Value.BinaryValue"] : entry["Value.StringValue"]
            guard let value else {
                throw SNSError(
                    code: "ParameterValueInvalid",
                    message:
                        "The message attribute '\(name.prefix(256))' must contain non-empty message attribute value for message attribute type '\(type.prefix(100))'."
                )
            }
            attributes[name] = MessageAttribute(dataType: type, stringValue: value)
        }
        if let problem = MessageAttribute.problem(in: attributes, maxCount: .max) {
            throw SNSError(code: "ParameterValueInvalid", message: problem)
        }
        return attributes
    }
}

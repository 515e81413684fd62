import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// SNS tags on topics: TagResource, UntagResource, ListTagsForResource and CreateTopic's `Tags`.
extension SNSFacade {
    /// SNS's limit on a topic's tags.
    static let maxTags = 50

    /// `Tags.member.N.Key` / `.Value`: keys of 1 to 128 characters, not starting with `aws:`, values of at most
    /// 256, in SNS's characters (letters, digits, spaces and `_ . : / = + - @`).
    static func tags(_ p: QueryParameters) throws -> [String: String] {
        var tags: [String: String] = [:]
        for (index, member) in try p.members("Tags.member").enumerated() {
            guard let key = member["Key"] else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Tags.member.\(index + 1).Key")
            }
            let value = member["Value"] ?? ""
            guard (1...128).contains(key.count), value.count <= 256, isTagText(key), isTagText(value) else {
                throw SNSError(
                    code: "InvalidParameter",
                    message:
                        "Invalid parameter: Tags Reason: tag '\(key.prefix(128))': keys have 1 to 128 characters and values at most 256, of letters, digits, spaces and _ . : / = + - @"
                )
            }
            guard !key.lowercased().hasPrefix("aws:") else {
                throw SNSError(
                    code: "InvalidParameter",
                    message: "Invalid parameter: Tags Reason: tag keys starting with aws: are reserved for AWS")
            }
            tags[key] = value
        }
        guard tags.count <= maxTags else { throw SNSError.tagLimit }
        return tags
    }

    private static func isTagText(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy {
            $0.properties.isAlphabetic || $0.properties.numericType != nil || " _.:/=+-@".unicodeScalars.contains($0)
        }
    }

    /// The topic `ResourceArn` names; `ResourceNotFound` (404) when there is none.
    func taggedTopic(_ p: QueryParameters) throws -> String {
        guard let arn = p["ResourceArn"], !arn.isEmpty else { throw SNSError.invalid("ResourceArn") }
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "sns" else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: ResourceArn")
        }
        let name = String(parts[5])
        guard host.topics.tags(of: name) != nil else {
            throw SNSError(code: "ResourceNotFound", message: "Resource does not exist", status: .notFound)
        }
        return name
    }

    func retag(_ topic: String, adding: [String: String], removing: [String]) async throws {
        do {
            try await host.topics.retag(topic, adding: adding, removing: removing, limit: Self.maxTags)
        } catch let error as TopicPublisher.TopicError where error.code == .overLimit {
            throw SNSError.tagLimit
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// A topic's attributes and its policy's permissions (AddPermission, RemovePermission).
extension SNSFacade {
    func topicAttributes(_ topic: String) -> [String: String] {
        let subscriptions = host.topics.all()[topic] ?? []
        var all: [String: String] = [
            "TopicArn": topicArn(topic), "Owner": AWS.accountId, "SubscriptionsConfirmed": String(subscriptions.count),
            "SubscriptionsPending": "0", "SubscriptionsDeleted": "0", "DisplayName": "",
            "Policy": Self.defaultPolicy(topicArn(topic)),
            "EffectiveDeliveryPolicy":
                #"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false}}"#,
        ]
        if TopicPublisher.isFIFO(topic) {
            all["FifoTopic"] = "true"
            all["ContentBasedDeduplication"] = "false"
        }
        all.merge(host.topics.attributes(of: topic) ?? [:]) { _, set in set }
        return all
    }

    /// The access policy SNS gives a new topic (Stratus does not enforce policies).
    private static func defaultPolicy(_ arn: String) -> String {
        #"{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"\#(arn)","Condition":{"StringEquals":{"AWS:SourceOwner":"\#(AWS.accountId)"}}}]}"#
    }

    /// AddPermission / RemovePermission: a statement named by its label in the topic's `Policy`, kept and
    /// shown (Stratus does not enforce policies).
    func permission(_ p: QueryParameters, add: Bool) async throws {
        let topic = try topicName(p["TopicArn"])
        guard let label = p["Label"], QueueConfig.isValidName(label, maxLength: 100) else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Label")
        }
        try refuseDeclared(topic: topic, "change")
        let accounts = try p.members("AWSAccountId.member").compactMap { $0[""] }.filter { !$0.isEmpty }
        let actions = try p.members("ActionName.member").compactMap { $0[""] }.filter { !$0.isEmpty }
        if add {
            guard !accounts.isEmpty else { throw SNSError.invalid("AWSAccountId") }
            guard !actions.isEmpty else { throw SNSError.invalid("ActionName") }
            guard actions.allSatisfy(Self.topicActions.contains) else {
                throw SNSError(code: "InvalidParameter", message: "Policy statement action out of service scope!")
            }
            // Principals are AWS accounts: 12 digits each, as IAM checks them.
            guard accounts.allSatisfy(AWS.isAccountId) else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Policy Error: PrincipalNotFound")
            }
        }
        let arn = topicArn(topic)
        // Read, changed and written under the topics' lock: concurrent calls each keep their statement.
        try await host.topics.updateAttribute("Policy", of: topic) { current in
            guard case .object(var policy)? = JSONValue.parse((current ?? Self.defaultPolicy(arn)).utf8) else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Policy (the topic's is not JSON)")
            }
            // IAM allows one statement as an object as well as a list of them.
            var statements: [JSONValue]
            switch policy["Statement"] {
            case .array(let list)?: statements = list
            case .object(let one)?: statements = [.object(one)]
            default: statements = []
            }
            let index = statements.firstIndex { statement in
                if case .object(let fields) = statement, fields["Sid"] == .string(label) { return true }
                return false
            }
            if add {
                guard index == nil else {
                    throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Statement already exists")
                }
                func one(_ values: [JSONValue]) -> JSONValue { values.count == 1 ? values[0] : .array(values) }
                statements.append(
                    .object([
                        "Sid": .string(label), "Effect": .string("Allow"),
                        "Principal": .object(["AWS": one(accounts.map { .string("arn:aws:iam::\($0):root") })]),
                        "Action": one(actions.map { .string("SNS:\($0)") }), "Resource": .string(arn),
                    ]))
            } else if let index {
                statements.remove(at: index)
            } else {
                return current  // As SNS: removing a label the policy does not have changes nothing.
            }
            policy["Statement"] = .array(statements)
            let text = JSONValue.object(policy).jsonText
            // The policy's limit holds however it grows, as for SetTopicAttributes.
            try checkTopicAttribute("Policy", text)
            return text
        }
    }

    /// The actions a topic's policy may grant.
    private static let topicActions: Set<String> = [
        "GetTopicAttributes", "SetTopicAttributes", "AddPermission", "RemovePermission", "DeleteTopic", "Subscribe",
        "ListSubscriptionsByTopic", "Publish", "Receive",
    ]

    private static let topicSettable: Set<String> = [
        "DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId", "TracingConfig", "SignatureVersion",
        "ArchivePolicy", "DataProtectionPolicy", "ContentBasedDeduplication",
    ]

    /// A settable topic attribute, its value within SNS's limits (a display name of at most 100 characters,
    /// others up to 30 KiB) and of the characters SNS allows.
    func checkTopicAttribute(_ name: String, _ value: String) throws {
        guard Self.topicSettable.contains(name) else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: AttributeName")
        }
        let limit = name == "DisplayName" ? 100 : 30_720
        guard (name == "DisplayName" ? value.count : value.utf8.count) <= limit else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: \(name) is longer than \(limit)")
        }
        guard MessageAttribute.hasAllowedCharacters(value) else {
            throw SNSError(
                code: "InvalidParameter", message: "Invalid parameter: \(name) contains characters SNS does not allow")
        }
        // Policies are JSON documents (an empty value leaves the attribute unset).
        if ["Policy", "DeliveryPolicy", "DataProtectionPolicy", "ArchivePolicy"].contains(name), !value.isEmpty,
            JSONValue.parseObject(value.utf8) == nil
        {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: \(name): the value is not JSON")
        }
        if name == "ContentBasedDeduplication", !["true", "false"].contains(value) {
            throw SNSError(
                code: "InvalidParameter", message: "Invalid parameter: ContentBasedDeduplication must be true or false")
        }
        if name == "SignatureVersion", !["1", "2"].contains(value) {
            throw SNSError(
                code: "InvalidParameter", message: "Invalid parameter: SignatureVersion must be 1 or 2")
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// Subscribe and the subscriptions' attributes.
extension SNSFacade {
    func subscribe(_ p: QueryParameters) async throws -> AWSShape {
        let topic = try topicName(p["TopicArn"])
        guard let protocolName = p["Protocol"]?.lowercased() else { throw SNSError.invalid("Protocol") }
        guard let target = p["Endpoint"], !target.isEmpty else { throw SNSError.invalid("Endpoint") }
        if TopicPublisher.isFIFO(topic), ["lambda", "http", "https"].contains(protocolName) {
            throw SNSError(
                code: "InvalidParameter",
                message:
                    "Invalid parameter: Protocol Reason: FIFO topics deliver to SQS queues only (\(protocolName) is not supported)"
            )
        }
        let endpoint: Subscription.Endpoint
        switch protocolName {
        case "sqs":
            // An SQS ARN, of a queue that need not exist yet: SNS does not check, and delivers once it does.
            guard let queue = AWS.queueName(ofArn: target), QueueConfig.isValidQueueName(queue) else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: SQS endpoint ARN")
            }
            if queue.hasSuffix(".fifo"), !TopicPublisher.isFIFO(topic) {
                throw SNSError(
                    code: "InvalidParameter",
                    message:
                        "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"
                )
            }
            endpoint = .queue(queue)
        case "lambda":
            let (name, _) = LambdaFacade.functionName(from: target)
            guard host.dispatcher.function(named: name) != nil else {
                throw SNSError(
                    code: "InvalidParameter",
                    message: "Invalid parameter: Lambda endpoint ARN (no function '\(name.prefix(80))' is loaded)")
            }
            endpoint = .function(name)
        case "http", "https":
            guard target.lowercased().hasPrefix(protocolName + "://") else {
                throw SNSError(
                    code: "InvalidParameter", message: "Invalid parameter: Endpoint must match the specified protocol")
            }
            if let problem = Subscription.Endpoint.problem(withHTTPURL: target) {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Endpoint: \(problem)")
            }
            endpoint = .http(target)
        default:
            throw SNSError(
                code: "InvalidParameter",
                message:
                    "Invalid parameter: Amazon SNS does not support this protocol string: \(protocolName.prefix(40)) (Stratus delivers to sqs, lambda, http and https)"
            )
        }
        var subscription = Subscription(id: RequestID.make(), topic: topic, endpoint: endpoint)
        let attributes = try Self.entries(p, "Attributes")
        try apply(attributes, to: &subscription)
        // Subscribing the same endpoint again answers the existing subscription, as SNS does, unless it asks for
        // other attributes; checked and created under one lock, so concurrent calls make one subscription.
        let kept = try await host.topics.subscribe(subscription, reusingEndpoint: true, queueMayBeMissing: true)
        guard kept.id == subscription.id || attributes.isEmpty || kept.hasSameSettings(as: subscription) else {
            throw SNSError(
                code: "InvalidParameter",
                message: "Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
        }
        return .structure([("SubscriptionArn", .string(subscriptionArn(kept)))])
    }

    func apply(_ attributes: [String: String], to subscription: inout Subscription) throws {
        var policy = subscription.filterPolicy
        var scope = subscription.filterScope
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "FilterPolicy": policy = value.isEmpty ? nil : value
            case "FilterPolicyScope":
                guard let parsed = FilterPolicy.Scope(rawValue: value) else {
                    throw SNSError(
                        code: "InvalidParameter",
                        message:
                            "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [\(value.prefix(40))]. Please use either MessageBody or MessageAttributes"
                    )
                }
                scope = parsed
            case "RawMessageDelivery":
                guard ["true", "false"].contains(value.lowercased()) else {
                    throw SNSError(
                        code: "InvalidParameter",
                        message:
                            "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [\(value.prefix(40))]. Must be true or false."
                    )
                }
                if case .function = subscription.endpoint {
                    throw SNSError(
                        code: "InvalidParameter",
                        message:
                            "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw message delivery."
                    )
                }
                subscription.raw = value.lowercased() == "true"
            case "RedrivePolicy":
                if value.isEmpty {
                    subscription.deadLetterQueue = nil
                    continue
                }
                guard let parsed = JSONValue.parseObject(value.utf8),
                    let arn = try? AWSInput(parsed).string("deadLetterTargetArn"),
                    host.queues.config(SQSOperations.name(ofArn: arn)) != nil
                else {
                    throw SNSError(
                        code: "InvalidParameter",
                        message: "Invalid parameter: RedrivePolicy: deadLetterTargetArn must name an existing queue")
                }
                subscription.deadLetterQueue = SQSOperations.name(ofArn: arn)
            case "DeliveryPolicy":
                continue  // accepted; Stratus retries HTTP deliveries with its own policy (see README)
            default:
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: AttributeName")
            }
        }
        if let policy {
            do {
                try subscription.setFilter(json: policy, scope: scope)
            } catch {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: FilterPolicy: \(error.message)")
            }
        } else {
            subscription.filterPolicy = nil
            subscription.filterScope = scope
        }
    }

    func subscriptionAttributes(_ subscription: Subscription) -> [String: String] {
        var all: [String: String] = [
            "SubscriptionArn": subscriptionArn(subscription), "TopicArn": topicArn(subscription.topic),
            "Protocol": subscription.endpoint.protocolName, "Endpoint": endpoint(subscription.endpoint),
            "Owner": AWS.accountId, "PendingConfirmation": "false", "ConfirmationWasAuthenticated": "true",
            "RawMessageDelivery": subscription.raw ? "true" : "false",
            "SubscriptionPrincipal": "arn:aws:iam::\(AWS.accountId):user/stratus",
        ]
        if let policy = subscription.filterPolicy {
            all["FilterPolicy"] = policy
            all["FilterPolicyScope"] = subscription.filterScope.rawValue
        }
        if let dlq = subscription.deadLetterQueue {
            all["RedrivePolicy"] = #"{"deadLetterTargetArn":"arn:aws:sqs:\#(info.region):\#(AWS.accountId):\#(dlq)"}"#
        }
        return all
    }
}

import Foundation

/// The account and region every ARN and event of a Stratus host names, and the ARNs built from them.
package enum AWS {
    /// The host's region: `AWS_REGION` or `AWS_DEFAULT_REGION` of the process that runs it (what the user's
    /// `aws` CLI and boto3 sign with, so the events functions get name the region their calls name), else
    /// `us-east-1`.
    package static let region = region(
        from: ProcessInfo.processInfo.environment["AWS_REGION"]
            ?? ProcessInfo.processInfo.environment["AWS_DEFAULT_REGION"])
    package static let accountId = "000000000000"

    /// `name` when it has the form of a region (`eu-west-1`, `us-gov-west-1`: lowercase letters and digits
    /// between hyphens, ending in a number), else `us-east-1`.
    package static func region(from name: String?) -> String {
        guard let name, (1...32).contains(name.utf8.count) else { return "us-east-1" }
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        let valid =
            parts.count >= 3
            && parts.allSatisfy {
                !$0.isEmpty && $0.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
            }
            && parts.last!.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        return valid ? name : "us-east-1"
    }

    /// Whether `text` has the form of an AWS account id: 12 digits.
    package static func isAccountId(_ text: String) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    package static func lambdaArn(_ function: String) -> String {
        "arn:aws:lambda:\(region):\(accountId):function:\(function)"
    }

    package static func topicArn(_ topic: String) -> String {
        "arn:aws:sns:\(region):\(accountId):\(topic)"
    }

    package static func queueArn(_ queue: String) -> String {
        "arn:aws:sqs:\(region):\(accountId):\(queue)"
    }

    /// The queue an SQS ARN names, `arn:<partition>:sqs:<region>:<account>:<name>`; `nil` for anything else.
    package static func queueName(ofArn arn: String) -> String? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "sqs", !parts[5].isEmpty else { return nil }
        return String(parts[5])
    }

    /// A subscription's ARN, `<topic ARN>:<uuid>` as SNS's, so that the topic ARN is what comes before the last
    /// `:` (see `Subscription.arnId`).
    package static func subscriptionArn(topic: String, id: String) -> String {
        "\(topicArn(topic)):\(Subscription.arnId(id))"
    }
}

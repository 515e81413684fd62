/// The account and region every ARN and event of a Stratus host names, and the ARNs built from them.
package enum AWS {
    package static let region = "us-east-1"
    package static let accountId = "000000000000"

    package static func lambdaArn(_ function: String) -> String {
        "arn:aws:lambda:\(region):\(accountId):function:\(function)"
    }

    package static func topicArn(_ topic: String) -> String {
        "arn:aws:sns:\(region):\(accountId):\(topic)"
    }

    package static func queueArn(_ queue: String) -> String {
        "arn:aws:sqs:\(region):\(accountId):\(queue)"
    }
}

/// The account and region every ARN and event of a Stratus host names, and the ARNs built from them.
public enum AWS {
    public static let region = "us-east-1"
    public static let accountId = "000000000000"

    public static func lambdaArn(_ function: String) -> String {
        "arn:aws:lambda:\(region):\(accountId):function:\(function)"
    }

    public static func topicArn(_ topic: String) -> String {
        "arn:aws:sns:\(region):\(accountId):\(topic)"
    }

    public static func queueArn(_ queue: String) -> String {
        "arn:aws:sqs:\(region):\(accountId):\(queue)"
    }
}

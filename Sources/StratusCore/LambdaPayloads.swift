import Foundation

/// The JSON documents Lambda itself writes around a function: its error body, and the record an async
/// invocation's `onFailure` destination receives. Written with `JSONWriter`; a payload or response that is
/// JSON is embedded as it is.
package enum LambdaPayloads {
    /// `{"errorMessage": …, "errorType": …}`, as Lambda answers errors the host reports (timeouts, throttles).
    package static func error(type: String, message: String) -> [UInt8] {
        var json = JSONWriter(capacity: 64 + message.utf8.count)
        json.beginObject()
        json.field("errorMessage", message)
        json.field("errorType", type)
        json.endObject()
        return json.bytes
    }

    /// The fields of Lambda's error JSON a host reads back (a runtime may send only the body).
    package struct ErrorFields: Decodable, Sendable {
        package var errorType: String?
        package var errorMessage: String?

        /// The fields of `body`, or `nil` when it is not a JSON object.
        package static func read(_ body: some Collection<UInt8>) -> ErrorFields? {
            try? JSONDecoder().decode(ErrorFields.self, from: Data(body))
        }
    }

    /// Why an async invocation went to its destination.
    package enum Condition: String, Sendable {
        case retriesExhausted = "RetriesExhausted"
        case eventAgeExceeded = "EventAgeExceeded"
    }

    /// The destination record of an async invocation that failed (Lambda's `onFailure` shape): the request
    /// that failed and, when the function ran, its last error.
    package static func destinationRecord(
        eventId: String, functionArn: String, condition: Condition, approximateInvokeCount: Int,
        requestPayload: some Collection<UInt8>, lastError: [UInt8]?, timestamp: Date
    ) -> [UInt8] {
        var json = JSONWriter(capacity: requestPayload.count + (lastError?.count ?? 0) + 512)
        json.beginObject()
        json.field("version", "1.0")
        json.field("timestamp", MessagingEvents.isoTimestamp(timestamp))
        json.key("requestContext")
        json.beginObject()
        json.field("requestId", eventId)
        json.field("functionArn", functionArn + ":$LATEST")
        json.field("condition", condition.rawValue)
        json.key("approximateInvokeCount")
        json.number(Int64(approximateInvokeCount))
        json.endObject()
        json.key("requestPayload")
        json.jsonOrString(requestPayload)
        if let lastError {
            json.key("responseContext")
            json.beginObject()
            json.key("statusCode")
            json.number(Int64(200))
            json.field("executedVersion", "$LATEST")
            json.field("functionError", "Unhandled")
            json.endObject()
            json.key("responsePayload")
            json.jsonOrString(lastError)
        }
        json.endObject()
        return json.bytes
    }
}

import Foundation

/// A schedule of `triggers/*.yaml`: `expression` evaluated in `timezone` invokes `function` asynchronously.
package struct ScheduleConfig: Sendable, Equatable {
    /// What to do about firings that fell while no host ran, or more than a minute late while one did.
    package enum Missed: String, Sendable, Equatable, CaseIterable {
        /// None of them.
        case skip
        /// One, for the first missed time.
        case once
        /// Each, oldest first, at most `Limits.missedFirings`.
        case all
    }

    package var name: String
    package var expression: ScheduleExpression
    /// An IANA zone (`Europe/Paris`); crons are evaluated in it.
    package var timezone: String
    package var function: String
    /// The event each firing delivers (JSON text); `nil`: EventBridge's Scheduled Event.
    package var input: String?
    package var missed: Missed

    package init(
        name: String, expression: ScheduleExpression, timezone: String = "UTC", function: String,
        input: String? = nil, missed: Missed = .once
    ) {
        self.name = name
        self.expression = expression
        self.timezone = timezone
        self.function = function
        self.input = input
        self.missed = missed
    }

    /// The zone (the parser has checked the identifier).
    package var zone: TimeZone { TimeZone(identifier: timezone) ?? TimeZone(secondsFromGMT: 0)! }

    /// What identifies a schedule's timing: when it changes, the next run is computed afresh.
    package var fingerprint: String { "\(expression.text)|\(timezone)" }

    /// `arn:aws:scheduler:…:schedule/default/NAME`, the Scheduled Event's resource.
    package var arn: String { "arn:aws:scheduler:\(AWS.region):\(AWS.accountId):schedule/default/\(name)" }

    package static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= Limits.scheduleNameLength
            && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            }
    }

    /// The event of one firing scheduled at `time`, with `id` (the async event id, which links its attempts).
    package func event(id: String, time: Date) -> String {
        if let input { return input }
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.field("version", "0")
        writer.field("id", id)
        writer.field("detail-type", "Scheduled Event")
        writer.field("source", "aws.events")
        writer.field("account", AWS.accountId)
        writer.field("time", time.formatted(.iso8601))
        writer.field("region", AWS.region)
        writer.key("resources")
        writer.beginArray()
        writer.string(arn)
        writer.endArray()
        writer.key("detail")
        writer.beginObject()
        writer.endObject()
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

import Foundation
import StratusCore
import Testing

/// An instant given in UTC.
private func utc(
    _ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Double = 0
) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let whole = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    return whole.addingTimeInterval(second)
}

/// `ScheduleExpression` as EventBridge Scheduler reads it, `Triggers.merge` on `schedules:`, and the Scheduled Event.
@Suite struct ScheduleExpressionTests {
    // MARK: Helpers

    func next(_ text: String, after date: Date, in zone: String = "UTC", anchor: Date? = nil) throws -> Date? {
        try ScheduleExpression(text).next(after: date, anchor: anchor ?? date, in: TimeZone(identifier: zone)!)
    }

    /// `count` consecutive firings after `date`, each asked for strictly after the one before.
    func firings(_ text: String, after date: Date, in zone: String = "UTC", count: Int) throws -> [Date] {
        let expression = try ScheduleExpression(text)
        var dates: [Date] = []
        var cursor = date
        for _ in 0..<count {
            guard let fired = expression.next(after: cursor, anchor: date, in: TimeZone(identifier: zone)!) else {
                break
            }
            dates.append(fired)
            cursor = fired
        }
        return dates
    }

    func schedules(_ yaml: String, file: String = "triggers/s.yaml") throws(ManifestError) -> [ScheduleConfig] {
        var triggers = Triggers()
        try triggers.merge(yaml: yaml, file: file, functions: ["work", "report"], environment: [:])
        return triggers.schedules
    }

    // MARK: Cron across daylight saving time

    @Test func springForwardSkipsTheLocalTimeThatDoesNotExist() throws {
        // Europe/Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day.
        let expression = "cron(30 2 * * ? *)"
        #expect(try next(expression, after: utc(2026, 3, 27, 12), in: "Europe/Paris") == utc(2026, 3, 28, 1, 30))
        #expect(try next(expression, after: utc(2026, 3, 28, 1, 30), in: "Europe/Paris") == utc(2026, 3, 30, 0, 30))
        // America/New_York, 2026-03-08: 02:00 EST becomes 03:00 EDT; an hourly cron goes 01:00 EST, 03:00 EDT.
        #expect(
            try firings("cron(0 * * * ? *)", after: utc(2026, 3, 8, 5, 30), in: "America/New_York", count: 3) == [
                utc(2026, 3, 8, 6), utc(2026, 3, 8, 7), utc(2026, 3, 8, 8),
            ])
        #expect(
            try next("cron(30 2 * * ? *)", after: utc(2026, 3, 7, 7, 30), in: "America/New_York")
                == utc(2026, 3, 9, 6, 30))
    }

    @Test func fallBackFiresARepeatedLocalTimeOnce() throws {
        // Europe/Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens at 00:30Z and again at 01:30Z.
        #expect(
            try firings("cron(30 2 * * ? *)", after: utc(2026, 10, 23, 12), in: "Europe/Paris", count: 3) == [
                utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30),
            ])
        // Asked from inside the repeated hour (02:10 CET, the second pass), 02:45 has already been: tomorrow.
        #expect(
            try next("cron(45 2 * * ? *)", after: utc(2026, 10, 25, 1, 10), in: "Europe/Paris")
                == utc(2026, 10, 26, 1, 45))
        // America/New_York, 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:30 fires at 05:30Z only.
        #expect(
            try firings("cron(30 1 * * ? *)", after: utc(2026, 10, 31, 5, 30), in: "America/New_York", count: 2) == [
                utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30),
            ])
    }

    @Test func everyHalfHourAcrossTheRepeatedHourFiresEachLocalTimeOnce() throws {
        // 01:30 CEST, 02:00 CEST, 02:30 CEST, (02:00 CET and 02:30 CET are repeats), 03:00 CET, 03:30 CET.
        #expect(
            try firings("cron(*/30 * * * ? *)", after: utc(2026, 10, 24, 23, 15), in: "Europe/Paris", count: 5) == [
                utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 30),
                utc(2026, 10, 25, 2, 0), utc(2026, 10, 25, 2, 30),
            ])
        // Asked from the second pass of the repeated hour, it waits for 03:00 CET.
        #expect(
            try next("cron(*/30 * * * ? *)", after: utc(2026, 10, 25, 1, 5), in: "Europe/Paris")
                == utc(2026, 10, 25, 2, 0))
        // Every half hour across spring forward: 01:30 CET, then 03:00 CEST.
        #expect(
            try firings("cron(*/30 * * * ? *)", after: utc(2026, 3, 29, 0, 15), in: "Europe/Paris", count: 3) == [
                utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30),
            ])
    }

    @Test func aDayTheZoneSkippedDoesNotFire() throws {
        // Pacific/Apia skipped 2011-12-30 entirely (UTC-10 to UTC+14): noon on the 29th, then noon on the 31st.
        #expect(
            try firings("cron(0 12 * * ? *)", after: utc(2011, 12, 29, 12), in: "Pacific/Apia", count: 2) == [
                utc(2011, 12, 29, 22), utc(2011, 12, 30, 22),
            ])
        #expect(try next("cron(0 12 30 12 ? 2011)", after: utc(2011, 12, 1), in: "Pacific/Apia") == nil)
    }

    @Test func weekdayMorningsOverTwoWeeksAcrossDaylightSavingTime() throws {
        // 09:00 Europe/Paris is 08:00Z until 2026-03-29 and 07:00Z after.
        let walked = try firings("cron(0 9 ? * MON-FRI *)", after: utc(2026, 3, 20, 12), in: "Europe/Paris", count: 10)
        #expect(
            walked == [
                utc(2026, 3, 23, 8), utc(2026, 3, 24, 8), utc(2026, 3, 25, 8), utc(2026, 3, 26, 8),
                utc(2026, 3, 27, 8), utc(2026, 3, 30, 7), utc(2026, 3, 31, 7), utc(2026, 4, 1, 7),
                utc(2026, 4, 2, 7), utc(2026, 4, 3, 7),
            ])
        #expect(zip(walked, walked.dropFirst()).allSatisfy { $0 < $1 })
    }

    // MARK: Cron values

    @Test func nextIsStrictlyAfterTheDate() throws {
        let noon = "cron(0 12 * * ? *)"
        #expect(try next(noon, after: utc(2026, 5, 4, 12)) == utc(2026, 5, 5, 12))
        #expect(try next(noon, after: utc(2026, 5, 4, 11, 59, 59.5)) == utc(2026, 5, 4, 12))
        #expect(try next(noon, after: utc(2026, 5, 4, 12, 0, 0.5)) == utc(2026, 5, 5, 12))
        #expect(try next("cron(* * * * ? *)", after: utc(2026, 5, 4, 12, 0, 30)) == utc(2026, 5, 4, 12, 1))
        #expect(try next("cron(59 23 31 12 ? *)", after: utc(2026, 12, 31, 23, 58)) == utc(2026, 12, 31, 23, 59))
        #expect(try next("cron(0 0 1 1 ? *)", after: utc(2026, 12, 31, 23, 59)) == utc(2027, 1, 1))
    }

    @Test(arguments: [
        ("cron(0/15 * * * ? *)", [utc(2026, 5, 4, 10, 15), utc(2026, 5, 4, 10, 30), utc(2026, 5, 4, 10, 45)]),
        ("cron(*/20 * * * ? *)", [utc(2026, 5, 4, 10, 20), utc(2026, 5, 4, 10, 40), utc(2026, 5, 4, 11, 0)]),
        (
            "cron(10-40/10 * * * ? *)",
            [
                utc(2026, 5, 4, 10, 10), utc(2026, 5, 4, 10, 20), utc(2026, 5, 4, 10, 30), utc(2026, 5, 4, 10, 40),
                utc(2026, 5, 4, 11, 10),
            ]
        ),
        ("cron(5/25 * * * ? *)", [utc(2026, 5, 4, 10, 30), utc(2026, 5, 4, 10, 55), utc(2026, 5, 4, 11, 5)]),
        ("cron(0 5,17 * * ? *)", [utc(2026, 5, 4, 17), utc(2026, 5, 5, 5), utc(2026, 5, 5, 17)]),
        ("cron(15 8-10 * * ? *)", [utc(2026, 5, 4, 10, 15), utc(2026, 5, 5, 8, 15), utc(2026, 5, 5, 9, 15)]),
        ("cron(0 0 1,15 * ? *)", [utc(2026, 5, 15), utc(2026, 6, 1), utc(2026, 6, 15)]),
        ("cron(0 0 */10 * ? *)", [utc(2026, 5, 11), utc(2026, 5, 21), utc(2026, 5, 31), utc(2026, 6, 1)]),
        ("cron(0 0 1 JAN,JUL ? *)", [utc(2026, 7, 1), utc(2027, 1, 1), utc(2027, 7, 1)]),
        ("cron(0 0 1 jan,jul ? *)", [utc(2026, 7, 1), utc(2027, 1, 1)]),
        ("cron(0 0 1 3-5 ? *)", [utc(2027, 3, 1), utc(2027, 4, 1), utc(2027, 5, 1), utc(2028, 3, 1)]),
        ("cron(0 0 1 MAR-MAY ? *)", [utc(2027, 3, 1), utc(2027, 4, 1)]),
        ("cron(0 12 ? * 1 *)", [utc(2026, 5, 10, 12), utc(2026, 5, 17, 12)]),  // 1 = Sunday
        ("cron(0 12 ? * 7 *)", [utc(2026, 5, 9, 12), utc(2026, 5, 16, 12)]),  // 7 = Saturday
        ("cron(0 12 ? * SUN,SAT *)", [utc(2026, 5, 9, 12), utc(2026, 5, 10, 12), utc(2026, 5, 16, 12)]),
    ])
    func valuesRangesListsStepsAndNames(_ expression: String, _ expected: [Date]) throws {
        // 2026-05-04 10:07Z is a Monday.
        #expect(try firings(expression, after: utc(2026, 5, 4, 10, 7), count: expected.count) == expected)
    }

    @Test func lastDayAndLastWeekdayOfTheMonth() throws {
        #expect(
            try firings("cron(0 0 L * ? *)", after: utc(2026, 1, 31), count: 4) == [
                utc(2026, 2, 28), utc(2026, 3, 31), utc(2026, 4, 30), utc(2026, 5, 31),
            ])
        #expect(try next("cron(0 0 L 2 ? *)", after: utc(2027, 3, 1)) == utc(2028, 2, 29))
        // Last days: Feb 2026 a Saturday, Mar a Tuesday, May a Sunday, Oct a Saturday.
        #expect(
            try firings("cron(0 0 LW * ? *)", after: utc(2026, 2, 1), count: 4) == [
                utc(2026, 2, 27), utc(2026, 3, 31), utc(2026, 4, 30), utc(2026, 5, 29),
            ])
        #expect(try next("cron(0 0 LW * ? *)", after: utc(2026, 10, 1)) == utc(2026, 10, 30))
    }

    @Test func nearestWeekdayStaysInTheMonth() throws {
        // 2026-08-01 is a Saturday: 1W is Monday the 3rd, not Friday July 31.
        #expect(try next("cron(0 0 1W * ? *)", after: utc(2026, 7, 31)) == utc(2026, 8, 3))
        // 2026-02-01 and 2026-03-01 are Sundays: Monday the 2nd.
        #expect(try next("cron(0 0 1W * ? *)", after: utc(2026, 1, 31)) == utc(2026, 2, 2))
        #expect(try next("cron(0 0 1W 3 ? *)", after: utc(2026, 1, 1)) == utc(2026, 3, 2))
        // 2026-05-31 is a Sunday: 31W is Friday the 29th, not Monday June 1.
        #expect(try next("cron(0 0 31W 5 ? *)", after: utc(2026, 1, 1)) == utc(2026, 5, 29))
        // 15W: Saturday Aug 15 → Friday 14; Sunday Feb 15 → Monday 16; Wednesday Apr 15 → itself.
        #expect(try next("cron(0 0 15W 8 ? *)", after: utc(2026, 1, 1)) == utc(2026, 8, 14))
        #expect(try next("cron(0 0 15W 2 ? *)", after: utc(2026, 1, 1)) == utc(2026, 2, 16))
        #expect(try next("cron(0 0 15W 4 ? *)", after: utc(2026, 1, 1)) == utc(2026, 4, 15))
        // A day the month does not have is read as its last day: Thursday April 30; Saturday Feb 28 → Friday 27.
        #expect(try next("cron(0 0 31W 4 ? *)", after: utc(2026, 1, 1)) == utc(2026, 4, 30))
        #expect(try next("cron(0 0 30W 2 ? *)", after: utc(2026, 1, 1)) == utc(2026, 2, 27))
        // Each month fires once, on a weekday of that month.
        let walked = try firings("cron(0 0 31W * ? *)", after: utc(2026, 1, 1), count: 24)
        #expect(walked.count == 24)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let months = walked.map { calendar.dateComponents([.year, .month], from: $0) }
        #expect(Set(months.map { $0.year! * 100 + $0.month! }).count == 24)
        #expect(walked.allSatisfy { !calendar.isDateInWeekend($0) })
    }

    @Test func nthAndLastWeekdayOfTheMonth() throws {
        // March 2026 starts on a Sunday.
        #expect(try next("cron(0 10 ? * 3#2 *)", after: utc(2026, 3, 1)) == utc(2026, 3, 10, 10))
        #expect(try next("cron(0 10 ? * TUE#2 *)", after: utc(2026, 3, 1)) == utc(2026, 3, 10, 10))
        #expect(try next("cron(0 10 ? * 1#1 *)", after: utc(2026, 3, 1, 10)) == utc(2026, 4, 5, 10))
        // The fifth Monday: March 30, then none until June 29.
        #expect(
            try firings("cron(0 10 ? * 2#5 *)", after: utc(2026, 3, 1), count: 2) == [
                utc(2026, 3, 30, 10), utc(2026, 6, 29, 10),
            ])
        // The last Friday: March 27, April 24.
        #expect(
            try firings("cron(0 10 ? * 6L *)", after: utc(2026, 3, 1), count: 2) == [
                utc(2026, 3, 27, 10), utc(2026, 4, 24, 10),
            ])
        #expect(try next("cron(0 10 ? * FRIL *)", after: utc(2026, 3, 1)) == utc(2026, 3, 27, 10))
        // L alone in day-of-week is Saturday.
        #expect(
            try firings("cron(0 10 ? * L *)", after: utc(2026, 3, 1), count: 2) == [
                utc(2026, 3, 7, 10), utc(2026, 3, 14, 10),
            ])
    }

    @Test func yearsAndLeapDays() throws {
        #expect(try next("cron(0 0 1 1 ? 2027)", after: utc(2026, 5, 1)) == utc(2027, 1, 1))
        #expect(try next("cron(0 0 1 1 ? 2027)", after: utc(2027, 1, 1)) == nil)
        #expect(
            try firings("cron(0 0 1 JAN,JUL ? 2026-2027)", after: utc(2026, 6, 1), count: 4) == [
                utc(2026, 7, 1), utc(2027, 1, 1), utc(2027, 7, 1),
            ])
        #expect(
            try firings("cron(0 0 1 1 ? 2030/5)", after: utc(2026, 6, 1), count: 3) == [
                utc(2030, 1, 1), utc(2035, 1, 1), utc(2040, 1, 1),
            ])
        // February 29 only in leap years; 2100 is not one.
        #expect(
            try firings("cron(0 0 29 2 ? *)", after: utc(2026, 1, 1), count: 2) == [
                utc(2028, 2, 29), utc(2032, 2, 29),
            ])
        #expect(try next("cron(0 0 29 2 ? *)", after: utc(2096, 3, 1)) == utc(2104, 2, 29))
        #expect(try next("cron(0 0 29 FEB ? 2100)", after: utc(2026, 1, 1)) == nil)
    }

    @Test func nothingAfter2199() throws {
        #expect(try next("cron(0 0 1 1 ? 2199)", after: utc(2199, 1, 1)) == nil)
        #expect(try next("cron(59 23 31 12 ? *)", after: utc(2199, 12, 31)) == utc(2199, 12, 31, 23, 59))
        #expect(try next("cron(59 23 31 12 ? *)", after: utc(2199, 12, 31, 23, 59)) == nil)
        #expect(try next("cron(* * * * ? *)", after: utc(2200, 1, 1)) == nil)
        #expect(try next("cron(* * * * ? *)", after: .distantFuture) == nil)
        #expect(try next("cron(0 0 31 2 ? *)", after: utc(2026, 1, 1)) == nil, "February 31 never comes")
        #expect(try next("cron(0 0 31 4,6,9,11 ? *)", after: utc(2026, 1, 1)) == nil)
        #expect(try next("cron(0 0 1 1 ? 1970)", after: .distantPast) == utc(1970, 1, 1))
    }

    // MARK: Rate

    @Test func ratesCountFromTheAnchor() throws {
        let anchor = utc(2026, 5, 4, 10, 0, 0.25)
        #expect(try next("rate(1 second)", after: anchor, anchor: anchor) == anchor.addingTimeInterval(1))
        #expect(
            try next("rate(1 second)", after: anchor.addingTimeInterval(0.5), anchor: anchor)
                == anchor.addingTimeInterval(1))
        #expect(try next("rate(5 minutes)", after: anchor.addingTimeInterval(-3600), anchor: anchor) == anchor)
        #expect(try next("rate(5 minutes)", after: anchor.addingTimeInterval(-0.001), anchor: anchor) == anchor)
        #expect(try next("rate(5 minutes)", after: anchor, anchor: anchor) == anchor.addingTimeInterval(300))
        #expect(
            try next("rate(5 minutes)", after: anchor.addingTimeInterval(299.9), anchor: anchor)
                == anchor.addingTimeInterval(300))
        #expect(
            try next("rate(5 minutes)", after: anchor.addingTimeInterval(300), anchor: anchor)
                == anchor.addingTimeInterval(600))
        #expect(
            try next("rate(5 minutes)", after: anchor.addingTimeInterval(1_000_000), anchor: anchor)
                == anchor.addingTimeInterval(1_000_200))
        #expect(
            try next("rate(2 hours)", after: anchor.addingTimeInterval(7199), anchor: anchor)
                == anchor.addingTimeInterval(7200))
        #expect(try ScheduleExpression("rate(1 hour)").kind == .rate(seconds: 3600))
        #expect(try ScheduleExpression("rate(3 days)").kind == .rate(seconds: 259_200))
        #expect(try ScheduleExpression("rate(10 seconds)").kind == .rate(seconds: 10))
        #expect(try ScheduleExpression("rate(5 minutes)").description == "rate(5 minutes)")
    }

    @Test func rateFiringsStayStrictlyIncreasingPast2035() throws {
        // An anchor with a fraction of a second, as Date() gives; 2035-01-10 is 2^30 s after Date's reference date,
        // where a Double's spacing doubles and anchor + k × interval is rounded.
        let anchor = Date(timeIntervalSinceReferenceDate: 800_000_000.1)  // 2026-05-09T06:13:20.1Z
        let expression = try ScheduleExpression("rate(1 day)")
        let zone = TimeZone(identifier: "UTC")!
        let firing = anchor.addingTimeInterval(3169 * 86_400)  // 2035-01-11T06:13:20.1Z
        let following = try #require(expression.next(after: firing, anchor: anchor, in: zone))
        #expect(following > firing, "next(after:) must be strictly after \(firing), got \(following)")
        #expect(abs(following.timeIntervalSince(firing) - 86_400) < 0.001)
        // Walking day by day from the anchor never stalls.
        var cursor = anchor
        for step in 1...3200 {
            guard let fired = expression.next(after: cursor, anchor: anchor, in: zone), fired > cursor else {
                Issue.record("rate(1 day) stalled at step \(step), \(cursor)")
                break
            }
            cursor = fired
        }
    }

    @Test func aDayIs86400SecondsWhateverTheClocksDo() throws {
        for zone in ["Europe/Paris", "America/New_York"] {
            // Midnight Paris time on both transition days; the days that follow are 23 h and 25 h long locally.
            for anchor in [utc(2026, 3, 28, 23), utc(2026, 10, 24, 22), utc(2026, 3, 8, 5), utc(2026, 10, 31, 4)] {
                let walked = try firings("rate(1 day)", after: anchor, in: zone, count: 3)
                #expect(walked.map { $0.timeIntervalSince(anchor) } == [86_400, 172_800, 259_200], "\(zone)")
            }
        }
    }

    // MARK: Errors

    @Test(arguments: [
        ("every 5 minutes", "expected rate(VALUE UNIT)"),
        ("", "expected rate(VALUE UNIT)"),
        ("rate 5 minutes", "expected rate(VALUE UNIT)"),
        ("cron 0 2 * * ? *", "expected rate(VALUE UNIT)"),
        ("RATE(5 minutes)", "expected rate(VALUE UNIT)"),
        ("at(2026-05-04T10:00:00)", "expected rate(VALUE UNIT)"),
        ("rate(1 minutes)", "rate(1 minutes) must say rate(1 minute)"),
        ("rate(1 hours)", "must say rate(1 hour)"),
        ("rate(1 days)", "must say rate(1 day)"),
        ("rate(5 minute)", "rate(5 minute) must say rate(5 minutes)"),
        ("rate(2 day)", "must say rate(2 days)"),
        ("rate(0 minutes)", "rate needs a whole number from 1"),
        ("rate(-1 minutes)", "rate needs a whole number from 1"),
        ("rate(99999999999999999999 minutes)", "rate needs a whole number from 1"),
        ("rate(864000001 seconds)", "rate needs a whole number from 1 to 864000000"),
        ("rate(1.5 hours)", "rate needs a whole number"),
        ("rate(five minutes)", "rate needs a whole number"),
        ("rate(5)", "rate needs a whole number"),
        ("rate()", "rate needs a whole number"),
        ("rate(5 minutes please)", "rate needs a whole number"),
        ("rate(5 weeks)", "rate unit must be second(s), minute(s), hour(s) or day(s) (got 'weeks')"),
        ("rate(5 mins)", "rate unit must be"),
        ("rate(1 s)", "rate unit must be"),
        ("cron(0 2 * * ?)", "cron needs 6 fields (minutes hours day-of-month month day-of-week year)"),
        ("cron(0 2 * * ?)", "(got 5)"),
        ("cron(0 0 2 * * ? *)", "(got 7)"),
        ("cron()", "(got 0)"),
        ("cron(garbage)", "(got 1)"),
        ("cron(0 2 ? * ? *)", "one of day-of-month and day-of-week must be ?"),
        ("cron(0 2 * * * *)", "one of day-of-month and day-of-week must be ?"),
        ("cron(0 2 1 * MON *)", "one of day-of-month and day-of-week must be ?"),
        ("cron(60 2 * * ? *)", "minutes '60' is out of range: expected 0-59"),
        ("cron(-1 2 * * ? *)", "minutes '-1' is out of range"),
        ("cron(0 24 * * ? *)", "hours '24' is out of range: expected 0-23"),
        ("cron(0 2 32 * ? *)", "day-of-month '32' is out of range: expected 1-31"),
        ("cron(0 2 0 * ? *)", "day-of-month '0' is out of range"),
        ("cron(0 2 * 13 ? *)", "month '13' is out of range: expected 1-12 or JAN-DEC"),
        ("cron(0 2 * 0 ? *)", "month '0' is out of range"),
        ("cron(0 2 * FOO ? *)", "month 'FOO' is out of range"),
        ("cron(0 2 ? * 8 *)", "day-of-week '8' is out of range: expected 1-7 or SUN-SAT"),
        ("cron(0 2 ? * 0 *)", "day-of-week '0' is out of range"),
        ("cron(0 2 ? * MON-FUN *)", "day-of-week 'FUN' is out of range"),
        ("cron(0 2 * * ? 1969)", "year '1969' is out of range: expected 1970-2199"),
        ("cron(0 2 * * ? 2200)", "year '2200' is out of range: expected 1970-2199"),
        ("cron(0/0 2 * * ? *)", "minutes '0/0': the step after / must be 1 or more"),
        ("cron(0 */0 * * ? *)", "hours '*/0': the step after / must be 1 or more"),
        ("cron(0/x 2 * * ? *)", "the step after / must be 1 or more"),
        ("cron(5-1 2 * * ? *)", "minutes '5-1': the range must go from low to high"),
        ("cron(0 2 ? * FRI-MON *)", "day-of-week 'FRI-MON': the range must go from low to high"),
        ("cron(0 2 ? * sat-sun *)", "the range must go from low to high"),
        ("cron(0 2 * * ? 2027-2026)", "year '2027-2026': the range must go from low to high"),
        ("cron(0 2 ? * 0#6 *)", "day-of-week 0#6: expected DAY#N with N from 1 to 5"),
        ("cron(0 2 ? * 3#6 *)", "expected DAY#N with N from 1 to 5"),
        ("cron(0 2 ? * 3#0 *)", "expected DAY#N with N from 1 to 5"),
        ("cron(0 2 ? * 9L *)", "day-of-week 9L: expected a day (1-7 or SUN-SAT) before L"),
        ("cron(0 2 32W * ? *)", "day-of-month 32W: expected 1W to 31W"),
        ("cron(0 2 0W * ? *)", "expected 1W to 31W"),
        ("cron(0 2 W * ? *)", "expected 1W to 31W"),
        ("cron(1,,2 2 * * ? *)", "minutes '' is out of range"),
        ("cron(1, 2 * * ? *)", "minutes '' is out of range"),
    ])
    func rejects(_ text: String, _ problem: String) {
        let error = #expect(throws: ScheduleExpressionError.self) { _ = try ScheduleExpression(text) }
        #expect(error?.message.contains(problem) == true, "\(text): \(error?.message ?? "no error")")
    }

    static let hostile: [String] = [
        " ", "(", ")", "rate(", "cron(", "rate)", "cron)", "rate(5 minutes", "cron(0 2 * * ? *", "rate(5 minutes)\n",
        "cron(* * * * * *)", "cron(? ? ? ? ? ?)", "cron(- - - - ? -)", "cron(/ / / / ? /)", "cron(, , , , ? ,)",
        "cron(*/ * * * ? *)", "cron(1-/2 * * * ? *)", "cron(-5 * * * ? *)", "cron(1--2 * * * ? *)",
        "cron(0 0 L-3 * ? *)", "cron(0 0 LWW * ? *)", "cron(0 0 WL * ? *)", "cron(0 0 1W,15W * ? *)",
        "cron(0 0 ? * #3 *)", "cron(0 0 ? * 3# *)", "cron(0 0 ? * ## *)", "cron(0 0 ? * 3#1#1 *)", "cron(0 0 ? * L# *)",
        "cron(0 0 ? * LL *)", "cron(0 0 ? * 1,L *)", "cron(0 0 ? * 3#L *)", "cron(0 0 ? * -L *)",
        "cron(0 0 ? * 1#9223372036854775807 *)", "cron(0 0 ? * 1#-9223372036854775808 *)",
        "cron(0 0 9223372036854775807W * ? *)", "cron(0/9223372036854775807 0 * * ? *)",
        "cron(0-9223372036854775807 0 * * ? *)", "cron(9223372036854775807 0 * * ? *)",
        "cron(99999999999999999999999 0 * * ? *)", "cron(0 0 * * ? 1970-2199/9223372036854775807)",
        "cron(0 0 * * ? -2026)", "rate(9223372036854775807 seconds)", "rate(-9223372036854775808 seconds)",
        "rate(9223372036854775808 days)", "rate(+ minutes)", "rate(0x10 minutes)", "rate(1e3 seconds)",
        "rate(５ minutes)", "rate(5 minutés)", "rate(5 ⏱)", "cron(٠ ٢ * * ? *)", "cron(0 2 * * ？ *)",
        "cron(0 2 * * ? ２０２６)", "cron(0 2 * ÉTÉ ? *)", "cron(🕐 2 * * ? *)", "cron(0 2 * * ? *)\u{0}",
        "cron(0\u{0} 2 * * ? *)", "cron(0\t2\t*\t*\t?\t*)", "rate(5\tminutes)", "\u{202E}cron(0 2 * * ? *)",
        String(repeating: "cron(", count: 10_000) + String(repeating: ")", count: 10_000),
        String(repeating: "rate(", count: 10_000),
        "cron(" + String(repeating: "9", count: 100_000) + " * * * ? *)",
        "cron(" + String(repeating: "1,", count: 50_000) + "60 * * * ? *)",
        "cron(" + String(repeating: "* ", count: 50_000) + ")",
        "rate(" + String(repeating: "1", count: 100_000) + " minutes)",
        "rate(5 " + String(repeating: "minute", count: 10_000) + "s)",
        "cron(0 2 ? * " + String(repeating: "MON", count: 10_000) + "L *)",
        "cron(0 2 " + String(repeating: "1", count: 10_000) + "W * ? *)",
        String(repeating: "é", count: 100_000),
    ]

    @Test(arguments: hostile)
    func hostileTextThrowsAShortErrorAndNeverTraps(_ text: String) {
        let error = #expect(throws: ScheduleExpressionError.self) { _ = try ScheduleExpression(text) }
        #expect((error?.message.count ?? 0) > 0)
        #expect((error?.message.count ?? .max) <= 400, "the error quotes a bounded part of \(text.prefix(40))")
    }

    @Test func longButValidExpressionsParseAndEvaluate() throws {
        let minutes = Array(repeating: "7", count: 20_000).joined(separator: ",")
        #expect(try next("cron(\(minutes) * * * ? *)", after: utc(2026, 5, 4, 10, 7)) == utc(2026, 5, 4, 11, 7))
        #expect(try next("  cron(0 2 * * ? *)  ", after: utc(2026, 5, 4)) == utc(2026, 5, 4, 2))
        #expect(try next("cron(0  2 * *   ? *)", after: utc(2026, 5, 4)) == utc(2026, 5, 4, 2))
        #expect(try next("cron(0 2 * * ? 1970-2199/1)", after: utc(2026, 5, 4)) == utc(2026, 5, 4, 2))
    }

    // MARK: schedules: in triggers/*.yaml

    @Test func aScheduleWithEverySetting() throws {
        let yaml = """
            schedules:
              nightly:
                expression: cron(0 2 * * ? *)
                timezone: Europe/Paris
                function: report
                input: {"kind": "nightly", "n": [1, 2.5, true, null], "s": "é\\n"}
                missed: all
              heartbeat:
                expression: rate(1 second)
                function: work
            """
        let parsed = try schedules(yaml)
        #expect(parsed.map(\.name) == ["nightly", "heartbeat"])
        let nightly = parsed[0]
        #expect(try ScheduleExpression("cron(0 2 * * ? *)") == nightly.expression)
        #expect(nightly.timezone == "Europe/Paris" && nightly.zone.identifier == "Europe/Paris")
        #expect(nightly.function == "report" && nightly.missed == .all)
        let input = try #require(nightly.input)
        let object = try #require(JSONSerialization.jsonObject(with: Data(input.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["kind", "n", "s"])
        #expect(object["kind"] as? String == "nightly")
        #expect(object["s"] as? String == "é\n")
        let list = try #require(object["n"] as? [Any])
        #expect(list.count == 4 && (list[0] as? NSNumber)?.intValue == 1 && (list[1] as? NSNumber)?.doubleValue == 2.5)
        #expect(list[3] is NSNull)
        #expect(nightly.event(id: "e1", time: utc(2026, 5, 4)) == input, "the input is delivered verbatim")
        let heartbeat = parsed[1]
        #expect(heartbeat.timezone == "UTC" && heartbeat.missed == .once && heartbeat.input == nil)
        #expect(heartbeat.expression.kind == .rate(seconds: 1))
        #expect(try schedules("schedules:\n").isEmpty)
        #expect(
            try schedules("schedules:\n  s:\n    expression: rate(1 day)\n    function: work\n    input: 42\n")[0].input
                == "42")
    }

    @Test func anUnknownTimeZoneNamesFileLineAndKey() {
        let yaml =
            "schedules:\n  nightly:\n    expression: cron(0 2 * * ? *)\n    timezone: Mars/Olympus\n    function: work\n"
        #expect(
            throws: ManifestError(
                file: "triggers/s.yaml", line: 4, key: "schedules.nightly.timezone",
                message: "unknown time zone 'Mars/Olympus'; expected an IANA name such as Europe/Paris")
        ) {
            try schedules(yaml)
        }
    }

    @Test func anUnknownFunctionNamesTheOnesThatExist() {
        let yaml = "schedules:\n  nightly:\n    expression: rate(1 day)\n    function: nope\n"
        #expect(
            throws: ManifestError(
                file: "triggers/s.yaml", line: 4, key: "schedules.nightly.function",
                message: "unknown function 'nope'; expected one of: report, work")
        ) {
            try schedules(yaml)
        }
    }

    @Test func aBadExpressionIsReportedAtItsLine() {
        let yaml = "schedules:\n  nightly:\n    function: work\n    expression: cron(0 2 * * ?)\n"
        let error = #expect(throws: ManifestError.self) { try schedules(yaml) }
        #expect(error?.file == "triggers/s.yaml" && error?.line == 4)
        #expect(error?.key == "schedules.nightly.expression")
        #expect(error?.message.contains("cron needs 6 fields") == true, "\(error?.message ?? "")")
        let rate = "schedules:\n  nightly:\n    function: work\n    expression: rate(1 minutes)\n"
        let rateError = #expect(throws: ManifestError.self) { try schedules(rate) }
        #expect(rateError?.key == "schedules.nightly.expression" && rateError?.line == 4)
        #expect(rateError?.message.contains("rate(1 minute)") == true, "\(rateError?.message ?? "")")
    }

    @Test func missedIsSkipOnceOrAll() throws {
        for policy in ScheduleConfig.Missed.allCases {
            let yaml =
                "schedules:\n  s:\n    expression: rate(1 day)\n    function: work\n    missed: \(policy.rawValue)\n"
            #expect(try schedules(yaml)[0].missed == policy)
        }
        let yaml = "schedules:\n  s:\n    expression: rate(1 day)\n    function: work\n    missed: sometimes\n"
        let error = #expect(throws: ManifestError.self) { try schedules(yaml) }
        #expect(error?.line == 5 && error?.key == "schedules.s.missed", "\(String(describing: error))")
    }

    @Test func aNameDefinedInTwoFilesIsAnError() throws {
        var triggers = Triggers()
        try triggers.merge(
            yaml: "schedules:\n  nightly:\n    expression: rate(1 day)\n    function: work\n",
            file: "triggers/a.yaml", functions: ["work"], environment: [:])
        let error = #expect(throws: ManifestError.self) {
            try triggers.merge(
                yaml: "# b\nschedules:\n  other:\n    expression: rate(1 hour)\n    function: work\n"
                    + "  nightly:\n    expression: rate(2 days)\n    function: work\n",
                file: "triggers/b.yaml", functions: ["work"], environment: [:])
        }
        #expect(error?.file == "triggers/b.yaml" && error?.line == 7, "\(String(describing: error))")
        #expect(error?.message.contains("schedule 'nightly' is defined twice") == true)
        #expect(error?.message.contains("triggers/a.yaml:3") == true, "\(error?.message ?? "")")
    }

    @Test(arguments: ["bad name", "slash/name", "été", String(repeating: "n", count: 65), "\"\""])
    func anInvalidNameIsAnError(_ name: String) {
        let yaml = "schedules:\n  \(name):\n    expression: rate(1 day)\n    function: work\n"
        let error = #expect(throws: ManifestError.self) { try schedules(yaml) }
        // The schema checks names: it points at the schedule (the name's line or the one below it).
        #expect(error?.file == "triggers/s.yaml" && (2...3).contains(error?.line ?? 0), "\(String(describing: error))")
        #expect(error?.message.contains("expected a schedule name of 1-64 letters, digits") == true)
    }

    @Test func validNamesUpTo64Characters() throws {
        let name = "Az09-_." + String(repeating: "x", count: 57)
        #expect(
            try schedules("schedules:\n  \(name):\n    expression: rate(1 day)\n    function: work\n")[0].name == name)
        #expect(ScheduleConfig.isValidName(name))
        #expect(!ScheduleConfig.isValidName(name + "x"))
        #expect(!ScheduleConfig.isValidName(""))
        #expect(!ScheduleConfig.isValidName("a b"))
    }

    // MARK: The Scheduled Event

    @Test func theScheduledEventIsEventBridges() throws {
        let schedule = ScheduleConfig(
            name: "nightly-report", expression: try ScheduleExpression("cron(0 2 * * ? *)"), timezone: "Europe/Paris",
            function: "report")
        let text = schedule.event(id: "a1b2-\"quoted\"\n", time: utc(2026, 3, 29, 0, 30, 0.75))
        let event = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(
            Set(event.keys) == [
                "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail",
            ]
        )
        #expect(event["version"] as? String == "0")
        #expect(event["id"] as? String == "a1b2-\"quoted\"\n")
        #expect(event["detail-type"] as? String == "Scheduled Event")
        #expect(event["source"] as? String == "aws.events")
        #expect(event["account"] as? String == "000000000000")
        #expect(event["time"] as? String == "2026-03-29T00:30:00Z")
        #expect(event["region"] as? String == AWS.region)
        #expect(
            event["resources"] as? [String] == [
                "arn:aws:scheduler:\(AWS.region):000000000000:schedule/default/nightly-report"
            ]
        )
        let detail = try #require(event["detail"] as? [String: Any])
        #expect(detail.isEmpty)
        #expect(schedule.arn == "arn:aws:scheduler:\(AWS.region):000000000000:schedule/default/nightly-report")
        #expect(schedule.fingerprint == "cron(0 2 * * ? *)|Europe/Paris")
    }

    @Test func aScheduleWithInputDeliversItVerbatim() throws {
        let input = #"{"kind": "nightly",  "n": 1}"#
        let schedule = ScheduleConfig(
            name: "n", expression: try ScheduleExpression("rate(1 day)"), function: "work", input: input)
        #expect(schedule.event(id: "x", time: utc(2026, 5, 4)) == input)
        #expect(schedule.zone.identifier == "UTC" || schedule.zone.secondsFromGMT() == 0)
    }
}

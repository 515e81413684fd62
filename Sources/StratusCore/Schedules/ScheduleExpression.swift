import Foundation

/// An EventBridge schedule expression: `rate(5 minutes)` or `cron(0 2 * * ? *)`.
///
/// Rates are fixed intervals (a day is 24 hours, whatever the clocks do); crons are evaluated in a time zone
/// as EventBridge Scheduler does: a local time skipped when clocks go forward does not fire, and one repeated
/// when they go back fires once. Seconds are allowed in rates (`rate(1 second)`), which AWS does not allow:
/// this is a development host.
package struct ScheduleExpression: Sendable, Equatable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        case rate(seconds: Int64)
        case cron(Cron)
    }

    package let text: String
    package let kind: Kind

    package var description: String { text }

    /// The largest rate value: ten thousand days.
    static let maxRateValue: Int64 = 864_000_000

    /// Parses `text`; the error says what is wrong and what was expected.
    package init(_ text: String) throws(ScheduleExpressionError) {
        self.text = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("rate("), trimmed.hasSuffix(")") {
            kind = .rate(seconds: try Self.parseRate(String(trimmed.dropFirst(5).dropLast())))
        } else if trimmed.hasPrefix("cron("), trimmed.hasSuffix(")") {
            kind = .cron(try Cron(String(trimmed.dropFirst(5).dropLast())))
        } else {
            throw ScheduleExpressionError(
                "expected rate(VALUE UNIT) such as rate(5 minutes), or cron(MIN HOUR DAY MONTH WEEKDAY YEAR) such as cron(0 2 * * ? *)"
            )
        }
    }

    private static func parseRate(_ body: String) throws(ScheduleExpressionError) -> Int64 {
        let parts = body.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let value = Int64(parts[0]), value > 0, value <= maxRateValue else {
            throw ScheduleExpressionError(
                "rate needs a whole number from 1 to \(maxRateValue) and a unit, such as rate(5 minutes) (got 'rate(\(body.prefix(100)))')"
            )
        }
        let unit = String(parts[1])
        let units: [String: Int64] = ["second": 1, "minute": 60, "hour": 3600, "day": 86_400]
        let singular = unit.hasSuffix("s") ? String(unit.dropLast()) : unit
        guard let seconds = units[singular] else {
            throw ScheduleExpressionError(
                "rate unit must be second(s), minute(s), hour(s) or day(s) (got '\(unit.prefix(50))')")
        }
        // As AWS requires: 1 takes the singular, more the plural.
        if value == 1, unit != singular {
            throw ScheduleExpressionError("rate(1 \(unit)) must say rate(1 \(singular)), as AWS requires")
        }
        if value > 1, unit == singular {
            throw ScheduleExpressionError("rate(\(value) \(unit)) must say rate(\(value) \(unit)s), as AWS requires")
        }
        return value * seconds
    }

    /// The first time strictly after `date` at which the schedule fires, or `nil` when it never fires again.
    /// Rates count from `anchor` (the schedule's first run).
    package func next(after date: Date, anchor: Date, in zone: TimeZone) -> Date? {
        switch kind {
        case .rate(let seconds):
            let elapsed = date.timeIntervalSince(anchor)
            guard elapsed >= 0 else { return anchor }
            let steps = (elapsed / Double(seconds)).rounded(.down) + 1
            let next = anchor.addingTimeInterval(steps * Double(seconds))
            // Far from the anchor, rounding can land on `date` itself: strictly after means one more step.
            return next > date ? next : anchor.addingTimeInterval((steps + 1) * Double(seconds))
        case .cron(let cron):
            return cron.next(after: date, in: zone)
        }
    }
}

package struct ScheduleExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package var description: String { message }

    init(_ message: String) {
        self.message = message
    }
}

/// EventBridge's six-field cron: minutes, hours, day of month, month, day of week, year.
package struct Cron: Sendable, Equatable {
    /// Day of month: values, or `L` (the last), `LW` (the last weekday), `15W` (the weekday nearest the 15th).
    enum Days: Sendable, Equatable {
        case any
        case values([Bool])
        case last
        case lastWeekday
        case nearestWeekday(Int)
    }

    /// Day of week (1 = Sunday … 7 = Saturday): values, `5L` (the last Thursday), `3#2` (the second Tuesday).
    enum Weekdays: Sendable, Equatable {
        case any
        case values([Bool])
        case last(Int)
        case nth(weekday: Int, n: Int)
    }

    var minutes: [Bool]
    var hours: [Bool]
    var days: Days
    var months: [Bool]
    var weekdays: Weekdays
    /// Indexed by year − 1970; `nil`: every year.
    var years: [Bool]?

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    static let lastYear = 2199

    init(_ body: String) throws(ScheduleExpressionError) {
        let fields = body.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 6 else {
            throw ScheduleExpressionError(
                "cron needs 6 fields (minutes hours day-of-month month day-of-week year), such as cron(0 2 * * ? *) (got \(fields.count))"
            )
        }
        minutes = try Self.set(fields[0], name: "minutes", range: 0...59)
        hours = try Self.set(fields[1], name: "hours", range: 0...23)
        months = try Self.set(fields[3], name: "month", range: 1...12, names: Self.monthNames)
        let year = fields[5]
        years =
            year == "*" ? nil : try Self.set(year, name: "year", range: 1970...Self.lastYear).dropFirst(1970).map { $0 }
        let (day, weekday) = (fields[2], fields[4])
        guard (day == "?") != (weekday == "?") else {
            throw ScheduleExpressionError(
                "one of day-of-month and day-of-week must be ? and the other not, as EventBridge requires (got '\(day.prefix(50))' and '\(weekday.prefix(50))')"
            )
        }
        days = try Self.days(day)
        weekdays = try Self.weekdays(weekday)
    }

    private static func days(_ field: String) throws(ScheduleExpressionError) -> Days {
        switch field {
        case "?", "*": return .any
        case "L": return .last
        case "LW": return .lastWeekday
        default:
            if field.hasSuffix("W") {
                guard let day = Int(field.dropLast()), (1...31).contains(day) else {
                    throw ScheduleExpressionError("day-of-month \(field.prefix(50)): expected 1W to 31W")
                }
                return .nearestWeekday(day)
            }
            return .values(try set(field, name: "day-of-month", range: 1...31))
        }
    }

    private static func weekdays(_ field: String) throws(ScheduleExpressionError) -> Weekdays {
        if field == "?" || field == "*" { return .any }
        if field == "L" { return .values((0...7).map { $0 == 7 }) }
        if field.hasSuffix("L") {
            guard let day = weekday(String(field.dropLast())) else {
                throw ScheduleExpressionError(
                    "day-of-week \(field.prefix(50)): expected a day (1-7 or SUN-SAT) before L, such as 6L")
            }
            return .last(day)
        }
        if let hash = field.firstIndex(of: "#") {
            guard let day = weekday(String(field[..<hash])), let n = Int(field[field.index(after: hash)...]),
                (1...5).contains(n)
            else {
                throw ScheduleExpressionError(
                    "day-of-week \(field.prefix(50)): expected DAY#N with N from 1 to 5, such as 3#2 (the second Tuesday)"
                )
            }
            return .nth(weekday: day, n: n)
        }
        return .values(try set(field, name: "day-of-week", range: 1...7, names: dayNames))
    }

    private static func weekday(_ text: String) -> Int? {
        if let value = Int(text), (1...7).contains(value) { return value }
        return dayNames.firstIndex(of: text.uppercased()).map { $0 + 1 }
    }

    /// `*`, `5`, `1,3`, `1-5`, `0/15`, `*/15`, `10-40/10` and names: which values of `range` are in.
    private static func set(_ field: String, name: String, range: ClosedRange<Int>, names: [String] = [])
        throws(ScheduleExpressionError) -> [Bool]
    {
        var included = Array(repeating: false, count: range.upperBound + 1)
        func value(_ text: Substring) throws(ScheduleExpressionError) -> Int {
            if let number = Int(text), range.contains(number) { return number }
            if let index = names.firstIndex(of: text.uppercased()) { return index + range.lowerBound }
            let expected = names.isEmpty ? "" : " or \(names.first!)-\(names.last!)"
            throw ScheduleExpressionError(
                "\(name) '\(text.prefix(50))' is out of range: expected \(range.lowerBound)-\(range.upperBound)\(expected)"
            )
        }
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            var base = part
            var step = 1
            if let slash = part.firstIndex(of: "/") {
                base = part[..<slash]
                guard let parsed = Int(part[part.index(after: slash)...]), parsed >= 1, parsed <= range.upperBound
                else {
                    throw ScheduleExpressionError("\(name) '\(part.prefix(50))': the step after / must be 1 or more")
                }
                step = parsed
            }
            var low = range.lowerBound
            var high = range.upperBound
            if base == "*" {
            } else if let dash = base.firstIndex(of: "-"), dash != base.startIndex {
                low = try value(base[..<dash])
                high = try value(base[base.index(after: dash)...])
                guard low <= high else {
                    throw ScheduleExpressionError("\(name) '\(part.prefix(50))': the range must go from low to high")
                }
            } else {
                low = try value(base)
                // `5/15` runs from 5 to the end in steps; `5` alone is just 5.
                if part.firstIndex(of: "/") == nil { high = low }
            }
            for index in stride(from: low, through: high, by: step) { included[index] = true }
        }
        return included
    }

    // MARK: Evaluation

    /// The first local time strictly after `date` that matches, in `zone`; `nil` after 2199.
    func next(after date: Date, in zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let now = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        guard let startYear = now.year, let startMonth = now.month, let startDay = now.day,
            let startHour = now.hour, let startMinute = now.minute, startYear <= Self.lastYear
        else { return nil }
        for year in max(1970, startYear)...Self.lastYear {
            if let years, !years[year - 1970] { continue }
            let firstMonth = year == startYear ? startMonth : 1
            for month in firstMonth...12 where months[month] {
                let firstDay = year == startYear && month == startMonth ? startDay : 1
                let length = Self.daysIn(year, month)
                guard firstDay <= length else { continue }
                for day in firstDay...length where matches(year, month, day) {
                    let today = year == startYear && month == startMonth && day == startDay
                    for hour in (today ? startHour : 0)...23 where hours[hour] {
                        let thisHour = today && hour == startHour
                        for minute in (thisHour ? startMinute : 0)...59 where minutes[minute] {
                            let wanted = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
                            guard let candidate = calendar.date(from: wanted), candidate > date else { continue }
                            // A local time the clocks skipped does not exist: it does not fire.
                            let back = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: candidate)
                            guard back.hour == hour, back.minute == minute, back.day == day else { continue }
                            return candidate
                        }
                    }
                }
            }
        }
        return nil
    }

    private func matches(_ year: Int, _ month: Int, _ day: Int) -> Bool {
        let length = Self.daysIn(year, month)
        switch days {
        case .any: break
        case .values(let set): if !set[day] { return false }
        case .last: if day != length { return false }
        case .lastWeekday:
            var last = length
            while Self.weekday(year, month, last) == 1 || Self.weekday(year, month, last) == 7 { last -= 1 }
            if day != last { return false }
        case .nearestWeekday(let target):
            if day != Self.nearestWeekday(to: min(target, length), year, month, length) { return false }
        }
        let weekday = Self.weekday(year, month, day)
        switch weekdays {
        case .any: return true
        case .values(let set): return set[weekday]
        case .last(let wanted): return weekday == wanted && day + 7 > length
        case .nth(let wanted, let n): return weekday == wanted && (day - 1) / 7 + 1 == n
        }
    }

    /// The weekday (Monday to Friday) nearest `day` within its month, as Quartz and EventBridge read `15W`.
    private static func nearestWeekday(to day: Int, _ year: Int, _ month: Int, _ length: Int) -> Int {
        switch weekday(year, month, day) {
        case 7: return day == 1 ? 3 : day - 1  // Saturday: Friday before, or Monday after the 1st
        case 1: return day == length ? day - 2 : day + 1  // Sunday: Monday after, or Friday before the last
        default: return day
        }
    }

    static func daysIn(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// 1 = Sunday … 7 = Saturday (Sakamoto's method, Gregorian calendar).
    static func weekday(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let offsets = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]
        let y = month < 3 ? year - 1 : year
        return (y + y / 4 - y / 100 + y / 400 + offsets[month - 1] + day) % 7 + 1
    }
}

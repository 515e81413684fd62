import Foundation

extension Triggers {
    /// One entry of `schedules:` (the schema has checked its keys and types).
    func parseSchedule(_ name: String, _ item: YAMLValue, functions: Set<String>) throws(ManifestError)
        -> ScheduleConfig
    {
        guard ScheduleConfig.isValidName(name) else {
            throw item.error(
                "invalid schedule name '\(name.prefix(100))'; expected 1-\(Limits.scheduleNameLength) letters, digits, '-', '_' or '.'"
            )
        }
        let fields = Dictionary(try item.mapping(), uniquingKeysWith: { a, _ in a })
        guard let expressionValue = fields["expression"], let functionValue = fields["function"] else {
            throw item.error("a schedule needs expression: and function:")
        }
        let expression: ScheduleExpression
        do {
            expression = try ScheduleExpression(try expressionValue.string())
        } catch let error as ScheduleExpressionError {
            throw expressionValue.error(error.message)
        } catch let error as ManifestError {
            throw error
        } catch {
            throw expressionValue.error("\(error)")
        }
        let function = try functionValue.string()
        guard functions.contains(function) else {
            throw functionValue.error(
                "unknown function '\(function)'; expected one of: \(functions.sorted().joined(separator: ", "))")
        }
        var schedule = ScheduleConfig(name: name, expression: expression, function: function)
        if let zone = fields["timezone"] {
            let identifier = try zone.string()
            guard TimeZone(identifier: identifier) != nil else {
                throw zone.error(
                    "unknown time zone '\(identifier.prefix(64))'; expected an IANA name such as Europe/Paris")
            }
            schedule.timezone = identifier
        }
        if let input = fields["input"] { schedule.input = try input.jsonValue().jsonText }
        if let missed = fields["missed"] {
            let text = try missed.string()
            guard let policy = ScheduleConfig.Missed(rawValue: text) else {
                throw missed.error("expected skip, once or all (got '\(text.prefix(50))')")
            }
            schedule.missed = policy
        }
        return schedule
    }
}

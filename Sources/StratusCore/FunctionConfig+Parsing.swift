extension FunctionConfig {
    /// Parses a `function.yaml`: checks it against `Schemas.function`, then reads it and checks what only
    /// the whole manifest can say (`scaling.min` and `reserved` not above `max`).
    ///
    /// - Parameters:
    ///   - yaml: the file's text.
    ///   - name: the function name (its directory name).
    ///   - file: the path shown in errors.
    /// - Throws: a `ManifestError` naming file, line, key and what was expected.
    package static func parse(yaml: String, name: String, file: String) throws(ManifestError) -> FunctionConfig {
        guard isValidName(name) else {
            throw ManifestError(
                file: file, line: nil, key: "",
                message: "function directory name '\(name)' is invalid; expected [a-z0-9][a-z0-9-]{0,63}")
        }
        let root = try YAMLValue.parse(yaml, file: file)
        try Schemas.function.validate(root)
        let entries = Dictionary(try root.mapping(), uniquingKeysWith: { first, _ in first })
        // The schema has checked that runtime is present and one of the runtimes.
        guard let runtimeValue = entries["runtime"], let runtime = Runtime(rawValue: try runtimeValue.string()) else {
            throw ManifestError(file: file, line: nil, key: "runtime", message: "missing; expected a runtime")
        }
        var config = FunctionConfig(
            name: name, runtime: runtime, handler: try entries["handler"]?.string() ?? "bootstrap")
        for (key, value) in try root.mapping() {
            switch key {
            case "timeout": config.timeout = try value.duration(in: Limits.timeout)
            case "memory": config.memoryMB = try value.int(in: Limits.memoryMB)
            case "environment": config.environment = try parseEnvironment(value)
            case "scaling": config.scaling = try parseScaling(value)
            case "async": config.async = try parseAsync(value)
            case "circuitBreaker": config.circuitBreaker = try parseBreaker(value)
            case "layers": config.layers = try value.sequence().map { item throws(ManifestError) in try item.string() }
            default: break  // runtime and handler, read above
            }
        }
        return config
    }

    private static func parseEnvironment(_ value: YAMLValue) throws(ManifestError) -> [String: String] {
        var environment: [String: String] = [:]
        for (name, item) in try value.mapping() { environment[name] = try item.string() }
        return environment
    }

    private static func parseScaling(_ value: YAMLValue) throws(ManifestError) -> Scaling {
        var scaling = Scaling()
        for (key, item) in try value.mapping() {
            switch key {
            case "min": scaling.min = try item.int(in: Limits.scalingMin)
            case "max": scaling.max = try item.int(in: Limits.scalingMax)
            case "reserved": scaling.reserved = try item.int(in: Limits.reservedWorkers)
            case "queue": scaling.queue = try item.int(in: Limits.waitingCallers)
            case "maxWait": scaling.maxWait = try item.duration(in: Limits.maxWait)
            case "prewarm": scaling.prewarm = try item.bool()
            case "idle": scaling.idle = try item.duration(in: Limits.idle)
            default: break
            }
        }
        if scaling.min > scaling.max {
            throw value.error("min (\(scaling.min)) must not exceed max (\(scaling.max))")
        }
        if scaling.reserved > scaling.max {
            throw value.error("reserved (\(scaling.reserved)) must not exceed max (\(scaling.max))")
        }
        return scaling
    }

    private static func parseAsync(_ value: YAMLValue) throws(ManifestError) -> Async {
        var async = Async()
        for (key, item) in try value.mapping() {
            switch key {
            case "retries": async.retries = try item.int(in: Limits.asyncRetries)
            case "maxEventAge": async.maxEventAge = try item.duration(in: Limits.maxEventAge)
            case "retryBase": async.retryBase = try item.duration(in: Limits.retryDelay)
            case "retryCap": async.retryCap = try item.duration(in: Limits.retryDelay)
            case "onFailure":
                // The schema has checked that it names exactly one queue or topic.
                for (kind, name) in try item.mapping() {
                    async.onFailure = kind == "queue" ? .queue(try name.string()) : .topic(try name.string())
                }
            default: break
            }
        }
        return async
    }

    private static func parseBreaker(_ value: YAMLValue) throws(ManifestError) -> CircuitBreaker? {
        // The schema has checked that a scalar here is off or false.
        if case .scalar = value.node { return nil }
        var breaker = CircuitBreaker()
        for (key, item) in try value.mapping() {
            switch key {
            case "failureRate": breaker.failureRate = try item.int(in: Limits.failureRate)
            case "minimumCalls": breaker.minimumCalls = try item.int(in: Limits.minimumCalls)
            case "window": breaker.window = try item.int(in: Limits.breakerWindow)
            case "cooldown": breaker.cooldown = try item.duration(in: Limits.cooldown)
            case "halfOpenCalls": breaker.halfOpenCalls = try item.int(in: Limits.halfOpenCalls)
            default: break
            }
        }
        return breaker
    }
}

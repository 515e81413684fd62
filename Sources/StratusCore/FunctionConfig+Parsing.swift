extension FunctionConfig {
    private static let topLevelKeys: Set<String> = [
        "runtime", "handler", "timeout", "memory", "environment", "scaling", "async", "circuitBreaker", "layers",
    ]

    /// Parses a `function.yaml`.
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
        let entries = Dictionary(try root.mapping(allowed: topLevelKeys), uniquingKeysWith: { first, _ in first })

        guard let runtimeValue = entries["runtime"] else {
            throw ManifestError(
                file: file, line: nil, key: "runtime", message: "missing; expected python, node or provided")
        }
        let runtimeName = try runtimeValue.string()
        guard let runtime = Runtime(rawValue: runtimeName) else {
            throw runtimeValue.error("expected python, node or provided (got '\(runtimeName)')")
        }
        var handler = "bootstrap"
        if let value = entries["handler"] {
            handler = try value.string()
        } else if runtime != .provided {
            throw ManifestError(
                file: file, line: nil, key: "handler", message: "missing; expected module.function, e.g. app.handler")
        }
        if runtime != .provided, !isValidHandler(handler) {
            throw entries["handler"]!.error("expected module.function, e.g. app.handler (got '\(handler)')")
        }
        var config = FunctionConfig(name: name, runtime: runtime, handler: handler)
        if let value = entries["timeout"] {
            config.timeout = try value.duration(in: Limits.timeout)
        }
        if let value = entries["memory"] { config.memoryMB = try value.int(in: 16...10240) }
        if let value = entries["environment"] { config.environment = try parseEnvironment(value) }
        if let value = entries["scaling"] { config.scaling = try parseScaling(value) }
        if let value = entries["async"] { config.async = try parseAsync(value) }
        if let value = entries["circuitBreaker"] { config.circuitBreaker = try parseBreaker(value) }
        if let value = entries["layers"] {
            let items = try value.sequence()
            guard items.count <= 5 else { throw value.error("at most 5 layers, as Lambda allows (got \(items.count))") }
            for item in items {
                let path = try item.string()
                guard !path.isEmpty, !path.hasPrefix("/"), path.utf8.count <= 1024 else {
                    throw item.error(
                        "expected a directory relative to the function's, e.g. ../shared (got '\(path.prefix(100))')")
                }
                config.layers.append(path)
            }
        }
        return config
    }

    private static func isValidHandler(_ handler: String) -> Bool {
        guard let dot = handler.lastIndex(of: ".") else { return false }
        return dot != handler.startIndex && handler.index(after: dot) != handler.endIndex
    }

    private static func parseEnvironment(_ value: YAMLValue) throws(ManifestError) -> [String: String] {
        var environment: [String: String] = [:]
        for (name, item) in try value.mapping() {
            guard case .scalar(let scalar) = item.node else { throw item.error("expected a string value") }
            environment[name] = scalar.string
        }
        return environment
    }

    private static func parseScaling(_ value: YAMLValue) throws(ManifestError) -> Scaling {
        var scaling = Scaling()
        let keys: Set<String> = ["min", "max", "idle", "reserved", "queue", "maxWait", "prewarm"]
        for (key, item) in try value.mapping(allowed: keys) {
            switch key {
            case "min": scaling.min = try item.int(in: 0...1000)
            case "max": scaling.max = try item.int(in: 1...1000)
            case "reserved": scaling.reserved = try item.int(in: 0...1000)
            case "queue": scaling.queue = try item.int(in: 0...100_000)
            case "maxWait": scaling.maxWait = try item.duration(in: Limits.maxWait)
            case "prewarm": scaling.prewarm = try item.bool()
            default: scaling.idle = try item.duration(in: Limits.idle)
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
        for (key, item) in try value.mapping(allowed: ["retries", "maxEventAge", "onFailure", "retryBase", "retryCap"])
        {
            switch key {
            case "retries": async.retries = try item.int(in: 0...10)
            case "maxEventAge": async.maxEventAge = try item.duration(in: Limits.maxEventAge)
            case "retryBase": async.retryBase = try item.duration(in: Limits.retryDelay)
            case "retryCap": async.retryCap = try item.duration(in: Limits.retryDelay)
            default:
                let target = try item.mapping(allowed: ["queue", "topic"])
                guard target.count == 1, let (kind, name) = target.first else {
                    throw item.error("expected exactly one of {queue: NAME} or {topic: NAME}")
                }
                async.onFailure = kind == "queue" ? .queue(try name.string()) : .topic(try name.string())
            }
        }
        return async
    }

    private static func parseBreaker(_ value: YAMLValue) throws(ManifestError) -> CircuitBreaker? {
        if case .scalar = value.node, let text = try? value.string(), text == "off" || text == "false" { return nil }
        var breaker = CircuitBreaker()
        let keys: Set<String> = ["failureRate", "minimumCalls", "window", "cooldown", "halfOpenCalls"]
        for (key, item) in try value.mapping(allowed: keys) {
            switch key {
            case "failureRate": breaker.failureRate = try item.int(in: 1...100)
            case "minimumCalls": breaker.minimumCalls = try item.int(in: 1...10_000)
            case "window": breaker.window = try item.int(in: 1...10_000)
            case "cooldown": breaker.cooldown = try item.duration(in: Limits.cooldown)
            default: breaker.halfOpenCalls = try item.int(in: 1...1000)
            }
        }
        return breaker
    }
}

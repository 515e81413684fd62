import StratusCore
import Testing

@Suite struct FunctionConfigTests {
    @Test func minimalManifestGetsLambdaDefaults() throws {
        let config = try FunctionConfig.parse(
            yaml: "runtime: python\nhandler: app.handler\n", name: "hello", file: "f.yaml")
        #expect(config.runtime == .python)
        #expect(config.handler == "app.handler")
        #expect(config.timeout == .seconds(3))
        #expect(config.memoryMB == 128)
        #expect(config.scaling.min == 0 && config.scaling.max == 10 && config.scaling.idle == .seconds(120))
        #expect(config.async.retries == 2)
        #expect(config.circuitBreaker == FunctionConfig.CircuitBreaker())
    }

    @Test func fullManifestAsDesignShowsIt() throws {
        let yaml = """
            runtime: python
            handler: app.handler
            timeout: 500ms
            memory: 256
            environment: {GREETING: hello, COUNT: 3}
            scaling: {min: 1, max: 5, idle: 2m}
            async:
              retries: 4
              maxEventAge: 6h
              onFailure: {queue: hello-dlq}
            circuitBreaker: {failureRate: 40, minimumCalls: 5, window: 10, cooldown: 30s, halfOpenCalls: 2}
            """
        let config = try FunctionConfig.parse(yaml: yaml, name: "hello", file: "f.yaml")
        #expect(config.timeout == .milliseconds(500))
        #expect(config.memoryMB == 256)
        #expect(config.environment == ["GREETING": "hello", "COUNT": "3"])
        #expect(config.scaling.min == 1 && config.scaling.max == 5)
        #expect(config.async.retries == 4 && config.async.onFailure == .queue("hello-dlq"))
        #expect(config.async.maxEventAge == .seconds(6 * 3600))
        #expect(config.circuitBreaker?.failureRate == 40 && config.circuitBreaker?.cooldown == .seconds(30))
    }

    @Test func providedNeedsNoHandlerAndBreakerCanBeOff() throws {
        let config = try FunctionConfig.parse(
            yaml: "runtime: provided\ncircuitBreaker: off\n", name: "x", file: "f.yaml")
        #expect(config.runtime == .provided)
        #expect(config.circuitBreaker == nil)
    }

    @Test(arguments: [
        ("runtime: ruby\nhandler: a.b\n", 1, "runtime", "expected python, node or provided (got 'ruby')"),
        ("runtime: python\nhandler: nodot\n", 2, "handler", "expected module.function, e.g. app.handler (got 'nodot')"),
        (
            "runtime: python\nhandler: a.b\ntimeout: 3 seconds\n", 3, "timeout",
            "expected a duration between 1ms and 15m, such as 500ms, 3s, 2m, 6h or 4d (got '3 seconds')"
        ),
        (
            "runtime: python\nhandler: a.b\ntimeout: 16m\n", 3, "timeout",
            "expected a duration between 1ms and 15m, such as 500ms, 3s, 2m, 6h or 4d (got '16m')"
        ),
        (
            "runtime: python\nhandler: a.b\ntimeout: 999999999999999d\n", 3, "timeout",
            "expected a duration between 1ms and 15m, such as 500ms, 3s, 2m, 6h or 4d (got '999999999999999d')"
        ),
        (
            "runtime: python\nhandler: a.b\nscaling: {idle: 9223372036854775807ms}\n", 3, "scaling.idle",
            "expected a duration between 100ms and 1d, such as 500ms, 3s, 2m, 6h or 4d (got '9223372036854775807ms')"
        ),
        (
            "runtime: python\nhandler: a.b\nasync: {maxEventAge: 7h}\n", 3, "async.maxEventAge",
            "expected a duration between 1s and 6h, such as 500ms, 3s, 2m, 6h or 4d (got '7h')"
        ),
        (
            "runtime: python\nhandler: a.b\ncircuitBreaker: {cooldown: 99999999999999999999s}\n", 3,
            "circuitBreaker.cooldown",
            "expected a duration between 100ms and 1d, such as 500ms, 3s, 2m, 6h or 4d (got '99999999999999999999s')"
        ),
        (
            "runtime: python\nhandler: a.b\nmemory: 99999999999999999999999\n", 3, "memory",
            "expected an integer between 16 and 10240 (got '99999999999999999999999')"
        ),
        (
            "runtime: python\nhandler: a.b\nmemory: lots\n", 3, "memory",
            "expected an integer between 16 and 10240 (got 'lots')"
        ),
        (
            "runtime: python\nhandler: a.b\nscaling:\n  max: 0\n", 4, "scaling.max",
            "expected an integer between 1 and 1000 (got '0')"
        ),
        ("runtime: python\nhandler: a.b\nscaling: {min: 3, max: 2}\n", 3, "scaling", "min (3) must not exceed max (2)"),
        (
            "runtime: python\nhandler: a.b\ntimout: 3s\n", 3, "timout",
            "unknown key; expected one of: async, circuitBreaker, environment, handler, layers, memory, runtime, scaling, timeout"
        ),
        (
            "runtime: python\nhandler: a.b\nasync: {retries: 11}\n", 3, "async.retries",
            "expected an integer between 0 and 10 (got '11')"
        ),
    ])
    func errorsNameLineKeyAndExpectation(yaml: String, line: Int, key: String, message: String) {
        #expect(throws: ManifestError(file: "functions/x/function.yaml", line: line, key: key, message: message)) {
            try FunctionConfig.parse(yaml: yaml, name: "x", file: "functions/x/function.yaml")
        }
    }

    @Test func missingKeysAndBadYAMLAreReported() {
        #expect(
            throws: ManifestError(
                file: "f", line: nil, key: "runtime", message: "missing; expected python, node or provided")
        ) {
            try FunctionConfig.parse(yaml: "handler: a.b\n", name: "x", file: "f")
        }
        do {
            _ = try FunctionConfig.parse(yaml: "runtime: python\nhandler: [a\n", name: "x", file: "f")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "f")
            #expect(error.line != nil)
            #expect(error.message.hasPrefix("invalid YAML"))
        }
    }

    @Test func functionNamesFollowTheDirectoryRule() {
        #expect(FunctionConfig.isValidName("hello-2"))
        #expect(!FunctionConfig.isValidName("Hello"))
        #expect(!FunctionConfig.isValidName("-x"))
        #expect(!FunctionConfig.isValidName(String(repeating: "a", count: 65)))
        #expect(throws: ManifestError.self) {
            try FunctionConfig.parse(yaml: "runtime: provided\n", name: "Bad_Name", file: "f")
        }
    }

    @Test func durations() {
        #expect(DurationParser.parse("500ms") == .milliseconds(500))
        #expect(DurationParser.parse("4d") == .seconds(4 * 86_400))
        #expect(DurationParser.parse("3") == nil)
        #expect(DurationParser.parse("-3s") == nil)
        #expect(DurationParser.format(.seconds(120)) == "2m")
        #expect(DurationParser.format(.milliseconds(1500)) == "1500ms")
    }
}

/// The schemas of a project's files, which `FunctionConfig.parse` and `Triggers.merge` check every document
/// against and `stratus schema` writes into `schemas/` for editors. Ranges come from `Limits` and defaults
/// from the configuration types, so each number is written once.
package enum Schemas {
    /// The `$id` of `schemas/function.schema.json`.
    package static let functionID = "urn:stratus:schemas:function.schema.json"
    /// The `$id` of `schemas/triggers.schema.json`.
    package static let triggersID = "urn:stratus:schemas:triggers.schema.json"

    /// `function.schema.json` as `stratus schema function` prints it.
    package static var functionJSON: String {
        function.jsonText(id: functionID, title: "Stratus function.yaml")
    }

    /// `triggers.schema.json` as `stratus schema triggers` prints it.
    package static var triggersJSON: String {
        triggers.jsonText(id: triggersID, title: "Stratus triggers/*.yaml")
    }

    /// `functions/NAME/function.yaml`.
    package static let function: Schema = {
        let defaults = FunctionConfig(name: "x", runtime: .python, handler: "")
        let handlerRule = Schema.string(
            "module.function: app.handler calls handler in app.py (python) or app.js (node).",
            pattern: #"^[\s\S]+\.[\s\S]*[^.]$"#, expected: "module.function, e.g. app.handler")
        let needsHandler = FunctionConfig.Runtime.allCases.filter { $0 != .provided }.map(\.rawValue)
        return .object(
            "A function's manifest: functions/NAME/function.yaml, where the directory name NAME is the function's "
                + "name.",
            [
                (
                    "runtime",
                    .enumeration(
                        FunctionConfig.Runtime.allCases.map { .string($0.rawValue) },
                        "How the code runs: python and node call handler through Stratus's bootstrap; provided runs "
                            + "the function's executable ./bootstrap, which speaks the Lambda Runtime API itself.")
                ),
                (
                    "handler",
                    .string(
                        "The function to call, as module.function (app.handler) for python and node; informational "
                            + "for provided, which runs ./bootstrap.")
                ),
                (
                    "timeout",
                    .duration(
                        Limits.timeout,
                        "How long an invocation may run; past it the worker's process group is killed and the "
                            + "invocation ends as timeout (Sandbox.Timedout).", default: defaults.timeout)
                ),
                (
                    "memory",
                    .integer(
                        Limits.memoryMB,
                        "Memory limit in MB: a worker whose resident memory goes above it is stopped "
                            + "(Runtime.OutOfMemory).", default: defaults.memoryMB)
                ),
                (
                    "environment",
                    .map(
                        of: Schema(
                            .scalar, description: "The variable's value; a number or boolean is passed as written."),
                        "Environment variables of the function's workers, on top of Lambda's own.")
                ),
                ("scaling", scaling(defaults.scaling)),
                ("async", async(defaults.async)),
                ("circuitBreaker", circuitBreaker(FunctionConfig.CircuitBreaker())),
                (
                    "layers",
                    .array(
                        of: .string(
                            "A directory, relative to the function's, put on the module path (and its python/ or "
                                + "nodejs/node_modules/ subdirectory when it has Lambda's layout).",
                            pattern: #"^[^/][\s\S]*$"#, maxLength: Limits.layerPathLength,
                            expected: "a directory relative to the function's, e.g. ../shared"),
                        "Directories added to the module path, as Lambda layers.", maxItems: Limits.layers
                    ).expecting("a list of at most \(Limits.layers) directories, as Lambda allows")
                ),
            ],
            required: ["runtime"],
            conditions: [
                Schema.Condition(
                    key: "runtime", values: needsHandler, required: ["handler"], properties: [("handler", handlerRule)])
            ])
    }()

    private static func scaling(_ defaults: FunctionConfig.Scaling) -> Schema {
        .object(
            "The worker pool: a warm floor, a hard ceiling, and how callers wait once it is full.",
            [
                (
                    "min",
                    .integer(
                        Limits.scalingMin, "Workers kept warm from the start (0: scale to zero); at most max.",
                        default: defaults.min)
                ),
                (
                    "max",
                    .integer(
                        Limits.scalingMax, "Hard ceiling on workers, starting ones included.", default: defaults.max)
                ),
                (
                    "idle",
                    .duration(Limits.idle, "A worker idle this long is retired, down to min.", default: defaults.idle)
                ),
                (
                    "reserved",
                    .integer(
                        Limits.reservedWorkers,
                        "Workers of the host-wide budget (--max-workers) that only this function may use; at most max.",
                        default: defaults.reserved)
                ),
                (
                    "queue",
                    .integer(
                        Limits.waitingCallers,
                        "Callers that may wait for a worker once the pool is at max; beyond that a call is throttled.",
                        default: defaults.queue)
                ),
                (
                    "maxWait",
                    .duration(
                        Limits.maxWait, "How long a caller may wait for a worker before it is throttled.",
                        default: defaults.maxWait)
                ),
                (
                    "prewarm",
                    .boolean("Start one worker ahead of demand while every worker is busy.", default: defaults.prewarm)
                ),
            ])
    }

    private static func async(_ defaults: FunctionConfig.Async) -> Schema {
        .object(
            "Event invokes and topic deliveries to this function: retries and where a failed event goes.",
            [
                (
                    "retries",
                    .integer(
                        Limits.asyncRetries,
                        "Retries of a failed event, with exponential backoff and full jitter; a throttled attempt "
                            + "does not spend one.", default: defaults.retries)
                ),
                (
                    "maxEventAge",
                    .duration(
                        Limits.maxEventAge, "An event older than this is not retried again (EventAgeExceeded).",
                        default: defaults.maxEventAge)
                ),
                (
                    "retryBase",
                    .duration(
                        Limits.retryDelay, "Backoff base: retry n waits up to retryBase × 2^(n-1), at most retryCap.",
                        default: defaults.retryBase)
                ),
                (
                    "retryCap",
                    .duration(Limits.retryDelay, "The longest wait between retries.", default: defaults.retryCap)
                ),
                (
                    "onFailure",
                    .object(
                        "Where an event goes when its retries or age run out, as Lambda's destination record; "
                            + "without it the event is dropped (a DROPPED event).",
                        [
                            ("queue", .string("A queue, declared in triggers/*.yaml or created at run time.")),
                            ("topic", .string("A topic, declared in triggers/*.yaml or created at run time.")),
                        ], exactlyOneOf: ["queue", "topic"])
                ),
            ])
    }

    private static func circuitBreaker(_ defaults: FunctionConfig.CircuitBreaker) -> Schema {
        let settings = Schema.object(
            "The breaker's settings.",
            [
                (
                    "failureRate",
                    .integer(
                        Limits.failureRate,
                        "Percentage of failed calls (errors, timeouts, crashes; not throttles) over the window that "
                            + "opens the breaker.", default: defaults.failureRate)
                ),
                (
                    "minimumCalls",
                    .integer(
                        Limits.minimumCalls, "Calls in the window before the breaker may open.",
                        default: defaults.minimumCalls)
                ),
                ("window", .integer(Limits.breakerWindow, "The last calls counted.", default: defaults.window)),
                (
                    "cooldown",
                    .duration(
                        Limits.cooldown, "How long the breaker stays open before it lets probes through (half-open).",
                        default: defaults.cooldown)
                ),
                (
                    "halfOpenCalls",
                    .integer(
                        Limits.halfOpenCalls, "Probes let through when half-open; all must succeed to close.",
                        default: defaults.halfOpenCalls)
                ),
            ])
        return Schema(
            .anyOf([.enumeration([.string("off"), .bool(false)], "Turns the breaker off."), settings]),
            description: "Per-function circuit breaker: while open, calls are rejected and queue consumers and "
                + "async deliveries wait. off or false turns it off."
        ).expecting("off, false or a mapping of failureRate, minimumCalls, window, cooldown and halfOpenCalls")
    }
}

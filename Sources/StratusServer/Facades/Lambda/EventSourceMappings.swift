import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime

/// Lambda's event source mappings for SQS, on the queues' consumers (one per queue).
struct EventSourceMappings {
    let host: StratusHost
    let info: AWSRequestInfo

    /// A queue's consumer seen as a mapping: its id, the queue, the consumer.
    struct Mapping {
        var uuid: String
        var queue: QueueConfig
        var consumer: QueueConfig.Consumer
        var declaredAt: String?
    }

    func all() -> [Mapping] {
        host.queues.all().compactMap { queue in
            guard let consumer = queue.consumer else { return nil }
            let place = consumer.uuid == nil ? host.project.triggers.declaration(ofQueue: queue.name) : nil
            return Mapping(
                uuid: consumer.uuid ?? MessageDigest.uuid(for: "stratus-consumer:\(queue.name)"), queue: queue,
                consumer: consumer, declaredAt: place)
        }
    }

    func find(_ uuid: String) throws -> Mapping {
        guard let mapping = all().first(where: { $0.uuid == uuid }) else {
            throw LambdaError(
                .notFound, "ResourceNotFoundException",
                "The resource you requested does not exist. (Service: Lambda, UUID: \(uuid.prefix(100)))")
        }
        return mapping
    }

    func shape(_ mapping: Mapping, state: String? = nil) -> AWSShape {
        let consumer = mapping.consumer
        var fields: [(String, AWSShape)] = [
            ("UUID", .string(mapping.uuid)),
            ("BatchSize", .number(Int64(consumer.batchSize))),
            ("MaximumBatchingWindowInSeconds", .number(consumer.batchWindowMs / 1000)),
            ("EventSourceArn", .string("arn:aws:sqs:\(info.region):\(AWS.accountId):\(mapping.queue.name)")),
            ("FunctionArn", .string("arn:aws:lambda:\(info.region):\(AWS.accountId):function:\(consumer.function)")),
            (
                "LastModified",
                .number((consumer.modifiedAtMs != 0 ? consumer.modifiedAtMs : mapping.queue.modifiedAtMs) / 1000)
            ),
            ("State", .string(state ?? (consumer.enabled ? "Enabled" : "Disabled"))),
            ("StateTransitionReason", .string(mapping.declaredAt.map { "declared in \($0)" } ?? "USER_INITIATED")),
            (
                "FunctionResponseTypes",
                .list(
                    member: "member", flattened: false,
                    consumer.reportBatchItemFailures ? [.string("ReportBatchItemFailures")] : [])
            ),
        ]
        // Lambda shows ScalingConfig only when one was set; Stratus's default concurrency stands for none.
        if consumer.maxConcurrency != QueueConfig.Consumer(function: consumer.function).maxConcurrency {
            fields.append(
                ("ScalingConfig", .structure([("MaximumConcurrency", .number(Int64(consumer.maxConcurrency)))])))
        }
        if !consumer.filterPatterns.isEmpty {
            let filters = consumer.filterPatterns.map { AWSShape.structure([("Pattern", .string($0))]) }
            fields.append(
                ("FilterCriteria", .structure([("Filters", .list(member: "member", flattened: false, filters))])))
        }
        let arn = "arn:aws:lambda:\(info.region):\(AWS.accountId):event-source-mapping:\(mapping.uuid)"
        fields.append(("EventSourceMappingArn", .string(arn)))
        return .structure(fields)
    }

    func list(_ request: Request) throws -> (HTTPResponse.Status, AWSShape) {
        let query = request.uri.queryParameters
        var mappings = all()
        if let function = query.get("FunctionName") {
            let name = LambdaFacade.functionName(from: function.removingPercentEncoding ?? function).name
            mappings = mappings.filter { $0.consumer.function == name }
        }
        if let arn = query.get("EventSourceArn") {
            let queue = SQSOperations.name(ofArn: arn.removingPercentEncoding ?? arn)
            mappings = mappings.filter { $0.queue.name == queue }
        }
        let (page, next) = try LambdaFunctionsAPI.page(
            mappings.map(\.uuid), marker: query.get("Marker"), max: query.get("MaxItems"))
        var fields: [(String, AWSShape)] = [
            (
                "EventSourceMappings",
                .list(
                    member: "member", flattened: false,
                    page.compactMap { uuid in mappings.first { $0.uuid == uuid } }.map { shape($0) })
            )
        ]
        if let next { fields.append(("NextMarker", .string(next))) }
        return (.ok, .structure(fields))
    }

    func create(_ request: Request) async throws -> (HTTPResponse.Status, AWSShape) {
        let input = try await body(request)
        guard let arn = try input.string("EventSourceArn") else {
            throw LambdaError.invalid(
                "EventSourceArn is required (Stratus maps SQS queues: arn:aws:sqs:REGION:ACCOUNT:NAME)")
        }
        guard let queueName = AWS.queueName(ofArn: arn) else {
            throw LambdaError.invalid("Unsupported event source \(arn.prefix(200)); Stratus maps SQS queues only")
        }
        guard let queue = host.queues.config(queueName) else {
            throw LambdaError.invalid(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. Queue '\(queueName.prefix(80))' does not exist."
            )
        }
        guard let functionName = try input.string("FunctionName") else {
            throw LambdaError.invalid("FunctionName is required")
        }
        let function = try LambdaFunctionsAPI.function(functionName, host)
        if let existing = queue.consumer {
            let uuid = existing.uuid ?? MessageDigest.uuid(for: "stratus-consumer:\(queue.name)")
            throw LambdaError(
                .conflict, "ResourceConflictException",
                "An event source mapping with SQS arn (\" \(arn) \") already exists (UUID \(uuid), function \(existing.function)). Stratus runs one mapping per queue: update or delete the existing mapping."
            )
        }
        var consumer = QueueConfig.Consumer(function: function.name)
        consumer.uuid = RequestID.make()
        consumer.reportBatchItemFailures = false
        try apply(input, to: &consumer, queue: queue)
        let timeout = function.config.timeout
        _ = try await host.queues.update(queueName) { queue in
            guard queue.consumer == nil else {
                throw LambdaError(.conflict, "ResourceConflictException", "The queue got a mapping meanwhile.")
            }
            try Self.checkVisibility(of: queue, against: timeout)  // the queue as it is now, not as read before
            queue.consumer = consumer
        }
        let mapping = Mapping(uuid: consumer.uuid!, queue: queue, consumer: consumer, declaredAt: nil)
        return (.accepted, shape(mapping, state: "Creating"))
    }

    func update(_ uuid: String, _ request: Request) async throws -> (HTTPResponse.Status, AWSShape) {
        let mapping = try find(uuid)
        try refuseDeclared(mapping, "change")
        let input = try await body(request)
        var consumer = mapping.consumer
        var timeout = host.dispatcher.function(named: consumer.function)?.config.timeout ?? .zero
        if let name = try input.string("FunctionName") {
            let function = try LambdaFunctionsAPI.function(name, host)
            consumer.function = function.name
            timeout = function.config.timeout
        }
        try apply(input, to: &consumer, queue: mapping.queue)
        let (updated, functionTimeout) = (consumer, timeout)
        let queue = try await host.queues.update(mapping.queue.name) { queue in
            guard queue.consumer?.uuid == uuid else {
                throw LambdaError(.conflict, "ResourceConflictException", "The mapping changed meanwhile.")
            }
            if updated.function != mapping.consumer.function {
                try Self.checkVisibility(of: queue, against: functionTimeout)
            }
            queue.consumer = updated
        }
        // As Lambda: a change of `Enabled` is the mapping enabling or disabling, anything else updating it.
        let state =
            updated.enabled == mapping.consumer.enabled ? "Updating" : updated.enabled ? "Enabling" : "Disabling"
        return (
            .accepted, shape(Mapping(uuid: uuid, queue: queue, consumer: updated, declaredAt: nil), state: state)
        )
    }

    func delete(_ uuid: String) async throws -> (HTTPResponse.Status, AWSShape) {
        let mapping = try find(uuid)
        try refuseDeclared(mapping, "remove")
        _ = try await host.queues.update(mapping.queue.name) { queue in
            if queue.consumer?.uuid == uuid { queue.consumer = nil }
        }
        return (.accepted, shape(mapping, state: "Deleting"))
    }

    /// Applies the settings of a create or update, each in Lambda's range.
    private func apply(_ input: AWSInput, to consumer: inout QueueConfig.Consumer, queue: QueueConfig) throws {
        // Settings of stream sources (Kinesis, DynamoDB, Kafka) that SQS mappings do not have: refused rather
        // than dropped, so that what works here also deploys.
        for name in Self.streamOnlyParameters where input[name] != nil {
            throw LambdaError.invalid("Unsupported \(name) parameter for given event source (SQS).")
        }
        if input["BatchSize"] != nil {
            let maximum = queue.fifo ? Limits.batchSizeWithoutWindow : Limits.batchSize.upperBound
            guard let size = try input.int("BatchSize"), (1...maximum).contains(size) else {
                throw LambdaError.invalid(
                    "BatchSize must be between 1 and \(maximum) for \(queue.fifo ? "SQS FIFO queues" : "SQS")")
            }
            consumer.batchSize = size
        }
        if input["MaximumBatchingWindowInSeconds"] != nil {
            guard let window = try input.int("MaximumBatchingWindowInSeconds"), (0...300).contains(window) else {
                throw LambdaError.invalid("MaximumBatchingWindowInSeconds must be between 0 and 300")
            }
            if queue.fifo && window > 0 {
                throw LambdaError.invalid("Batching window is not supported for FIFO queues.")
            }
            consumer.batchWindowMs = Int64(window) * 1000
        }
        if let criteria = try input.object("FilterCriteria") {
            let patterns = try criteria.objects("Filters").map { filter -> String in
                guard let pattern = try filter.string("Pattern") else {
                    throw LambdaError.invalid("Invalid filter pattern definition. Each filter needs a Pattern.")
                }
                return pattern
            }
            do {
                _ = try EventFilter(patterns: patterns)
            } catch {
                throw LambdaError.invalid("Invalid filter pattern definition. \(error.description)")
            }
            consumer.filterPatterns = patterns
        }
        if consumer.batchSize > 10 && consumer.batchWindowMs < 1000 {
            throw LambdaError.invalid(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
        }
        if let enabled = try input.bool("Enabled") { consumer.enabled = enabled }
        if input["StartingPosition"] != nil || input["StartingPositionTimestamp"] != nil {
            throw LambdaError.invalid("StartingPosition is not valid for SQS event sources.")
        }
        if input["FunctionResponseTypes"] != nil {
            let types = try input.strings("FunctionResponseTypes")
            guard types.allSatisfy({ $0 == "ReportBatchItemFailures" }) else {
                throw LambdaError.invalid("FunctionResponseTypes may only contain ReportBatchItemFailures")
            }
            consumer.reportBatchItemFailures = !types.isEmpty
        }
        if let scaling = try input.object("ScalingConfig") {
            if scaling["MaximumConcurrency"] != nil {
                guard let concurrency = try scaling.int("MaximumConcurrency"), (2...1000).contains(concurrency) else {
                    throw LambdaError.invalid("ScalingConfig.MaximumConcurrency must be between 2 and 1000")
                }
                consumer.maxConcurrency = concurrency
            } else {
                // As Lambda: an empty ScalingConfig removes the setting.
                consumer.maxConcurrency = QueueConfig.Consumer(function: consumer.function).maxConcurrency
            }
        }
        consumer.modifiedAtMs = host.queues.nowMs
    }

    /// Lambda's check when a mapping is made or gets another function: the queue's messages must stay hidden
    /// while the function may still run them.
    static func checkVisibility(of queue: QueueConfig, against timeout: Duration) throws {
        guard queue.visibilityTimeoutMs >= timeout.milliseconds else {
            throw LambdaError.invalid(
                "Queue visibility timeout: \(queue.visibilityTimeoutMs / 1000) seconds is less than Function timeout: \((timeout.milliseconds + 999) / 1000) seconds"
            )
        }
    }

    /// Event source mapping parameters that apply to streams and Kafka only.
    static let streamOnlyParameters = [
        "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "ParallelizationFactor",
        "DestinationConfig", "TumblingWindowInSeconds", "Topics", "Queues", "SourceAccessConfigurations",
        "SelfManagedEventSource", "SelfManagedKafkaEventSourceConfig", "AmazonManagedKafkaEventSourceConfig",
        "DocumentDBEventSourceConfig",
    ]

    private func refuseDeclared(_ mapping: Mapping, _ verb: String) throws {
        if let place = mapping.declaredAt {
            throw LambdaError(
                .conflict, "ResourceConflictException",
                "This mapping is the consumer of queue '\(mapping.queue.name)' declared in \(place); \(verb) it there (trigger files own what they declare)."
            )
        }
    }

    private func body(_ request: Request) async throws -> AWSInput {
        guard let buffer = await collectBody(request) else {
            throw LambdaError.tooLarge
        }
        if buffer.readableBytes == 0 { return AWSInput([:]) }
        guard let fields = JSONValue.parseObject(buffer.readableBytesView) else {
            throw LambdaError(.badRequest, "InvalidRequestContentException", "Could not parse request body into json")
        }
        return AWSInput(fields)
    }
}

extension Triggers {
    mutating func parseQueue(
        _ name: String, _ item: YAMLValue, functions: Set<String>, timeouts: [String: Duration]
    ) throws(ManifestError) -> QueueConfig {
        var queue = QueueConfig(name: name)
        var consumerLine: YAMLValue?
        if item.isNull { return queue }
        for (key, value) in try item.mapping() {
            switch key {
            case "visibilityTimeout":
                queue.visibilityTimeoutMs = try value.duration(in: Limits.visibilityTimeout).milliseconds
            case "maxReceiveCount": queue.maxReceiveCount = try value.int(in: Limits.maxReceiveCount)
            case "deadLetterQueue":
                let target = try value.string()
                queue.deadLetterQueue = target
                references.append((target, value.error("unknown queue '\(target)'; declare it under queues:")))
            case "retention": queue.retentionMs = try value.duration(in: Limits.retention).milliseconds
            case "delay": queue.delayMs = try value.duration(in: Limits.messageDelay).milliseconds
            case "fifo":
                queue.fifo = try value.bool()
                guard queue.fifo == name.hasSuffix(".fifo") else {
                    throw value.error(
                        queue.fifo
                            ? "a FIFO queue's name must end in .fifo (got '\(name)')"
                            : "a queue named .fifo is a FIFO queue: fifo cannot be false")
                }
            case "contentBasedDeduplication": queue.contentBasedDeduplication = try value.bool()
            case "consumer":
                let consumer = try parseConsumer(value, functions: functions)
                consumerLine = value
                queue.consumer = consumer
            default:
                break
            }
        }
        if queue.deadLetterQueue != nil && queue.maxReceiveCount == nil {
            queue.maxReceiveCount = QueueConfig.defaultMaxReceiveCount
        }
        if queue.deadLetterQueue == name { throw item.error("queue '\(name)' cannot be its own deadLetterQueue") }
        if queue.contentBasedDeduplication, !queue.fifo {
            throw item.error("contentBasedDeduplication is for FIFO queues (a name ending in .fifo, fifo: true)")
        }
        if let dlq = queue.deadLetterQueue, dlq.hasSuffix(".fifo") != queue.fifo {
            throw item.error(
                "the deadLetterQueue of a \(queue.fifo ? "FIFO" : "standard") queue must be \(queue.fifo ? "FIFO" : "standard") too ('\(dlq)')"
            )
        }
        // As Lambda's: a FIFO queue's batches are small and not gathered over a window.
        if queue.fifo, let consumer = queue.consumer,
            consumer.batchSize > Limits.batchSizeWithoutWindow || consumer.batchWindowMs > 0
        {
            throw (consumerLine ?? item).error(
                "a FIFO queue's consumer takes at most \(Limits.batchSizeWithoutWindow) messages a batch and no "
                    + "batchWindow, as Lambda's (got batchSize \(consumer.batchSize), batchWindow "
                    + "\(DurationParser.format(.milliseconds(consumer.batchWindowMs))))")
        }
        // Lambda refuses an event source mapping whose queue would show a message again while the function
        // may still be running it: the message would run twice.
        if let consumer = queue.consumer, let timeout = timeouts[consumer.function],
            queue.visibilityTimeoutMs < timeout.milliseconds
        {
            throw (consumerLine ?? item).error(
                "queue '\(name)' has a visibilityTimeout of \(DurationParser.format(.milliseconds(queue.visibilityTimeoutMs))), "
                    + "shorter than the timeout of its consumer '\(consumer.function)' "
                    + "(\(DurationParser.format(timeout))); a message would run twice. Set visibilityTimeout to at least "
                    + "the function's timeout (AWS recommends 6 times it)")
        }
        return queue
    }

    /// Reads a consumer the schema has checked (it names a function); the function must exist, and a batch
    /// above Lambda's size needs a window.
    private func parseConsumer(_ value: YAMLValue, functions: Set<String>) throws(ManifestError)
        -> QueueConfig.Consumer
    {
        var consumer = QueueConfig.Consumer(function: "")
        for (field, entry) in try value.mapping() {
            switch field {
            case "function":
                consumer.function = try entry.string()
                guard functions.contains(consumer.function) else {
                    throw entry.error(
                        "unknown function '\(consumer.function)'; expected one of: "
                            + functions.sorted().joined(separator: ", "))
                }
            case "batchSize": consumer.batchSize = try entry.int(in: Limits.batchSize)
            case "batchWindow": consumer.batchWindowMs = try entry.duration(in: Limits.batchWindow).milliseconds
            case "maxConcurrency": consumer.maxConcurrency = try entry.int(in: Limits.consumerConcurrency)
            case "filters":
                for pattern in try entry.sequence() {
                    let text = try pattern.jsonValue().jsonText
                    do {
                        try EventFilter.check(text)
                    } catch {
                        throw pattern.error("invalid filter pattern: \(error.description)")
                    }
                    consumer.filterPatterns.append(text)
                }
            default: break
            }
        }
        if consumer.batchSize > Limits.batchSizeWithoutWindow
            && consumer.batchWindowMs < Limits.largeBatchWindow.milliseconds
        {
            throw value.error(
                "batchSize \(consumer.batchSize) needs a batchWindow of at least "
                    + "\(DurationParser.format(Limits.largeBatchWindow)) (as Lambda requires above "
                    + "\(Limits.batchSizeWithoutWindow))")
        }
        return consumer
    }
}

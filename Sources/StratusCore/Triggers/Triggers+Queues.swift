extension Triggers {
    mutating func parseQueue(
        _ name: String, _ item: YAMLValue, functions: Set<String>, timeouts: [String: Duration]
    ) throws(ManifestError) -> QueueConfig {
        var queue = QueueConfig(name: name)
        var consumerLine: YAMLValue?
        if item.isNull { return queue }
        let keys: Set<String> = [
            "visibilityTimeout", "maxReceiveCount", "deadLetterQueue", "retention", "delay", "consumer",
        ]
        for (key, value) in try item.mapping(allowed: keys) {
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
            default:
                var consumer: QueueConfig.Consumer?
                for (field, entry) in try value.mapping(allowed: [
                    "function", "batchSize", "batchWindow", "maxConcurrency",
                ]) {
                    switch field {
                    case "function":
                        let function = try entry.string()
                        guard functions.contains(function) else {
                            throw entry.error(
                                "unknown function '\(function)'; expected one of: \(functions.sorted().joined(separator: ", "))"
                            )
                        }
                        consumer = consumer ?? QueueConfig.Consumer(function: function)
                        consumer?.function = function
                    case "batchSize":
                        consumer = consumer ?? QueueConfig.Consumer(function: "")
                        consumer?.batchSize = try entry.int(in: Limits.batchSize)
                    case "batchWindow":
                        consumer = consumer ?? QueueConfig.Consumer(function: "")
                        consumer?.batchWindowMs = try entry.duration(in: Limits.batchWindow).milliseconds
                    default:
                        consumer = consumer ?? QueueConfig.Consumer(function: "")
                        consumer?.maxConcurrency = try entry.int(in: Limits.consumerConcurrency)
                    }
                }
                guard let consumer, !consumer.function.isEmpty else { throw value.error("missing 'function'") }
                if consumer.batchSize > 10 && consumer.batchWindowMs < 1000 {
                    throw value.error(
                        "batchSize \(consumer.batchSize) needs a batchWindow of at least 1s (as Lambda requires above 10)"
                    )
                }
                consumerLine = value
                queue.consumer = consumer
            }
        }
        if queue.deadLetterQueue != nil && queue.maxReceiveCount == nil { queue.maxReceiveCount = 5 }
        if queue.deadLetterQueue == name { throw item.error("queue '\(name)' cannot be its own deadLetterQueue") }
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
}

import Foundation
import StratusCore
import StratusRuntime
import Synchronization

/// The SQS operations, on the host's one queue model: what they create is what `/v1/queues` and
/// `stratus queues` show, and queues declared in trigger files can be used but not changed here.
struct SQSOperations {
    let host: StratusHost
    let info: AWSRequestInfo

    /// Runs `action`; `nil` is an answer without a result element.
    func perform(_ action: String, _ input: AWSInput) async throws -> AWSShape? {
        switch action {
        case "CreateQueue": return try await createQueue(input)
        case "GetQueueUrl": return try getQueueUrl(input)
        case "ListQueues": return try listQueues(input)
        case "DeleteQueue": return try await deleteQueue(input)
        case "GetQueueAttributes": return try await getQueueAttributes(input)
        case "SetQueueAttributes": return try await setQueueAttributes(input)
        case "SendMessage": return try await sendMessage(input)
        case "SendMessageBatch": return try await sendMessageBatch(input)
        case "ReceiveMessage": return try await receiveMessage(input)
        case "DeleteMessage": return try await deleteMessage(input)
        case "DeleteMessageBatch": return try await deleteMessageBatch(input)
        case "ChangeMessageVisibility": return try await changeVisibility(input)
        case "ChangeMessageVisibilityBatch": return try await changeVisibilityBatch(input)
        case "PurgeQueue":
            let name = try queueName(input)
            // SQS allows one purge a minute per queue.
            let nowMs = host.queues.nowMs
            let allowed = Self.lastPurges.withLock { purges in
                if let last = purges[name], nowMs - last < 60_000 { return false }
                purges[name] = nowMs
                return true
            }
            guard allowed else {
                throw SQSError(
                    type: "PurgeQueueInProgress", code: "AWS.SimpleQueueService.PurgeQueueInProgress",
                    message: "Only one PurgeQueue operation on \(name) is allowed every 60 seconds.")
            }
            _ = try await host.queues.purge(name)
            return nil
        case "ListDeadLetterSourceQueues": return try listDeadLetterSourceQueues(input)
        case "StartMessageMoveTask": return try await startMessageMoveTask(input)
        case "ListMessageMoveTasks": return try listMessageMoveTasks(input)
        case "TagQueue": return try await tag(input, add: try input.stringMap("Tags"), remove: [])
        case "UntagQueue": return try await tag(input, add: [:], remove: try input.strings("TagKeys"))
        case "ListQueueTags":
            let queue = try config(input)
            return .structure([
                ("Tags", .strings(queue.tags, entry: "Tag", flattened: true, key: "Key", value: "Value"))
            ])
        case "":
            throw SQSError(type: "MissingAction", code: "MissingAction", message: "The request must name an Action.")
        default:
            throw SQSError(
                type: "InvalidAction", code: "InvalidAction",
                message:
                    "The action \(action.prefix(100)) is not valid for this endpoint (Stratus does not implement it).")
        }
    }

    // MARK: Queues

    private func createQueue(_ input: AWSInput) async throws -> AWSShape {
        guard let name = try input.string("QueueName") else { throw SQSError.missing("QueueName") }
        guard QueueConfig.isValidQueueName(name) else {
            throw SQSError.invalidParameter(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
        }
        let attributes = try input.stringMap("Attributes")
        if let existing = host.queues.config(name) {
            var wanted = existing
            try apply(attributes, to: &wanted)
            guard wanted.hasSameAttributes(as: existing) else {
                let differing = attributes.keys.sorted().first { key in
                    var one = existing
                    try? apply([key: attributes[key]!], to: &one)
                    return !one.hasSameAttributes(as: existing)
                }
                throw SQSError(
                    type: "QueueNameExists", code: "QueueAlreadyExists",
                    message:
                        "A queue already exists with the same name and a different value for attribute \(differing ?? "Attributes")"
                )
            }
            return .structure([("QueueUrl", .string(url(name)))])
        }
        var queue = QueueConfig(name: name)
        // As SQS: a .fifo name is a FIFO queue only with FifoQueue=true.
        queue.fifo = false
        try apply(attributes, to: &queue)
        guard queue.fifo == name.hasSuffix(".fifo") else {
            throw SQSError.invalidParameter(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length; a .fifo queue needs the attribute FifoQueue=true."
            )
        }
        queue.tags = try input.stringMap("Tags").merging(try input.stringMap("tags")) { a, _ in a }
        try Self.checkTags(queue.tags)
        guard queue.tags.count <= 50 else { throw SQSError.invalidParameter("A queue can have at most 50 tags.") }
        try await host.queues.create(queue)
        return .structure([("QueueUrl", .string(url(name)))])
    }

    private func getQueueUrl(_ input: AWSInput) throws -> AWSShape {
        guard let name = try input.string("QueueName") else { throw SQSError.missing("QueueName") }
        guard host.queues.config(name) != nil else { throw SQSError.queueDoesNotExist }
        return .structure([("QueueUrl", .string(url(name)))])
    }

    private func listQueues(_ input: AWSInput) throws -> AWSShape {
        let prefix = try input.string("QueueNamePrefix") ?? ""
        return try page(of: host.queues.all().map(\.name).filter { $0.hasPrefix(prefix) }, input, "QueueUrls")
    }

    /// One page of queue URLs (names in order), as `ListQueues` and `ListDeadLetterSourceQueues` answer:
    /// `MaxResults` 1 to 1000 (all, up to 1000, without it), and a `NextToken` when more follow.
    private func page(of names: [String], _ input: AWSInput, _ key: String) throws -> AWSShape {
        var names = names.sorted()
        let max = try input.int("MaxResults")
        if let max, !(1...1000).contains(max) {
            throw SQSError.invalidParameter(
                "Value \(max) for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
            )
        }
        if let token = try input.string("NextToken") {
            guard let after = Data(base64Encoded: token).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw SQSError.invalidParameter("Invalid NextToken value.")
            }
            names = names.filter { $0 > after }
        }
        var fields: [(String, AWSShape)] = []
        let page = Array(names.prefix(max ?? 1000))
        if !page.isEmpty || key == "queueUrls" {
            fields.append((key, .list(member: "QueueUrl", flattened: true, page.map { .string(url($0)) })))
        }
        if let max, names.count > max, let last = page.last {
            fields.append(("NextToken", .string(Data(last.utf8).base64EncodedString())))
        }
        return .structure(fields)
    }

    private func deleteQueue(_ input: AWSInput) async throws -> AWSShape? {
        let name = try queueName(input)
        try refuseDeclared(name, "delete")
        try await host.queues.delete(name)
        return nil
    }

    private func getQueueAttributes(_ input: AWSInput) async throws -> AWSShape {
        let queue = try config(input)
        let requested = try input.strings("AttributeNames")
        let all = try await attributes(of: queue)
        var chosen: [String: String] = [:]
        for name in requested {
            if name == "All" {
                chosen = all
                continue
            }
            guard Self.readable.contains(name) else { throw SQSError.invalidAttributeName(name) }
            if let value = all[name] { chosen[name] = value }
        }
        if chosen.isEmpty { return .structure([]) }
        return .structure([
            ("Attributes", .strings(chosen, entry: "Attribute", flattened: true, key: "Name", value: "Value"))
        ])
    }

    private func setQueueAttributes(_ input: AWSInput) async throws -> AWSShape? {
        let name = try queueName(input)
        let attributes = try input.stringMap("Attributes")
        try refuseDeclared(name, "change")
        _ = try await host.queues.update(name) { queue in try apply(attributes, to: &queue) }
        return nil
    }

    private func tag(_ input: AWSInput, add: [String: String], remove: [String]) async throws -> AWSShape? {
        let name = try queueName(input)
        try refuseDeclared(name, "tag")
        try Self.checkTags(add)
        _ = try await host.queues.update(name) { queue in
            queue.tags.merge(add) { _, new in new }
            for key in remove { queue.tags[key] = nil }
            guard queue.tags.count <= 50 else { throw SQSError.invalidParameter("A queue can have at most 50 tags.") }
        }
        return nil
    }

    private func listDeadLetterSourceQueues(_ input: AWSInput) throws -> AWSShape {
        let name = try config(input).name
        return try page(of: host.queues.all().filter { $0.deadLetterQueue == name }.map(\.name), input, "queueUrls")
    }

    /// SQS's redrive: moves a dead-letter queue's messages back to their source queues (or to `DestinationArn`)
    /// as one task that has finished when the answer comes.
    private func startMessageMoveTask(_ input: AWSInput) async throws -> AWSShape {
        let source = try queueArn(input, "SourceArn")
        let dlq = Self.name(ofArn: source)
        guard host.queues.config(dlq) != nil else { throw SQSError.resourceNotFound("SourceArn") }
        guard host.queues.all().contains(where: { $0.deadLetterQueue == dlq }) else {
            throw SQSError.invalidParameter("Source queue must be configured as a Dead Letter Queue.")
        }
        let rate = try bounded(
            input, "MaxNumberOfMessagesPerSecond", 1...500, "Must be between 1 and 500, if provided.")
        let destinationArn = try input["DestinationArn"] == nil ? nil : queueArn(input, "DestinationArn")
        let destination = destinationArn.map(Self.name(ofArn:))
        if let destination, host.queues.config(destination) == nil {
            throw SQSError.resourceNotFound("DestinationArn")
        }
        if destination == dlq {
            throw SQSError.invalidParameter("The source queue and the destination queue cannot be the same queue.")
        }
        let moved = try await host.queues.redrive(from: dlq, to: destination)
        let handle = Data("\(source)|\(RequestID.make())".utf8).base64EncodedString()
        MoveTasks.record(
            .init(
                handle: handle, source: source, destination: destinationArn, rate: rate, moved: moved,
                startedAtMs: host.queues.nowMs))
        return .structure([("TaskHandle", .string(handle))])
    }

    /// A queue's ARN in parameter `name` (required), in the form SQS asks for.
    private func queueArn(_ input: AWSInput, _ name: String) throws -> String {
        guard let arn = try input.string(name) else { throw SQSError.missing(name) }
        guard AWS.queueName(ofArn: arn) != nil else {
            throw SQSError.invalidParameter(
                "You must use this format to specify the \(name): arn:<partition>:<service>:<region>:<account-id>:<resource-id>"
            )
        }
        return arn
    }

    private func listMessageMoveTasks(_ input: AWSInput) throws -> AWSShape {
        let source = try queueArn(input, "SourceArn")
        guard host.queues.config(Self.name(ofArn: source)) != nil else {
            throw SQSError.resourceNotFound("SourceArn")
        }
        // SQS answers the most recent task unless asked for more (at most 10).
        let max = try bounded(input, "MaxResults", 1...10, "Must be between 1 and 10, if provided.") ?? 1
        let tasks = MoveTasks.tasks(for: source).prefix(max).map { task -> AWSShape in
            var fields: [(String, AWSShape)] = [
                ("Status", .string("COMPLETED")), ("SourceArn", .string(task.source)),
                ("ApproximateNumberOfMessagesMoved", .number(Int64(task.moved))),
                ("ApproximateNumberOfMessagesToMove", .number(Int64(task.moved))),
                ("StartedTimestamp", .number(task.startedAtMs)),
            ]
            if let destination = task.destination { fields.append(("DestinationArn", .string(destination))) }
            if let rate = task.rate { fields.append(("MaxNumberOfMessagesPerSecond", .number(Int64(rate)))) }
            return .structure(fields)
        }
        return .structure([("Results", .list(member: "ListMessageMoveTasksResultEntry", flattened: true, tasks))])
    }

    // MARK: Messages

    private func sendMessage(_ input: AWSInput) async throws -> AWSShape {
        let queue = try config(input)
        let message = try outgoing(input, queue: queue)
        let sent = try await host.queues.send([message], to: queue.name)
        return .structure(answer(message, sent[0]))
    }

    private func sendMessageBatch(_ input: AWSInput) async throws -> AWSShape {
        let queue = try config(input)
        let entries = try batchEntries(input, "SendMessageBatchRequestEntry")
        // SQS refuses the whole batch when an entry for a FIFO queue has no group.
        if queue.fifo, try entries.contains(where: { try $0.string("MessageGroupId") == nil }) {
            throw SQSError.missing("MessageGroupId")
        }
        var total = 0
        var accepted: [(id: String, message: OutgoingMessage)] = []
        var failed: [AWSShape] = []
        for entry in entries {
            let id = try entry.string("Id") ?? ""
            do {
                let message = try outgoing(entry, queue: queue)
                total += Self.size(of: message)
                accepted.append((id, message))
            } catch {
                failed.append(Self.failure(id: id, error))
            }
        }
        guard total <= QueueConfig.maxMessageBytes else {
            throw SQSError.batch(
                "BatchRequestTooLong",
                "Batch requests cannot be longer than \(QueueConfig.maxMessageBytes) bytes. You have sent \(total) bytes."
            )
        }
        let sent = accepted.isEmpty ? [] : try await host.queues.send(accepted.map(\.message), to: queue.name)
        let successful = zip(accepted, sent).map { entry, sent -> AWSShape in
            .structure([("Id", .string(entry.id))] + answer(entry.message, sent))
        }
        return .structure([
            ("Successful", .list(member: "SendMessageBatchResultEntry", flattened: true, successful)),
            ("Failed", .list(member: "BatchResultErrorEntry", flattened: true, failed)),
        ])
    }

    /// What a send answers for one message: its id, digests and, in a FIFO queue, its sequence number.
    private func answer(_ message: OutgoingMessage, _ sent: SentMessage) -> [(String, AWSShape)] {
        var fields: [(String, AWSShape)] = [
            ("MessageId", .string(sent.id)), ("MD5OfMessageBody", .string(MessageDigest.body(message.body))),
        ]
        if let sequence = sent.sequenceNumber { fields.append(("SequenceNumber", .string(sequence))) }
        if let digest = MessageDigest.attributes(message.attributes) {
            fields.append(("MD5OfMessageAttributes", .string(digest)))
        }
        if let trace = message.traceHeader,
            let digest = MessageDigest.attributes(["AWSTraceHeader": .init(dataType: "String", stringValue: trace)])
        {
            fields.append(("MD5OfMessageSystemAttributes", .string(digest)))
        }
        return fields
    }

    /// A message to send, checked as SQS checks it.
    private func outgoing(_ input: AWSInput, queue: QueueConfig) throws -> OutgoingMessage {
        guard let body = try input.string("MessageBody") else { throw SQSError.missing("MessageBody") }
        guard !body.isEmpty else { throw SQSError.missing("MessageBody") }
        if let bad = body.unicodeScalars.first(where: { !Self.allowed($0) }) {
            throw SQSError(
                type: "InvalidMessageContents", code: "InvalidMessageContents",
                message:
                    "Invalid binary character '#x\(String(bad.value, radix: 16, uppercase: true))' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
            )
        }
        var message = OutgoingMessage(body: body, attributes: try messageAttributes(input, "MessageAttributes"))
        message.groupId = try input.string("MessageGroupId")
        message.deduplicationId = try input.string("MessageDeduplicationId")
        if queue.fifo {
            guard message.groupId != nil else { throw SQSError.missing("MessageGroupId") }
            if input["DelaySeconds"] != nil {
                throw SQSError.invalidParameter(
                    "Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
                )
            }
        }
        if let delay = input["DelaySeconds"] {
            guard let seconds = try input.int("DelaySeconds"), (0...900).contains(seconds) else {
                throw SQSError.invalidParameter(
                    "Value \(AWSInput.text(of: delay)) for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided."
                )
            }
            message.delayMs = Int64(seconds) * 1000
        }
        if let system = try input.object("MessageSystemAttributes") {
            for name in system.fields.keys where name != "AWSTraceHeader" {
                throw SQSError.invalidParameter(
                    "Message system attribute name '\(name.prefix(100))' is invalid. Only AWSTraceHeader is supported.")
            }
            if let trace = try system.object("AWSTraceHeader") {
                guard try trace.string("DataType") == "String" else {
                    throw SQSError.invalidParameter(
                        "The message system attribute 'AWSTraceHeader' must have the DataType String.")
                }
                message.traceHeader = try trace.string("StringValue")
            }
            if let trace = message.traceHeader,
                trace.isEmpty || trace.utf8.count > 2048 || !MessageAttribute.hasAllowedCharacters(trace)
            {
                throw SQSError.invalidParameter(
                    "The AWSTraceHeader message system attribute must have 1 to 2048 bytes, without control characters."
                )
            }
        }
        let size = Self.size(of: message)
        guard size <= queue.maxMessageBytes else {
            throw SQSError.invalidParameter(
                "One or more parameters are invalid. Reason: Message must be shorter than \(queue.maxMessageBytes) bytes."
            )
        }
        return message
    }

    /// Message attributes as SQS checks them: `{DataType, StringValue | BinaryValue}` each.
    private func messageAttributes(_ input: AWSInput, _ key: String) throws -> [String: MessageAttribute] {
        guard let object = try input.object(key) else { return [:] }
        var attributes: [String: MessageAttribute] = [:]
        for (name, _) in object.fields {
            guard let value = try object.object(name), let type = try value.string("DataType"), !type.isEmpty else {
                throw SQSError.invalidParameter(
                    "The message attribute '\(name.prefix(256))' must contain a non-empty DataType.")
            }
            let attribute: MessageAttribute
            if type == "Binary" || type.hasPrefix("Binary.") {
                guard let base64 = try value.string("BinaryValue"), Data(base64Encoded: base64) != nil else {
                    throw SQSError.invalidParameter(
                        "The message attribute '\(name.prefix(256))' with type 'Binary' must use field 'Binary'.")
                }
                attribute = MessageAttribute(dataType: type, stringValue: base64)
            } else {
                guard let text = try value.string("StringValue") else {
                    throw SQSError.invalidParameter(
                        "The message attribute '\(name.prefix(256))' with type '\(type.prefix(256))' must use field 'String'."
                    )
                }
                attribute = MessageAttribute(dataType: type, stringValue: text)
            }
            attributes[name] = attribute
        }
        if let problem = MessageAttribute.problem(in: attributes) { throw SQSError.invalidParameter(problem) }
        return attributes
    }

    private func receiveMessage(_ input: AWSInput) async throws -> AWSShape {
        let queue = try config(input)
        let max = try bounded(input, "MaxNumberOfMessages", 1...10, "Must be between 1 and 10, if provided.") ?? 1
        let wait =
            try bounded(input, "WaitTimeSeconds", 0...20, "Must be >= 0 and <= 20, if provided.").map {
                Int64($0) * 1000
            } ?? queue.receiveWaitMs
        let visibility = try bounded(
            input, "VisibilityTimeout", 0...43_200, "Must be between 0 and 43200, if provided.")
        // Only FIFO queues read it; a standard queue ignores it, as SQS does.
        let attempt = queue.fifo ? try input.string("ReceiveRequestAttemptId") : nil
        if let attempt, !QueueConfig.isValidId(attempt) {
            throw SQSError.invalidParameter(
                "Value \(attempt.prefix(200)) for parameter ReceiveRequestAttemptId is invalid. Reason: it must be 1 to 128 characters, letters, digits and punctuation."
            )
        }
        let messages: [QueueMessage]
        if queue.fifo, let attempt,
            let again = try await replay(attempt, in: queue, visibilityMs: visibility.map { Int64($0) * 1000 })
        {
            messages = again
        } else {
            messages = try await host.queues.receive(
                from: queue.name, max: max, visibilityTimeoutMs: visibility.map { Int64($0) * 1000 },
                wait: .milliseconds(wait))
            if queue.fifo, let attempt, !messages.isEmpty {
                ReceiveAttempts.record(attempt, in: queue.name, host: host, messages, nowMs: host.queues.nowMs)
            }
        }
        let systemNames = Set(try input.strings("AttributeNames") + input.strings("MessageSystemAttributeNames"))
        let attributeNames = try input.strings("MessageAttributeNames")
        let shaped = messages.map { message -> AWSShape in
            var fields: [(String, AWSShape)] = [
                ("MessageId", .string(message.id)), ("ReceiptHandle", .string(message.receiptHandle ?? "")),
                ("MD5OfBody", .string(MessageDigest.body(message.body))), ("Body", .string(message.body)),
            ]
            let system = systemAttributes(of: message, wanted: systemNames)
            if !system.isEmpty {
                fields.append(
                    ("Attributes", .strings(system, entry: "Attribute", flattened: true, key: "Name", value: "Value")))
            }
            let attributes = message.attributes.filter { Self.selected($0.key, by: attributeNames) }
            if let digest = MessageDigest.attributes(attributes) {
                fields.append(("MD5OfMessageAttributes", .string(digest)))
                let entries = attributes.sorted { $0.key < $1.key }.map { name, attribute -> (String, AWSShape) in
                    (
                        name,
                        .structure([
                            (attribute.isBinary ? "BinaryValue" : "StringValue", .string(attribute.stringValue)),
                            ("DataType", .string(attribute.dataType)),
                        ])
                    )
                }
                fields.append(
                    (
                        "MessageAttributes",
                        .map(entry: "MessageAttribute", flattened: true, key: "Name", value: "Value", entries)
                    ))
            }
            return .structure(fields)
        }
        return .structure(shaped.isEmpty ? [] : [("Messages", .list(member: "Message", flattened: true, shaped))])
    }

    /// A FIFO receive retried with the attempt id of one within the last 5 minutes: the same messages with the
    /// same receipt handles, their visibility timeout started again, as SQS answers it; `nil` (a new receive)
    /// once any of them was deleted, changed or is visible again (those it had hidden again are made visible).
    private func replay(_ attempt: String, in queue: QueueConfig, visibilityMs: Int64?) async throws -> [QueueMessage]?
    {
        let nowMs = host.queues.nowMs
        guard let messages = ReceiveAttempts.find(attempt, in: queue.name, host: host, nowMs: nowMs) else {
            return nil
        }
        var hidden: [String] = []
        for message in messages {
            if let handle = message.receiptHandle,
                try await host.queues.changeVisibility(
                    in: queue.name, receiptHandle: handle, timeoutMs: visibilityMs ?? queue.visibilityTimeoutMs)
                    == .changed
            {
                hidden.append(handle)
                continue
            }
            ReceiveAttempts.forget(attempt, in: queue.name, host: host)
            for handle in hidden {
                _ = try? await host.queues.changeVisibility(in: queue.name, receiptHandle: handle, timeoutMs: 0)
            }
            return nil
        }
        return messages
    }

    private func systemAttributes(of message: QueueMessage, wanted: Set<String>) -> [String: String] {
        guard !wanted.isEmpty else { return [:] }
        var all: [String: String] = [
            "SenderId": AWS.accountId, "SentTimestamp": String(message.sentAtMs),
            "ApproximateReceiveCount": String(message.receiveCount),
            "ApproximateFirstReceiveTimestamp": String(message.firstReceivedAtMs ?? message.sentAtMs),
        ]
        if let trace = message.traceHeader { all["AWSTraceHeader"] = trace }
        if let source = message.sourceQueue { all["DeadLetterQueueSourceArn"] = arn(source) }
        if let group = message.groupId { all["MessageGroupId"] = group }
        if let dedup = message.deduplicationId { all["MessageDeduplicationId"] = dedup }
        if let sequence = message.sequenceNumber { all["SequenceNumber"] = sequence }
        if wanted.contains("All") { return all }
        return all.filter { wanted.contains($0.key) }
    }

    private func deleteMessage(_ input: AWSInput) async throws -> AWSShape? {
        let name = try queueName(input)
        guard let handle = try input.string("ReceiptHandle") else { throw SQSError.missing("ReceiptHandle") }
        guard Self.isReceiptHandle(handle) else { throw SQSError.receiptHandleInvalid(handle) }
        ReceiveAttempts.forget(handles: [handle])
        _ = try await host.queues.delete(from: name, receiptHandles: [handle])
        return nil
    }

    private func deleteMessageBatch(_ input: AWSInput) async throws -> AWSShape {
        let name = try queueName(input)
        let entries = try batchEntries(input, "DeleteMessageBatchRequestEntry")
        var successful: [AWSShape] = []
        var failed: [AWSShape] = []
        var handles: [String] = []
        for entry in entries {
            let id = try entry.string("Id") ?? ""
            guard let handle = try entry.string("ReceiptHandle"), Self.isReceiptHandle(handle) else {
                failed.append(
                    Self.failure(id: id, SQSError.receiptHandleInvalid(try entry.string("ReceiptHandle") ?? "")))
                continue
            }
            handles.append(handle)
            successful.append(.structure([("Id", .string(id))]))
        }
        // One transaction for the batch (a stale handle deletes nothing and succeeds, as in SQS).
        ReceiveAttempts.forget(handles: handles)
        if !handles.isEmpty { _ = try await host.queues.delete(from: name, receiptHandles: handles) }
        return .structure([
            ("Successful", .list(member: "DeleteMessageBatchResultEntry", flattened: true, successful)),
            ("Failed", .list(member: "BatchResultErrorEntry", flattened: true, failed)),
        ])
    }

    private func changeVisibility(_ input: AWSInput) async throws -> AWSShape? {
        let name = try queueName(input)
        try await changeVisibility(of: input, in: name)
        return nil
    }

    private func changeVisibility(of entry: AWSInput, in queue: String) async throws {
        guard let handle = try entry.string("ReceiptHandle") else { throw SQSError.missing("ReceiptHandle") }
        guard Self.isReceiptHandle(handle) else { throw SQSError.receiptHandleInvalid(handle) }
        guard entry["VisibilityTimeout"] != nil else { throw SQSError.missing("VisibilityTimeout") }
        let seconds =
            try bounded(entry, "VisibilityTimeout", 0...43_200, "Must be between 0 and 43200, if provided.") ?? 0
        let timeoutMs = Int64(seconds) * 1000
        ReceiveAttempts.forget(handles: [handle])
        switch try await host.queues.changeVisibility(in: queue, receiptHandle: handle, timeoutMs: timeoutMs) {
        case .changed, .notInFlight:
            // A handle whose message is visible again (its timeout ran out, or was set to 0) is a success that
            // changes nothing, as SQS answers it (LocalStack and moto found the same against AWS).
            break
        case .unknownHandle:
            throw SQSError.invalidParameter(
                "Value \(handle.prefix(200)) for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
            )
        }
    }

    private func changeVisibilityBatch(_ input: AWSInput) async throws -> AWSShape {
        let name = try queueName(input)
        let entries = try batchEntries(input, "ChangeMessageVisibilityBatchRequestEntry")
        var successful: [AWSShape] = []
        var failed: [AWSShape] = []
        for entry in entries {
            let id = try entry.string("Id") ?? ""
            do {
                try await changeVisibility(of: entry, in: name)
                successful.append(.structure([("Id", .string(id))]))
            } catch let error as SQSError {
                failed.append(Self.failure(id: id, error))
            }
        }
        return .structure([
            ("Successful", .list(member: "ChangeMessageVisibilityBatchResultEntry", flattened: true, successful)),
            ("Failed", .list(member: "BatchResultErrorEntry", flattened: true, failed)),
        ])
    }

    // MARK: Helpers

    /// When each queue was last purged (epoch ms), for SQS's one purge a minute.
    static let lastPurges = Mutex<[String: Int64]>([:])

    /// SQS's tag limits: keys of 1 to 128 characters, values of at most 256, of the characters SQS allows.
    static func checkTags(_ tags: [String: String]) throws {
        for (key, value) in tags {
            guard (1...128).contains(key.count), value.count <= 256, MessageAttribute.hasAllowedCharacters(key),
                MessageAttribute.hasAllowedCharacters(value)
            else {
                throw SQSError.invalidParameter(
                    "Tag '\(key.prefix(128))' is invalid: keys have 1 to 128 characters and values at most 256, without control characters."
                )
            }
        }
    }

    /// A batch's entries: 1 to 10, with distinct ids of letters, digits, `-` and `_`.
    private func batchEntries(_ input: AWSInput, _ entry: String) throws -> [AWSInput] {
        let entries = try input.objects("Entries")
        guard !entries.isEmpty else {
            throw SQSError.batch("EmptyBatchRequest", "There should be at least one \(entry) in the request.")
        }
        guard entries.count <= 10 else {
            throw SQSError.batch(
                "TooManyEntriesInBatchRequest",
                "Maximum number of entries per request are 10. You have sent \(entries.count).")
        }
        var seen: Set<String> = []
        for entry in entries {
            let id = try entry.string("Id") ?? ""
            guard (1...80).contains(id.utf8.count),
                id.utf8.allSatisfy({
                    $0 == 0x2D || $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A)
                })
            else {
                throw SQSError.batch(
                    "InvalidBatchEntryId",
                    "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."
                )
            }
            guard seen.insert(id).inserted else {
                throw SQSError.batch("BatchEntryIdsNotDistinct", "Id \(id) repeated.")
            }
        }
        return entries
    }

    private static func failure(id: String, _ error: any Error) -> AWSShape {
        let failure = SQSError(error)
        return .structure([
            ("Id", .string(id)), ("SenderFault", .bool(true)), ("Code", .string(failure.code)),
            ("Message", .string(failure.message)),
        ])
    }

    /// An integer parameter within `range`, `nil` when absent; out of range or not a number is SQS's
    /// `InvalidParameterValue` naming it.
    private func bounded(_ input: AWSInput, _ name: String, _ range: ClosedRange<Int>, _ reason: String) throws -> Int?
    {
        guard let raw = input[name] else { return nil }
        guard let value = try? input.int(name), range.contains(value) else {
            throw SQSError.invalidParameter(
                "Value \(AWSInput.text(of: raw)) for parameter \(name) is invalid. Reason: \(reason)"
            )
        }
        return value
    }

    /// The queue a `QueueUrl` names, by its last path segment, whatever host and port it carries.
    private func config(_ input: AWSInput) throws -> QueueConfig {
        guard let url = try input.string("QueueUrl"), !url.isEmpty else { throw SQSError.missing("QueueUrl") }
        let path = url.split(separator: "?", maxSplits: 1).first ?? ""
        guard let name = path.split(separator: "/").last.map(String.init), let queue = host.queues.config(name) else {
            throw SQSError.queueDoesNotExist
        }
        return queue
    }

    private func queueName(_ input: AWSInput) throws -> String { try config(input).name }

    private func refuseDeclared(_ name: String, _ verb: String) throws {
        if let place = host.project.triggers.declaration(ofQueue: name) {
            throw SQSError.unsupported(
                "Queue '\(name)' is declared in \(place); \(verb) it there (trigger files own the queues they declare)."
            )
        }
    }

    func url(_ name: String) -> String { "http://\(info.authority)/\(AWS.accountId)/\(name)" }
    func arn(_ name: String) -> String { "arn:aws:sqs:\(info.region):\(AWS.accountId):\(name)" }

    static func name(ofArn arn: String) -> String {
        String(arn.split(separator: ":", omittingEmptySubsequences: false).last ?? "")
    }

    static func isReceiptHandle(_ handle: String) -> Bool {
        guard let dot = handle.lastIndex(of: ".") else { return false }
        return Int64(handle[handle.index(after: dot)...]) != nil
    }

    /// What SQS counts against `MaximumMessageSize`: the body and every attribute's name, type and value.
    static func size(of message: OutgoingMessage) -> Int {
        message.body.utf8.count + MessageAttribute.size(of: message.attributes)
    }

    /// SQS's allowed characters: `#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF`.
    static func allowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// Whether `MessageAttributeNames` asks for `name`: `All`, `.*`, the name, or a `prefix.*` it starts with.
    static func selected(_ name: String, by patterns: [String]) -> Bool {
        patterns.contains { pattern in
            if pattern == "All" || pattern == ".*" || pattern == name { return true }
            if pattern.hasSuffix(".*") { return name.hasPrefix(pattern.dropLast(1)) }
            return false
        }
    }
}

/// The message move tasks (redrives) this host ran, newest first, for `ListMessageMoveTasks`.
/// The FIFO receives of the last 5 minutes that named a `ReceiveRequestAttemptId`, per host, queue and id, in
/// the memory of the host that answered them: at most 10,000 of them and 32 MB of message bodies, the oldest
/// dropped first. A delete or visibility change of one of their messages through this API forgets them.
enum ReceiveAttempts {
    static let windowMs: Int64 = 300_000
    private static let maxEntries = 10_000
    private static let maxBytes = 32 << 20

    private struct Entry {
        var atMs: Int64
        var messages: [QueueMessage]
        var bytes: Int
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys in the order recorded, from `head` on (a key may be recorded again later: its older place is
        /// skipped when its time does not match).
        var order: [(key: String, atMs: Int64)] = []
        var head = 0
        var bytes = 0
        var byHandle: [String: String] = [:]

        mutating func remove(_ key: String) {
            guard let entry = entries.removeValue(forKey: key) else { return }
            bytes -= entry.bytes
            for handle in entry.messages.compactMap(\.receiptHandle) { byHandle.removeValue(forKey: handle) }
        }

        /// Drops what is older than the window, then the oldest while over the limits.
        mutating func trim(nowMs: Int64) {
            while head < order.count {
                let (key, atMs) = order[head]
                guard let entry = entries[key], entry.atMs == atMs else {
                    head += 1
                    continue
                }
                guard nowMs - atMs >= windowMs || entries.count > maxEntries || bytes > maxBytes else { break }
                remove(key)
                head += 1
            }
            // Places left behind by keys recorded again, or forgotten, go once they outnumber the entries.
            if order.count - head > 2 * Swift.max(entries.count, 1024) {
                order = order[head...].filter { entries[$0.key]?.atMs == $0.atMs }
                head = 0
            } else if head > 1024 && head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
        }
    }

    private static let state = Mutex(State())

    static func find(_ attempt: String, in queue: String, host: StratusHost, nowMs: Int64) -> [QueueMessage]? {
        state.withLock { state in
            guard let found = state.entries[key(attempt, queue, host)], nowMs - found.atMs < windowMs else {
                return nil
            }
            return found.messages
        }
    }

    static func record(_ attempt: String, in queue: String, host: StratusHost, _ messages: [QueueMessage], nowMs: Int64)
    {
        let key = key(attempt, queue, host)
        let bytes = messages.reduce(0) { $0 + $1.body.utf8.count + 512 }
        state.withLock { state in
            state.remove(key)
            state.entries[key] = Entry(atMs: nowMs, messages: messages, bytes: bytes)
            state.bytes += bytes
            state.order.append((key, nowMs))
            for handle in messages.compactMap(\.receiptHandle) { state.byHandle[handle] = key }
            state.trim(nowMs: nowMs)
        }
    }

    static func forget(_ attempt: String, in queue: String, host: StratusHost) {
        state.withLock { $0.remove(key(attempt, queue, host)) }
    }

    /// A message was deleted or its visibility changed: the receive that answered it no longer replays.
    static func forget(handles: [String]) {
        state.withLock { state in
            guard !state.byHandle.isEmpty else { return }
            for handle in handles {
                if let key = state.byHandle[handle] { state.remove(key) }
            }
        }
    }

    private static func key(_ attempt: String, _ queue: String, _ host: StratusHost) -> String {
        "\(ObjectIdentifier(host).hashValue)\u{1F}\(queue)\u{1F}\(attempt)"
    }
}

/// The message move tasks started here, the latest 100 (each ran to its end when it was answered).
enum MoveTasks {
    struct Task: Sendable {
        var handle: String
        var source: String
        var destination: String?
        var rate: Int?
        var moved: Int
        var startedAtMs: Int64
    }

    private static let tasks = Mutex<[Task]>([])

    static func record(_ task: Task) {
        tasks.withLock { tasks in
            tasks.insert(task, at: 0)
            if tasks.count > 100 { tasks.removeLast() }
        }
    }

    static func tasks(for source: String) -> [Task] {
        tasks.withLock { $0.filter { $0.source == source }.prefix(10).map { $0 } }
    }
}

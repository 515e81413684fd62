import Foundation
import StratusCore
import StratusStore
import StratusTesting
import Testing

@Suite struct QueueStoreTests {

    func queue(_ name: String, timeoutMs: Int64 = 30_000, maxReceives: Int? = nil, dlq: String? = nil) -> QueueConfig {
        var config = QueueConfig(name: name)
        config.visibilityTimeoutMs = timeoutMs
        config.maxReceiveCount = maxReceives
        config.deadLetterQueue = dlq
        return config
    }

    @Test(arguments: StoreKind.allCases) func visibilityTimeoutHidesAndReturnsMessages(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("q", timeoutMs: 1_000))
            let sent = try await store.send(
                [
                    OutgoingMessage(
                        body: "a", attributes: ["k": MessageAttribute(dataType: "String", stringValue: "v")]),
                    OutgoingMessage(body: "b"),
                ], to: "q", nowMs: 100)
            #expect(sent.allSatisfy { $0.sequence == nil }, "a standard queue has no sequence numbers")
            let ids = sent.map(\.id)
            #expect(ids.count == 2 && ids[0] != ids[1] && ids[0] == ids[0].lowercased())

            let first = try await store.receive(from: "q", max: 10, visibilityTimeoutMs: nil, nowMs: 200)
            #expect(first.map(\.body) == ["a", "b"])
            #expect(first.map(\.id) == ids)
            #expect(first[0].attributes["k"] == MessageAttribute(dataType: "String", stringValue: "v"))
            #expect(first[1].attributes.isEmpty)
            #expect(first.allSatisfy { $0.receiveCount == 1 && $0.firstReceivedAtMs == 200 && $0.sentAtMs == 100 })
            #expect(first.allSatisfy { $0.queue == "q" && $0.receiptHandle != nil })

            #expect(try await store.receive(from: "q", max: 10, visibilityTimeoutMs: nil, nowMs: 1_199).isEmpty)
            #expect(try await store.nextVisibleAtMs(in: "q") == 1_200)

            let second = try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 1_200)
            #expect(second.map(\.body) == ["a"])
            #expect(second[0].receiveCount == 2 && second[0].firstReceivedAtMs == 200)
            #expect(second[0].receiptHandle != first[0].receiptHandle)
        }
    }

    @Test(arguments: StoreKind.allCases) func unprocessedMessagesGoBackWithoutSpendingAReceive(_ kind: StoreKind)
        async throws
    {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("q", maxReceives: 1, dlq: "dlq"))
            try await store.putQueue(queue("dlq"))
            _ = try await store.send([OutgoingMessage(body: "a")], to: "q", nowMs: 0)
            let taken = try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 10)
            try await store.returnUnprocessed(
                to: "q", receiptHandles: taken.compactMap(\.receiptHandle), delayMs: 100, nowMs: 20)
            #expect(
                try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 50).isEmpty,
                "back off first")
            let again = try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 120)
            #expect(
                again.map(\.receiveCount) == [1], "the returned receive was not counted, so it is not dead-lettered")
            #expect(try await store.counts(of: "dlq", nowMs: 120) == QueueCounts())
        }
    }

    @Test(arguments: StoreKind.allCases) func perCallVisibilityOverridesTheQueue(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("q", timeoutMs: 30_000))
            _ = try await store.send([OutgoingMessage(body: "x")], to: "q", nowMs: 0)
            _ = try await store.receive(from: "q", max: 1, visibilityTimeoutMs: 50, nowMs: 0)
            #expect(try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 49).isEmpty)
            #expect(try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 50).count == 1)
        }
    }

    @Test(arguments: StoreKind.allCases) func changeVisibilityOnlyWithTheCurrentHandle(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("q", timeoutMs: 1_000))
            _ = try await store.send([OutgoingMessage(body: "x")], to: "q", nowMs: 0)
            let old = try #require(try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 0).first)
            #expect(QueueMessage.receivedAtMs(ofReceiptHandle: old.receiptHandle!) == 0, "\(old.receiptHandle!)")
            #expect(
                try await store.changeVisibility(in: "q", receiptHandle: old.receiptHandle!, timeoutMs: 0, nowMs: 10)
                    == .changed)
            #expect(try await store.counts(of: "q", nowMs: 10) == QueueCounts(visible: 1))
            // Visible again, not yet received again: the handle is current but the message is not in flight.
            #expect(
                try await store.changeVisibility(in: "q", receiptHandle: old.receiptHandle!, timeoutMs: 5, nowMs: 10)
                    == .notInFlight)
            #expect(try await store.counts(of: "q", nowMs: 10) == QueueCounts(visible: 1), "and it stays visible")

            let current = try #require(
                try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 10).first)
            #expect(QueueMessage.receivedAtMs(ofReceiptHandle: current.receiptHandle!) == 10)
            #expect(
                try await store.changeVisibility(in: "q", receiptHandle: old.receiptHandle!, timeoutMs: 0, nowMs: 20)
                    == .unknownHandle)
            #expect(
                try await store.changeVisibility(in: "q", receiptHandle: "nonsense", timeoutMs: 0, nowMs: 20)
                    == .unknownHandle)
            #expect(
                try await store.changeVisibility(
                    in: "q", receiptHandle: current.receiptHandle!, timeoutMs: 5_000, nowMs: 20) == .changed)
            #expect(try await store.nextVisibleAtMs(in: "q") == 5_020)
            #expect(try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 5_019).isEmpty)
            // Its timeout ran out: visible again, so no longer in flight.
            #expect(
                try await store.changeVisibility(
                    in: "q", receiptHandle: current.receiptHandle!, timeoutMs: 5_000, nowMs: 5_020) == .notInFlight)
        }
    }

    @Test(arguments: StoreKind.allCases) func deleteNeedsTheLatestHandle(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("q", timeoutMs: 100))
            _ = try await store.send([OutgoingMessage(body: "x")], to: "q", nowMs: 0)
            let stale = try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 0)[0]
            let latest = try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 100)[0]
            #expect(try await store.delete(from: "q", receiptHandles: [stale.receiptHandle!]) == 0)
            #expect(try await store.counts(of: "q", nowMs: 100) == QueueCounts(inFlight: 1))
            try await store.putQueue(queue("other"))
            #expect(try await store.delete(from: "other", receiptHandles: [latest.receiptHandle!]) == 0)
            #expect(try await store.delete(from: "q", receiptHandles: [latest.receiptHandle!, "junk"]) == 1)
            #expect(try await store.counts(of: "q", nowMs: 100) == QueueCounts())
            #expect(try await store.nextVisibleAtMs(in: "q") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func aConsumerDeletesItsBatchAndReceivesTheNextAtOnce(_ kind: StoreKind)
        async throws
    {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("q", timeoutMs: 100))
            _ = try await store.send(["a", "b", "c", "d"].map { OutgoingMessage(body: $0) }, to: "q", nowMs: 0)
            let first = try await store.receive(from: "q", max: 2, visibilityTimeoutMs: nil, nowMs: 0)
            // "b"'s visibility ends before the delete: it is visible again, yet its handle is still the latest.
            let (next, _) = try await store.deleteAndReceive(
                from: "q", deleting: first.compactMap(\.receiptHandle) + ["junk"], max: 10, visibilityTimeoutMs: nil,
                nowMs: 100)
            #expect(next.map(\.body) == ["c", "d"], "the deleted messages are neither received nor left")
            #expect(try await store.counts(of: "q", nowMs: 100) == QueueCounts(inFlight: 2))
            // Nothing left to receive: what was deleted does not count as the next visible message.
            let (none, nextVisible) = try await store.deleteAndReceive(
                from: "q", deleting: [next[0].receiptHandle!], max: 10, visibilityTimeoutMs: nil, nowMs: 150)
            #expect(none.isEmpty && nextVisible == 200)
            #expect(try await store.counts(of: "q", nowMs: 150) == QueueCounts(inFlight: 1))
            let error = await #expect(throws: StoreError.self) {
                try await store.deleteAndReceive(
                    from: "gone", deleting: [], max: 1, visibilityTimeoutMs: nil, nowMs: 0)
            }
            #expect(error?.code == .queueDoesNotExist)
        }
    }

    @Test(arguments: StoreKind.allCases) func countsDelayAndPurge(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            var config = queue("q", timeoutMs: 1_000)
            config.delayMs = 500
            try await store.putQueue(config)
            _ = try await store.send(
                [
                    OutgoingMessage(body: "default delay"), OutgoingMessage(body: "now", delayMs: 0),
                    OutgoingMessage(body: "later", delayMs: 2_000),
                ], to: "q", nowMs: 0)
            #expect(try await store.counts(of: "q", nowMs: 0) == QueueCounts(visible: 1, delayed: 2))
            #expect(
                try await store.receive(from: "q", max: 10, visibilityTimeoutMs: nil, nowMs: 0).map(\.body) == ["now"])
            #expect(try await store.counts(of: "q", nowMs: 0) == QueueCounts(inFlight: 1, delayed: 2))
            #expect(try await store.nextVisibleAtMs(in: "q") == 500)
            #expect(
                try await store.receive(from: "q", max: 10, visibilityTimeoutMs: nil, nowMs: 500).map(\.body) == [
                    "default delay"
                ])
            #expect(try await store.counts(of: "q", nowMs: 1_000) == QueueCounts(visible: 1, inFlight: 1, delayed: 1))
            #expect(try await store.purge("q") == 3)
            #expect(try await store.counts(of: "q", nowMs: 5_000) == QueueCounts())
        }
    }

    @Test(arguments: StoreKind.allCases) func retentionDeletesOldMessages(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            var config = queue("q")
            config.retentionMs = 1_000
            try await store.putQueue(config)
            try await store.putQueue(queue("long"))
            _ = try await store.send([OutgoingMessage(body: "old")], to: "q", nowMs: 0)
            _ = try await store.send([OutgoingMessage(body: "old")], to: "long", nowMs: 0)
            _ = try await store.send([OutgoingMessage(body: "new")], to: "q", nowMs: 900)
            // Counts leave out what outlived the retention before anything deletes it.
            #expect(try await store.counts(of: "q", nowMs: 1_000).visible == 2)
            #expect(try await store.counts(of: "q", nowMs: 1_001).visible == 1)
            #expect(try await store.countsOfAllQueues(nowMs: 1_001)["q"]?.visible == 1)
            #expect(try await store.countsOfAllQueues(nowMs: 1_001)["long"]?.visible == 1)
            #expect(try await store.expireMessages(nowMs: 1_000) == 0)
            #expect(try await store.expireMessages(nowMs: 1_001) == 1)
            #expect(try await store.counts(of: "q", nowMs: 1_001).visible == 1)
            #expect(try await store.counts(of: "long", nowMs: 1_001).visible == 1)
            // A receive drops expired messages too.
            #expect(try await store.receive(from: "q", max: 10, visibilityTimeoutMs: nil, nowMs: 1_901).isEmpty)
            #expect(try await store.counts(of: "q", nowMs: 1_901) == QueueCounts())
        }
    }

    @Test(arguments: StoreKind.allCases) func deadLetterAfterMaxReceivesAndRedriveBack(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("dlq"))
            try await store.putQueue(queue("q", timeoutMs: 10, maxReceives: 2, dlq: "dlq"))
            try await store.putQueue(queue("elsewhere"))
            let ids = try await store.send([OutgoingMessage(body: "poison")], to: "q", nowMs: 0).map(\.id)
            #expect(
                try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 0).map(\.body) == ["poison"]
            )
            #expect(
                try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 10).map(\.body) == [
                    "poison"
                ])
            _ = try await store.send([OutgoingMessage(body: "ok")], to: "q", nowMs: 20)
            // The third receive would exceed 2: the message moves and the next one fills the batch.
            let third = try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 20)
            #expect(third.map(\.body) == ["ok"])
            #expect(try await store.counts(of: "dlq", nowMs: 20) == QueueCounts(visible: 1))
            let dead = try await store.receive(from: "dlq", max: 10, visibilityTimeoutMs: 0, nowMs: 20)
            // It keeps its two receives (as SQS: the dead-letter queue shows how often it was tried) and its first.
            #expect(dead.map(\.id) == [ids[0]] && dead[0].receiveCount == 3 && dead[0].sentAtMs == 0)
            #expect(dead[0].firstReceivedAtMs == 0)

            // A message in flight in the dead-letter queue stays with its receiver until it is visible again.
            _ = try await store.receive(from: "dlq", max: 10, visibilityTimeoutMs: 5, nowMs: 20)
            #expect(try await store.redrive(from: "dlq", to: nil, nowMs: 24, limit: 1_000) == 0)
            // A message sent to the DLQ directly has no source queue and stays put without a target.
            _ = try await store.send([OutgoingMessage(body: "direct")], to: "dlq", nowMs: 20)
            #expect(try await store.redrive(from: "dlq", to: nil, nowMs: 30, limit: 1_000) == 1)
            #expect(try await store.counts(of: "dlq", nowMs: 30) == QueueCounts(visible: 1))
            let back = try await store.receive(from: "q", max: 10, visibilityTimeoutMs: nil, nowMs: 30)
            // A redriven message is a new one (SQS): after what the queue holds, a new id, sent now, received once.
            #expect(back.map(\.body) == ["ok", "poison"])
            #expect(back[1].id != ids[0] && back[1].receiveCount == 1 && back[1].sentAtMs == 30)

            #expect(try await store.redrive(from: "dlq", to: "elsewhere", nowMs: 40, limit: 1_000) == 1)
            #expect(
                try await store.receive(from: "elsewhere", max: 10, visibilityTimeoutMs: nil, nowMs: 40).map(\.body)
                    == ["direct"])
            await #expect(throws: StoreError.self) {
                try await store.redrive(from: "dlq", to: "missing", nowMs: 40, limit: 1_000)
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func aReceiveThatLooksAgainNeverRepeatsAMessage(_ kind: StoreKind) async throws
    {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("dlq"))
            try await store.putQueue(queue("q", timeoutMs: 10, maxReceives: 1, dlq: "dlq"))
            _ = try await store.send([OutgoingMessage(body: "a")], to: "q", nowMs: 0)
            _ = try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 0)
            _ = try await store.send([OutgoingMessage(body: "b")], to: "q", nowMs: 5)
            // "b" comes back visible at once (timeout 0) while "a" moving out makes the receive look again.
            let received = try await store.receive(from: "q", max: 2, visibilityTimeoutMs: 0, nowMs: 10)
            #expect(received.map(\.body) == ["b"])
            #expect(try await store.counts(of: "dlq", nowMs: 10) == QueueCounts(visible: 1))
        }
    }

    @Test(arguments: StoreKind.allCases) func unknownQueuesThrowQueueDoesNotExist(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            let error = await #expect(throws: StoreError.self) {
                try await store.send([OutgoingMessage(body: "x")], to: "nope", nowMs: 0)
            }
            #expect(error?.code == .queueDoesNotExist && error?.description.contains("'nope'") == true)
            await #expect(throws: StoreError.self) {
                try await store.receive(from: "nope", max: 1, visibilityTimeoutMs: nil, nowMs: 0)
            }
            await #expect(throws: StoreError.self) { try await store.purge("nope") }
            await #expect(throws: StoreError.self) { try await store.counts(of: "nope", nowMs: 0) }
            await #expect(throws: StoreError.self) { try await store.delete(from: "nope", receiptHandles: ["a.1"]) }
        }
    }

    @Test(arguments: StoreKind.allCases) func commitIsAtomic(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("a"))
            let delivery = PendingDelivery(
                source: .subscription(id: "t:0", topic: "t"), target: .function("f"), payload: "{}", nextAttemptAtMs: 0,
                createdAtMs: 0)
            await #expect(throws: StoreError.self) {
                try await store.commit(
                    [
                        .queue("a", OutgoingMessage(body: "1")), .delivery(delivery),
                        .queue("missing", OutgoingMessage(body: "2")),
                    ],
                    nowMs: 0)
            }
            #expect(try await store.counts(of: "a", nowMs: 0) == QueueCounts())
            #expect(try await store.dueDeliveries(nowMs: 0, limit: 10).isEmpty)

            try await store.commit([.queue("a", OutgoingMessage(body: "1")), .delivery(delivery)], nowMs: 0)
            #expect(try await store.counts(of: "a", nowMs: 0) == QueueCounts(visible: 1))
            #expect(try await store.dueDeliveries(nowMs: 0, limit: 10).count == 1)
        }
    }

    @Test(arguments: StoreKind.allCases) func deliveryLifecycle(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("dlq"))
            try await store.commit(
                [
                    .delivery(
                        PendingDelivery(
                            source: .subscription(id: "t:0", topic: "t"), target: .http("http://127.0.0.1:1/hook"),
                            payload: "p1",
                            nextAttemptAtMs: 100, createdAtMs: 90, deadLetterQueue: "dlq")),
                    .delivery(
                        PendingDelivery(
                            source: .subscription(id: "t:1", topic: "t"), target: .function("f"), payload: "p2",
                            nextAttemptAtMs: 50, createdAtMs: 90)),
                ], nowMs: 90)
            #expect(try await store.nextDeliveryAtMs() == 50)
            #expect(try await store.dueDeliveries(nowMs: 49, limit: 10).isEmpty)
            let due = try await store.dueDeliveries(nowMs: 100, limit: 10)
            #expect(due.map(\.payload) == ["p2", "p1"])
            #expect(
                due[1].target == .http("http://127.0.0.1:1/hook") && due[1].deadLetterQueue == "dlq"
                    && due[1].createdAtMs == 90)
            #expect(due[0].target == .function("f") && due[0].deadLetterQueue == nil && due[0].attempts == 0)
            #expect(try await store.dueDeliveries(nowMs: 100, limit: 1).map(\.payload) == ["p2"])

            try await store.rescheduleDelivery(due[1].id, attempts: 1, nextAttemptAtMs: 20_100)
            try await store.finishDelivery(due[0].id)
            #expect(try await store.dueDeliveries(nowMs: 100, limit: 10).isEmpty)
            #expect(try await store.nextDeliveryAtMs() == 20_100)
            let retried = try await store.dueDeliveries(nowMs: 20_100, limit: 10)
            #expect(retried.map(\.attempts) == [1])

            try await store.deadLetterDelivery(
                retried[0].id, into: "dlq", message: OutgoingMessage(body: "p1"), nowMs: 20_200)
            try await store.deadLetterDelivery(
                retried[0].id, into: "dlq", message: OutgoingMessage(body: "p1"), nowMs: 20_200)
            #expect(try await store.nextDeliveryAtMs() == nil)
            #expect(
                try await store.receive(from: "dlq", max: 10, visibilityTimeoutMs: nil, nowMs: 20_200).map(\.body) == [
                    "p1"
                ])
        }
    }

    @Test(arguments: StoreKind.allCases) func topicsAndSubscriptionsRoundTrip(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putTopic("orders")
            try await store.putTopic("orders")
            try await store.putTopic("audit")
            #expect(try await store.topics() == ["audit", "orders"])

            var filtered = Subscription(id: "orders:0", topic: "orders", endpoint: .queue("q"))
            try filtered.setFilter(json: #"{"store":["example_corp"]}"#, scope: .messageAttributes)
            filtered.raw = true
            var hook = Subscription(id: "orders:1", topic: "orders", endpoint: .http("http://127.0.0.1:9/h"))
            hook.deadLetterQueue = "dlq"
            try await store.putSubscription(filtered)
            try await store.putSubscription(hook)
            try await store.putSubscription(Subscription(id: "audit:0", topic: "audit", endpoint: .function("log")))

            let loaded = try await store.subscriptions(of: "orders")
            #expect(loaded == [filtered, hook])
            #expect(loaded[0].filter != nil)
            #expect(
                loaded[0].matches(
                    body: "", attributes: ["store": MessageAttribute(dataType: "String", stringValue: "example_corp")]))
            #expect(!loaded[0].matches(body: "", attributes: [:]))

            // Replacing by id keeps the order and drops the policy.
            var replaced = filtered
            replaced = Subscription(id: "orders:0", topic: "orders", endpoint: .function("g"))
            try replaced.setFilter(json: #"{"kind":["a"]}"#, scope: .messageBody)
            try await store.putSubscription(replaced)
            let again = try await store.subscriptions(of: "orders")
            #expect(again.map(\.id) == ["orders:0", "orders:1"])
            #expect(
                again[0].endpoint == .function("g") && again[0].filterScope == .messageBody && again[0].raw == false)
            #expect(again[0].matches(body: #"{"kind":"a"}"#, attributes: [:]))

            await #expect(throws: StoreError.self) {
                try await store.putSubscription(Subscription(id: "x", topic: "missing", endpoint: .function("f")))
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func reopeningKeepsEverything(_ kind: StoreKind) async throws {
        try await kind.withStore { first, reopen in
            var config = queue("q", timeoutMs: 1_000, maxReceives: 3, dlq: "dlq")
            config.consumer = QueueConfig.Consumer(function: "worker")
            let handle: String
            do {
                let store = first
                try await store.putQueue(queue("dlq"))
                try await store.putQueue(config)
                _ = try await store.send(
                    [OutgoingMessage(body: "one"), OutgoingMessage(body: "two")], to: "q", nowMs: 0)
                handle = try await store.receive(from: "q", max: 1, visibilityTimeoutMs: nil, nowMs: 0)[0]
                    .receiptHandle!
                try await store.putTopic("t")
                try await store.putSubscription(Subscription(id: "t:0", topic: "t", endpoint: .queue("q")))
                try await store.commit(
                    [
                        .delivery(
                            PendingDelivery(
                                source: .subscription(id: "t:0", topic: "t"), target: .function("f"), payload: "p",
                                nextAttemptAtMs: 5,
                                createdAtMs: 0))
                    ],
                    nowMs: 0)
            }
            let store = try await reopen()
            #expect(try await store.queues() == [queue("dlq"), config])
            #expect(try await store.counts(of: "q", nowMs: 0) == QueueCounts(visible: 1, inFlight: 1))
            #expect(try await store.delete(from: "q", receiptHandles: [handle]) == 1)
            #expect(try await store.topics() == ["t"])
            #expect(try await store.subscriptions(of: "t").map(\.endpoint) == [.queue("q")])
            #expect(try await store.nextDeliveryAtMs() == 5)
        }
    }

    @Test(arguments: StoreKind.allCases) func throughputOfSendReceiveDelete(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(queue("bench"))
            let batches = 500
            let batch = (0..<10).map { OutgoingMessage(body: "message body \($0) with a little padding to look real") }
            let clock = ContinuousClock()
            var handled = 0
            let elapsed = try await clock.measure {
                for round in 0..<batches {
                    let now = Int64(round)
                    _ = try await store.send(batch, to: "bench", nowMs: now)
                    let received = try await store.receive(from: "bench", max: 10, visibilityTimeoutMs: nil, nowMs: now)
                    handled += try await store.delete(
                        from: "bench", receiptHandles: received.compactMap(\.receiptHandle))
                }
            }
            #expect(handled == batches * 10)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                "QueueStoreTests (\(kind)): send+receive+delete of \(handled) messages in batches of 10: \(Int(Double(handled) / seconds)) msg/s"
            )
        }
    }
}

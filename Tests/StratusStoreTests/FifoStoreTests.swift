import Foundation
import StratusCore
import StratusStore
import StratusTesting
import Testing

/// The FIFO rules in the store, with the clock in the test's hands: a group's order holds through every way a
/// message can be hidden again, and sequence numbers only grow.
@Suite struct FifoStoreTests {
    func send(_ store: any Store, _ bodies: [String], group: String, at ms: Int64) async throws {
        let messages = bodies.map { OutgoingMessage(body: $0, groupId: group, deduplicationId: $0) }
        _ = try await store.send(messages, to: "f.fifo", nowMs: ms)
    }

    @Test(arguments: StoreKind.allCases) func aMessageGivenBackWithADelayStillHoldsItsGroup(_ kind: StoreKind)
        async throws
    {
        try await kind.withStore { store, _ in
            try await store.putQueue(QueueConfig(name: "f.fifo"))
            try await send(store, ["a1", "a2", "a3"], group: "a", at: 0)
            try await send(store, ["b1"], group: "b", at: 0)
            let first = try await store.receive(
                from: "f.fifo", max: 1, visibilityTimeoutMs: nil, nowMs: 10, oneGroup: true)
            #expect(first.map(\.body) == ["a1"])
            // Throttled: given back unspent, hidden for a second. a2 must not overtake it.
            try await store.returnUnprocessed(
                to: "f.fifo", receiptHandles: first.compactMap(\.receiptHandle), delayMs: 1_000, nowMs: 20)
            let meanwhile = try await store.receive(from: "f.fifo", max: 10, visibilityTimeoutMs: nil, nowMs: 30)
            #expect(meanwhile.map(\.body) == ["b1"], "only the other group")
            let later = try await store.receive(from: "f.fifo", max: 10, visibilityTimeoutMs: nil, nowMs: 1_100)
            #expect(later.map(\.body) == ["a1", "a2", "a3"])
        }
    }

    @Test(arguments: StoreKind.allCases) func oneGroupPerReceiveWhenAsked(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(QueueConfig(name: "f.fifo"))
            try await send(store, ["a1"], group: "a", at: 0)
            try await send(store, ["b1", "b2"], group: "b", at: 0)
            try await send(store, ["a2"], group: "a", at: 0)
            let batch = try await store.receive(
                from: "f.fifo", max: 10, visibilityTimeoutMs: nil, nowMs: 10, oneGroup: true)
            #expect(batch.map(\.body) == ["a1", "a2"])
            let next = try await store.receive(
                from: "f.fifo", max: 10, visibilityTimeoutMs: nil, nowMs: 10, oneGroup: true)
            #expect(next.map(\.body) == ["b1", "b2"])
        }
    }

    @Test(arguments: StoreKind.allCases) func sequenceNumbersOnlyGrowEvenAfterTheNewestIsDeleted(_ kind: StoreKind)
        async throws
    {
        try await kind.withStore { store, _ in
            try await store.putQueue(QueueConfig(name: "f.fifo"))
            var seen: [String] = []
            for round in 0..<3 {
                try await send(store, ["m\(round)"], group: "g", at: Int64(round) * 10)
                let got = try await store.receive(
                    from: "f.fifo", max: 1, visibilityTimeoutMs: nil, nowMs: Int64(round) * 10 + 1)
                seen += got.compactMap(\.sequenceNumber)
                _ = try await store.delete(from: "f.fifo", receiptHandles: got.compactMap(\.receiptHandle))
            }
            #expect(seen.count == 3)
            #expect(seen == seen.sorted() && Set(seen).count == 3, "\(seen)")
            #expect(seen.allSatisfy { $0.count == 20 })
        }
    }

    /// `DeduplicationScope: messageGroup`: the same id in another group is another message; in the same group,
    /// a duplicate.
    @Test(arguments: StoreKind.allCases) func aDeduplicationKeyScopesTheIdToItsGroup(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(QueueConfig(name: "f.fifo"))
            func message(_ group: String) -> OutgoingMessage {
                var message = OutgoingMessage(body: group, groupId: group, deduplicationId: "same")
                message.deduplicationKey = group + "\u{1F}same"
                return message
            }
            let a = try await store.send([message("a")], to: "f.fifo", nowMs: 0)
            let b = try await store.send([message("b")], to: "f.fifo", nowMs: 1)
            let again = try await store.send([message("a")], to: "f.fifo", nowMs: 2)
            #expect(a != b && again == a)
            let got = try await store.receive(from: "f.fifo", max: 10, visibilityTimeoutMs: nil, nowMs: 3)
            #expect(Set(got.map(\.body)) == ["a", "b"])
            #expect(got.allSatisfy { $0.deduplicationId == "same" }, "receivers see the id the sender gave")
        }
    }

    @Test(arguments: StoreKind.allCases) func aDeduplicationIdCountsForFiveMinutes(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.putQueue(QueueConfig(name: "f.fifo"))
            let message = OutgoingMessage(body: "x", groupId: "g", deduplicationId: "d")
            let first = try await store.send([message], to: "f.fifo", nowMs: 0)
            let again = try await store.send([message], to: "f.fifo", nowMs: QueueConfig.deduplicationIntervalMs - 1)
            #expect(first.first?.sequence != nil)
            #expect(again == first, "a duplicate answers the first message's id and sequence number")
            let after = try await store.send([message], to: "f.fifo", nowMs: QueueConfig.deduplicationIntervalMs)
            #expect(after.map(\.id) != first.map(\.id), "five minutes on, the same id is a new message")
            #expect((after.first?.sequence ?? 0) > (first.first?.sequence ?? .max), "sequence numbers grow")
            #expect(try await store.counts(of: "f.fifo", nowMs: QueueConfig.deduplicationIntervalMs).visible == 2)
        }
    }

    /// SQS's dead-letter rules for FIFO queues: a dead-lettered message's deduplication id becomes its message id;
    /// a redrive makes new messages (new ids, new sequence numbers) that queue up after what the source holds.
    @Test(arguments: StoreKind.allCases) func aRedriveQueuesNewMessagesAfterWhatTheSourceHolds(_ kind: StoreKind)
        async throws
    {
        try await kind.withStore { store, _ in
            try await store.putQueue(QueueConfig(name: "d.fifo"))
            var source = QueueConfig(name: "f.fifo")
            source.visibilityTimeoutMs = 10
            source.maxReceiveCount = 1
            source.deadLetterQueue = "d.fifo"
            try await store.putQueue(source)
            let sent = try await store.send(
                ["p", "q"].map { OutgoingMessage(body: $0, groupId: "g", deduplicationId: "dedup-" + $0) },
                to: "f.fifo", nowMs: 0)
            #expect(try await store.receive(from: "f.fifo", max: 10, visibilityTimeoutMs: nil, nowMs: 0).count == 2)
            _ = try await store.send(
                [OutgoingMessage(body: "direct", groupId: "g", deduplicationId: "direct")], to: "d.fifo", nowMs: 5)
            #expect(try await store.receive(from: "f.fifo", max: 10, visibilityTimeoutMs: nil, nowMs: 10).isEmpty)
            let all = try await store.receive(from: "d.fifo", max: 10, visibilityTimeoutMs: 0, nowMs: 20)
            // Enqueued in the dead-letter queue when they moved: after what it held, its retention from then on.
            #expect(all.map(\.body) == ["direct", "p", "q"])
            let dead = Array(all.dropFirst())
            #expect(dead.map(\.id) == sent.map(\.id), "a dead-lettered message keeps its id")
            #expect(dead.map(\.deduplicationId) == sent.map(\.id), "and its deduplication id becomes that id")
            #expect(dead.allSatisfy { $0.sentAtMs == 10 })
            let deadSequences = all.compactMap(\.sequenceNumber)
            #expect(
                deadSequences.count == 3 && deadSequences == deadSequences.sorted() && Set(deadSequences).count == 3)

            _ = try await store.send(
                [OutgoingMessage(body: "later", groupId: "g", deduplicationId: "dedup-later")], to: "f.fifo", nowMs: 25)
            // A move takes at most `limit` messages, the oldest first (a large one runs in several transactions).
            #expect(try await store.redrive(from: "d.fifo", to: nil, nowMs: 30, limit: 1) == 1)
            #expect(try await store.redrive(from: "d.fifo", to: nil, nowMs: 30, limit: 1_000) == 1)
            let back = try await store.receive(from: "f.fifo", max: 10, visibilityTimeoutMs: nil, nowMs: 30)
            #expect(back.map(\.body) == ["later", "p", "q"], "redriven messages queue up after what is there")
            #expect(Set(back.map(\.id)).isDisjoint(with: sent.map(\.id)), "a redriven message has a new id")
            #expect(back.dropFirst().map(\.deduplicationId) == sent.map(\.id))
            let sequences = back.compactMap(\.sequenceNumber)
            #expect(sequences.count == 3 && sequences == sequences.sorted() && Set(sequences).count == 3)
            #expect(back.allSatisfy { $0.receiveCount == 1 && $0.sentAtMs >= 25 })
        }
    }

    /// A FIFO topic's publishes: the deduplication id decided in the commit, so that of many concurrent publishes
    /// with one id (on one host or several) exactly one commits, and the others answer its id and number.
    @Test(arguments: StoreKind.allCases) func aFIFOTopicCommitsOneOfConcurrentDuplicates(_ kind: StoreKind)
        async throws
    {
        try await kind.withStore { store, _ in
            try await store.putQueue(QueueConfig(name: "f.fifo"))
            try await store.putTopic("t.fifo")
            @Sendable func publish(_ dedup: String, _ messageId: String, at ms: Int64) async throws -> FIFOPublish {
                try await store.commitFIFOPublish(to: "t.fifo", deduplicationId: dedup, messageId: messageId, nowMs: ms)
                { sequence in
                    [
                        .queue(
                            "f.fifo",
                            OutgoingMessage(body: "\(messageId) #\(sequence)", groupId: "g", deduplicationId: messageId)
                        )
                    ]
                }
            }
            let decided = try await withThrowingTaskGroup(of: FIFOPublish.self) { group in
                for index in 0..<20 { group.addTask { try await publish("same", "m\(index)", at: 0) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let committed = decided.compactMap { if case .committed(let sequence, _) = $0 { sequence } else { nil } }
            #expect(committed.count == 1)
            let body = try await store.receive(from: "f.fifo", max: 10, visibilityTimeoutMs: 0, nowMs: 1).map(\.body)
            #expect(body.count == 1)
            for case .duplicate(let messageId, let sequence) in decided {
                #expect(body == ["\(messageId) #\(sequence)"], "a duplicate answers the first publish")
            }
            // Past the window the id is new again, with a greater number; a topic made again forgets its ids.
            guard
                case .committed(let later, _) = try await publish("same", "n", at: QueueConfig.deduplicationIntervalMs)
            else { Issue.record("not committed past the window"); return }
            #expect(later > committed[0])
            #expect(try await store.deleteTopic("t.fifo"))
            try await store.putTopic("t.fifo")
            guard case .committed = try await publish("same", "o", at: QueueConfig.deduplicationIntervalMs + 1) else {
                Issue.record("a topic made again remembered the old one's id")
                return
            }
        }
    }
}

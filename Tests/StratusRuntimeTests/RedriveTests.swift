import StratusCore
import StratusTesting
import Testing

@testable import StratusRuntime

/// A redrive larger than one of its transactions (`QueueService.redriveChunk`): every message moves once, in order,
/// and a queue is never moved into itself.
@Suite(.timeLimit(.minutes(2))) struct RedriveTests {
    @Test func aRedriveOfMoreThanOneChunkMovesEveryMessageOnceInOrder() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let host = try project.host()
        try await host.prepare()
        for name in ["dlq.fifo", "back.fifo"] { _ = try await host.queues.create(QueueConfig(name: name)) }
        let count = QueueService.redriveChunk * 2 + 1
        for start in stride(from: 0, to: count, by: 10) {
            _ = try await host.queues.send(
                (start..<min(start + 10, count)).map {
                    OutgoingMessage(body: "m\($0)", groupId: "g", deduplicationId: "d\($0)")
                }, to: "dlq.fifo")
        }
        #expect(try await host.queues.redrive(from: "dlq.fifo", to: "back.fifo") == count)
        #expect(try await host.queues.counts("dlq.fifo") == QueueCounts())
        var bodies: [String] = []
        while true {
            let got = try await host.queues.receive(from: "back.fifo", max: 10, visibilityTimeoutMs: nil, wait: .zero)
            if got.isEmpty { break }
            bodies += got.map(\.body)
            _ = try await host.queues.delete(from: "back.fifo", receiptHandles: got.compactMap(\.receiptHandle))
        }
        #expect(bodies == (0..<count).map { "m\($0)" })

        await #expect(throws: QueueService.QueueError.self) {
            try await host.queues.redrive(from: "back.fifo", to: "back.fifo")
        }
    }
}

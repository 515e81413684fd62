import Foundation
import StratusCore
import StratusStore
import StratusTesting
import Testing

/// The invocation log, on both stores.
@Suite struct InvocationLogStoreTests {
    func record(_ id: String, function: String = "f", status: InvocationRecord.Status = .ok, start: Date = Date())
        -> InvocationRecord
    {
        InvocationRecord(
            id: id, function: function, trigger: .cli, start: start, durationMs: 1.5,
            initDurationMs: id == "1" ? 20 : nil,
            status: status, errorType: status == .ok ? nil : "ValueError", errorMessage: status == .ok ? nil : "boom",
            memorySizeMB: 128, maxMemoryUsedMB: 20, output: "line \(id)\n")
    }

    @Test(arguments: StoreKind.allCases) func recordsSurviveReopeningAndFilterAsAsked(_ kind: StoreKind) async throws {
        try await kind.withStore { first, reopen in
            try await first.append([record("1"), record("2", status: .error), record("3", function: "g")])
            let store = try await reopen()
            let all = try await store.invocations(matching: InvocationQuery())
            #expect(all.map(\.id) == ["1", "2", "3"])
            #expect(all[0].initDurationMs == 20 && all[0].output == "line 1\n" && all[0].sequence != nil)
            #expect(all[1].errorType == "ValueError" && all[1].errorMessage == "boom")
            #expect(try await store.invocations(matching: InvocationQuery(function: "f")).map(\.id) == ["1", "2"])
            #expect(try await store.invocations(matching: InvocationQuery(status: .error)).map(\.id) == ["2"])
            #expect(try await store.invocations(matching: InvocationQuery(limit: 2)).map(\.id) == ["2", "3"])
            let after = all[0].sequence!
            #expect(
                try await store.invocations(matching: InvocationQuery(afterSequence: after)).map(\.id) == ["2", "3"])
        }
    }

    /// `logs --follow` pages forward: after a sequence number come the oldest records first, so a burst
    /// larger than one page is shown whole, page after page.
    @Test(arguments: StoreKind.allCases) func pagingForwardSkipsNothing(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            try await store.append((1...10).map { record("r\($0)") })
            var seen: [String] = []
            var after: Int64 = 0
            while true {
                let page = try await store.invocations(matching: InvocationQuery(afterSequence: after, limit: 3))
                seen += page.map(\.id)
                guard let last = page.last?.sequence else { break }
                after = last
            }
            #expect(seen == (1...10).map { "r\($0)" })
        }
    }

    @Test(arguments: StoreKind.allCases) func sinceAndRetentionBounds(_ kind: StoreKind) async throws {
        try await kind.withStore { store, _ in
            let old = Date().addingTimeInterval(-3600)
            try await store.append([record("old", start: old)] + (1...5).map { record("n\($0)") })
            #expect(
                try await store.invocations(matching: InvocationQuery(since: Date().addingTimeInterval(-60))).count == 5
            )
            let deleted = try await store.pruneInvocations(
                olderThan: Date().addingTimeInterval(-60), keepPerFunction: 3)
            #expect(deleted == 3)
            #expect(try await store.invocations(matching: InvocationQuery()).map(\.id) == ["n3", "n4", "n5"])
        }
    }
}

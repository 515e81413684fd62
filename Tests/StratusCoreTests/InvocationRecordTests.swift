import Foundation
import StratusCore
import Testing

@Suite struct InvocationRecordTests {
    func record(status: InvocationRecord.Status = .ok, initMs: Double? = nil) -> InvocationRecord {
        InvocationRecord(
            id: "abc", function: "hello", trigger: .cli, start: Date(timeIntervalSince1970: 0), durationMs: 3.014,
            initDurationMs: initMs, status: status, errorType: status == .ok ? nil : "Sandbox.Timedout",
            errorMessage: status == .ok ? nil : "Task timed out after 3.00 seconds", memorySizeMB: 128,
            maxMemoryUsedMB: 36,
            output: "hi\nthere")
    }

    @Test func rendersLikeLambdaOnAColdStart() {
        #expect(
            record(initMs: 110.104).lambdaLog == """
                START RequestId: abc Version: $LATEST
                hi
                there
                END RequestId: abc
                REPORT RequestId: abc\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\tMax Memory Used: 36 MB\tInit Duration: 110.10 ms

                """)
    }

    @Test func warmCallsHaveNoInitDurationAndFailuresSayWhy() {
        let log = record(status: .timeout).lambdaLog
        #expect(!log.contains("Init Duration"))
        #expect(log.contains("abc TIMEOUT Sandbox.Timedout: Task timed out after 3.00 seconds\nEND RequestId: abc"))
        #expect(log.hasSuffix("\tStatus: timeout\n"))
    }
}

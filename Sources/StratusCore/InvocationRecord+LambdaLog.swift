extension InvocationRecord {
    /// The record as Lambda writes it to CloudWatch: `START`, the function's output, `END`, `REPORT`.
    package var lambdaLog: String { log(showingRevision: false) }

    /// `lambdaLog` with the code revision (and, with a shared store, the host that ran it) on the `START` line, as
    /// `stratus logs` prints it.
    package var annotatedLog: String { log(showingRevision: true) }

    private func log(showingRevision: Bool) -> String {
        var text = "START RequestId: \(id) Version: \(version)"
        if showingRevision, let revision { text += " Revision: \(revision)" }
        if showingRevision, let host { text += " Host: \(host)" }
        text += "\n"
        text += output
        if !output.isEmpty, !output.hasSuffix("\n") { text += "\n" }
        if status != .ok, status != .error || output.isEmpty {
            text += "\(id) \(statusLine)\n"
        }
        text += "END RequestId: \(id)\n"
        text += "REPORT RequestId: \(id)\tDuration: \(Self.format(durationMs)) ms"
        text += "\tBilled Duration: \(Int(durationMs.rounded(.up))) ms"
        text += "\tMemory Size: \(memorySizeMB) MB\tMax Memory Used: \(maxMemoryUsedMB) MB"
        if let initDurationMs { text += "\tInit Duration: \(Self.format(initDurationMs)) ms" }
        if status != .ok { text += "\tStatus: \(status.rawValue)" }
        return text + "\n"
    }

    /// The error as one line, as the host reports it (`Task timed out after 3.00 seconds`, ...).
    private var statusLine: String {
        let type = errorType.map { "\($0): " } ?? ""
        return "\(status.rawValue.uppercased()) \(type)\(errorMessage ?? "")"
    }

    private static func format(_ ms: Double) -> String {
        let hundredths = Int((ms * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

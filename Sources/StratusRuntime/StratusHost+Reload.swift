import Foundation
import StratusCore

extension StratusHost {
    /// Puts an edited project in service while the host runs (`serve --watch`): every function whose code or
    /// settings changed is drained and swapped, new directories load, removed ones retire, and trigger changes
    /// apply. What failed to load is reported and its last good version keeps serving. Returns the lines
    /// `serve` prints; each change is also a host event.
    ///
    /// A changed function's new workers start (up to as many as the old revision had, at least its warm floor)
    /// before it takes traffic; the old revision's running invocations finish on its own workers, which then
    /// stop. Callers waiting for a worker of the old revision move to the new one.
    package func reload(_ new: ProjectLoader.Project) async -> [String] {
        await reloads.withLock {
            let old = project
            let oldErrors = Set(old.errors.map(\.description))
            var lines: [String] = []
            var serving = new
            serving.functions = []
            let current = Dictionary(dispatcher.allPools().map { ($0.function.name, $0) }) { first, _ in first }

            for function in new.functions {
                guard let pool = current[function.name] else {
                    let failure = await putInService(function, verify: true)
                    serving.functions.append(function)
                    record(.loaded, function.name, "rev \(function.revision)")
                    lines.append(
                        "  loaded    \(function.name)  (\(function.config.runtime.rawValue), rev \(function.revision))")
                    if let failure {
                        record(.reloadFailed, function.name, "rev \(function.revision) does not start: \(failure)")
                        lines.append("  FAILED    \(function.name) rev \(function.revision) does not start: \(failure)")
                    }
                    continue
                }
                guard pool.function != function else {
                    serving.functions.append(function)
                    continue
                }
                if let failure = await putInService(function, replacing: pool, verify: true) {
                    // The new code cannot start (a syntax error, a failing import): the old revision keeps serving.
                    serving.functions.append(pool.function)
                    let message =
                        "rev \(function.revision) does not start: \(failure)\nrev \(pool.function.revision) keeps serving"
                    record(.reloadFailed, function.name, message)
                    lines.append(
                        "  FAILED    \(function.name) " + message.replacingOccurrences(of: "\n", with: "\n            ")
                    )
                    continue
                }
                serving.functions.append(function)
                let change =
                    pool.function.revision == function.revision
                    ? "rev \(function.revision), settings changed"
                    : "rev \(pool.function.revision) → \(function.revision)"
                record(.reloaded, function.name, change)
                lines.append("  reloaded  \(function.name)  \(change)")
            }
            for error in new.errors where !oldErrors.contains(error.description) {
                let name = Self.functionName(of: error)
                let keeps = name.flatMap { current[$0] }.map { "; rev \($0.function.revision) keeps serving" } ?? ""
                record(.reloadFailed, name ?? "host", "\(error)\(keeps)")
                lines.append("  FAILED    \(error)\(keeps)")
            }
            for (name, pool) in current where !new.functions.contains(where: { $0.name == name }) {
                if new.failedFunctions.contains(name) {
                    serving.functions.append(pool.function)  // the last good version
                    continue
                }
                _ = dispatcher.remove(name)
                budget.reserve(0, for: name)
                retireInBackground(pool)
                record(
                    .removed, name, "rev \(pool.function.revision): running invocations finish, then its workers stop")
                lines.append("  removed   \(name)")
            }
            serving.functions.sort { $0.name < $1.name }
            serving.failedFunctions.subtract(serving.functions.map(\.name))

            // Trigger files: all of them or none, so that a route never points at a half-applied edit.
            let triggerErrors = new.errors.filter { $0.file.hasPrefix("triggers/") }
            if !triggerErrors.isEmpty {
                serving.triggers = old.triggers
                if triggerErrors.contains(where: { !oldErrors.contains($0.description) }) {
                    lines.append(
                        "  triggers  unchanged: the last good trigger files keep serving until the errors above are fixed"
                    )
                }
            } else if new.triggers != old.triggers {
                do {
                    try await queues.redeclare(new.triggers.queues)
                    try await topics.redeclare(new.triggers.topics)
                    scheduler.update(new.triggers.schedules)
                    topics.setArchives(new.triggers.archives)
                    lines += Self.describeChanges(from: old.triggers, to: new.triggers)
                } catch {
                    // Kept as they were, so that the next reload applies them again.
                    serving.triggers = old.triggers
                    record(.reloadFailed, "host", "trigger files could not be applied: \(error)")
                    lines.append("  FAILED    trigger files could not be applied: \(error)")
                }
            }
            let routes = RouteTable(routes: serving.triggers.routes)
            loaded.withLock { $0 = (serving, routes) }
            let oldWarnings = Set(old.warnings)
            for warning in new.warnings where !oldWarnings.contains(warning) { lines.append("  WARNING   \(warning)") }
            for line in waitingTriggers() { lines.append("  WARNING   \(line)") }
            return lines
        }
    }

    /// Starts `function`'s new pool and warms it (as many workers as `old` had, at least its warm floor, and
    /// with `verify` at least one); then installs it in place of `old`, which retires. With `verify`, a new
    /// revision none of whose workers starts is not installed when there is an `old` to keep: returns why.
    func putInService(_ function: DeployedFunction, replacing old: WorkerPool? = nil, verify: Bool = false) async
        -> String?
    {
        let pool = makePool(function)
        let scaling = function.config.scaling
        let ahead = max(scaling.min, min(old?.workerCount ?? 0, scaling.max), verify ? 1 : 0)
        let warm = await pool.warmUp(ahead, timeout: .seconds(10))
        if verify, let failure = warm.failure, old != nil {
            await pool.shutdown()
            return failure
        }
        poolStarts.yield(pool)
        _ = dispatcher.install(pool)
        if let old { retireInBackground(old) }
        return verify ? warm.failure : nil
    }

    private func record(_ kind: HostEvent.Kind, _ function: String, _ message: String) {
        log.record(event: HostEvent(function: function, kind: kind, message: message))
    }

    /// `hello` for an error in `functions/hello/...`.
    private static func functionName(of error: ManifestError) -> String? {
        let parts = error.file.split(separator: "/")
        guard parts.count >= 2, parts[0] == "functions" else { return nil }
        return String(parts[1])
    }

    /// One line per route, queue and topic added, changed or removed.
    private static func describeChanges(from old: Triggers, to new: Triggers) -> [String] {
        var lines: [String] = []
        let oldRoutes = Dictionary(old.routes.map { ($0.routeKey, $0) }) { first, _ in first }
        let newRoutes = Dictionary(new.routes.map { ($0.routeKey, $0) }) { first, _ in first }
        for (key, route) in newRoutes.sorted(by: { $0.key < $1.key }) where oldRoutes[key] != route {
            lines.append("  route     \(key) -> \(route.function)\(oldRoutes[key] == nil ? " (new)" : " (changed)")")
        }
        for key in oldRoutes.keys.sorted() where newRoutes[key] == nil { lines.append("  route     \(key) removed") }
        let oldQueues = Dictionary(old.queues.map { ($0.name, $0) }) { first, _ in first }
        for queue in new.queues where oldQueues[queue.name] != queue {
            let consumer = queue.consumer.map { " -> \($0.function)" } ?? ""
            lines.append(
                "  queue     \(queue.name)\(consumer)\(oldQueues[queue.name] == nil ? " (new)" : " (changed)")")
        }
        for queue in old.queues where !new.queues.contains(where: { $0.name == queue.name }) {
            lines.append("  queue     \(queue.name) no longer declared: it keeps its messages; its file consumer stops")
        }
        for (topic, subscriptions) in new.topics.sorted(by: { $0.key < $1.key })
        where old.topics[topic] != subscriptions {
            lines.append(
                "  topic     \(topic) (\(subscriptions.count) subscriptions)\(old.topics[topic] == nil ? " (new)" : " (changed)")"
            )
        }
        for topic in old.topics.keys.sorted() where new.topics[topic] == nil {
            lines.append("  topic     \(topic) no longer declared: its declared subscriptions are removed")
        }
        let oldSchedules = Dictionary(old.schedules.map { ($0.name, $0) }) { first, _ in first }
        for schedule in new.schedules where oldSchedules[schedule.name] != schedule {
            lines.append(
                "  schedule  \(schedule.name) \(schedule.expression) -> \(schedule.function)\(oldSchedules[schedule.name] == nil ? " (new)" : " (changed)")"
            )
        }
        for schedule in old.schedules where !new.schedules.contains(where: { $0.name == schedule.name }) {
            lines.append("  schedule  \(schedule.name) removed")
        }
        return lines
    }
}

import Foundation
import Logging
import StratusCore
import StratusStore

/// Several hosts on one shared store: each hears the others' writes (queue messages, deliveries, definitions),
/// keeps itself announced with a heartbeat that also renews its delivery leases, and campaigns for the leadership
/// that the singleton duties need.
extension StratusHost {
    func joinCluster(_ shared: any SharedStore, group: inout TaskGroup<Void>) {
        let refreshes = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let deploys = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        group.addTask {
            await shared.watchChanges { change in
                self.apply(change, shared, refresh: refreshes.continuation, deploys: deploys.continuation)
            }
        }
        group.addTask {
            // Definitions are read again one refresh at a time; a burst of changes costs one read.
            for await _ in refreshes.stream {
                do {
                    try await self.queues.refresh()
                    try await self.topics.refresh()
                } catch {
                    self.logger.warning(
                        "reading queues and topics changed by another host failed", metadata: ["error": "\(error)"])
                }
            }
        }
        group.addTask {
            await shared.campaign { leader in
                guard self.leadership.set(leader) else { return }
                let message =
                    leader
                    ? "host \(shared.hostId) was elected leader: schedules, retention and replays run here"
                    : "host \(shared.hostId) lost the leadership (the database is out of reach or the host is stopping)"
                self.logger.notice("\(message)")
                self.log.record(
                    event: HostEvent(function: "host", kind: leader ? .elected : .steppedDown, message: message))
            }
        }
        group.addTask {
            for await _ in deploys.stream { await self.syncDeployments(shared) }
        }
        group.addTask { await self.heartbeat(shared) }
        refreshes.continuation.yield()
        deploys.continuation.yield()
    }

    private func apply(
        _ change: StoreChange, _ shared: any SharedStore, refresh: AsyncStream<Void>.Continuation,
        deploys: AsyncStream<Void>.Continuation
    ) {
        switch change {
        case .queue(let name, let messages?, true):
            queues.handedOff(messages, of: name) { rest in
                do {
                    try await shared.passOn(rest, of: name)
                } catch {
                    self.logger.warning(
                        "waking other hosts for messages failed", metadata: ["queue": "\(name)", "error": "\(error)"])
                }
            }
        case .queue(let name, let messages, _): queues.signal.notify(name, messages: messages)
        case .deliveries(let target): queues.noteCommitted(targets: [target])
        case .definitions: refresh.yield()
        case .replays: replays.wake()
        case .deployments: deploys.yield()
        case .resync:
            deploys.yield()
            refresh.yield()
            for queue in queues.all() { queues.signal.notify(queue.name) }
            queues.noteCommitted(targets: [])
            replays.wake()
        }
    }

    /// Makes live here every function revision deployed on another host (or rolled back there).
    func syncDeployments(_ shared: any SharedStore) async {
        guard let deployments = configuration.deployments else { return }
        let wanted: [SharedDeployment]
        do {
            wanted = try await shared.liveDeployments()
        } catch {
            logger.warning("reading shared deployments failed", metadata: ["error": "\(error)"])
            return
        }
        for deployment in wanted where appliedDeployments.withLock({ $0[deployment.name] }) != deployment.revision {
            let local = try? deployments.versions(of: deployment.name)
            if local?.live == deployment.revision {
                appliedDeployments.withLock { $0[deployment.name] = deployment.revision }
                continue
            }
            do {
                if local?.versions.contains(where: { $0.revision == deployment.revision }) == true {
                    _ = try await rollback(deployment.name, to: deployment.revision, share: false)
                } else if let archive = try await shared.deploymentArchive(
                    deployment.name, revision: deployment.revision)
                {
                    _ = try await deploy(deployment.name, archive: archive, source: deployment.source, share: false)
                }
            } catch {
                logger.warning(
                    "could not serve \(deployment.name) rev \(deployment.revision) deployed on another host",
                    metadata: ["error": "\(error)"])
            }
            // Tried once per revision: a failure is reported, not retried in a loop.
            appliedDeployments.withLock { $0[deployment.name] = deployment.revision }
        }
    }

    /// Announces this host every third of the lease time, renewing the leases of the deliveries it runs.
    private func heartbeat(_ shared: any SharedStore) async {
        let period = Duration.milliseconds(max(500, shared.leaseMs / 3))
        while !Task.isCancelled {
            do {
                try await shared.heartbeat(
                    nowMs: Int64(Date().timeIntervalSince1970 * 1000), startedAtMs: startedAtMs,
                    control: configuration.controlAddress, leader: leadership.isLeader)
            } catch {
                logger.warning("heartbeat to the shared store failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: period)
        }
    }

    func leaveCluster(_ shared: any SharedStore) async {
        do {
            try await shared.leave()
        } catch {
            logger.warning("leaving the shared store failed", metadata: ["error": "\(error)"])
        }
    }

    /// The hosts sharing the store, for `stratus status`; `nil` alone on SQLite.
    package func cluster() async throws -> V1.Cluster? {
        guard let shared else { return nil }
        return V1.Cluster(thisHost: shared.hostId, leaseMs: shared.leaseMs, hosts: try await shared.hosts())
    }
}

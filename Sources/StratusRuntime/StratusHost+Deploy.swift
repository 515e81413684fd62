import Foundation
import NIOPosix
import StratusCore

extension StratusHost {
    /// Why a deploy or rollback was refused.
    package enum DeployRefusal: Error, Sendable, CustomStringConvertible {
        /// The host keeps no state directory for deployments (an in-process test host).
        case unavailable
        /// `functions/NAME` serves this name: edit it there.
        case projectFunction(String)
        /// The new revision's workers do not start (a syntax error, a failing import): the live one keeps serving.
        case doesNotStart(function: String, revision: String, live: String, reason: String)
        case refused(Deployments.DeployError)
        /// Live on this host, but the shared database could not record it: the other hosts do not serve it.
        case notShared(function: String, revision: String, reason: String)

        package var description: String {
            switch self {
            case .unavailable: "this host keeps no deployments"
            case .projectFunction(let name):
                "'\(name)' is served from the project's functions/\(name): edit it there (serve --watch reloads it), or deploy under another --name"
            case .refused(let error): error.description
            case .notShared(let function, let revision, let reason):
                "\(function) rev \(revision) is live on this host, but the shared store could not record it (\(reason)): the other hosts do not serve it; deploy again"
            case .doesNotStart(let function, let revision, let live, let reason):
                "\(function) rev \(revision) does not start: \(reason)\nrev \(live) keeps serving"
            }
        }
    }

    /// The deployed functions as they serve now, at their live revision.
    package func deployedFunctions() -> [DeployedFunction] {
        let names = project.deployed
        return dispatcher.allPools().map(\.function).filter { names.contains($0.name) }
    }

    /// Unpacks `archive` (a tar of a function directory), keeps it as a new revision of `name` and makes it
    /// live the way a reload does: its workers start, then it takes new invocations while running ones finish
    /// on the old revision.
    /// With a shared store the revision is kept in the database too, and every other host makes it live
    /// (`share: false` is how they apply it).
    package func deploy(_ name: String, archive: [UInt8], source: String, share: Bool = true)
        async throws(DeployRefusal) -> V1.Deployed
    {
        guard let deployments = configuration.deployments else { throw .unavailable }
        let outcome: Result<V1.Deployed, DeployRefusal> = await reloads.withLock {
            let current = project
            if current.functions.contains(where: { $0.name == name }) || current.failedFunctions.contains(name),
                !current.deployed.contains(name)
            {
                return .failure(.projectFunction(name))
            }
            // Unpacking and hashing up to 250 MB is file work: off the event loops.
            let result = await Self.offLoop { () throws(Deployments.DeployError) in
                try deployments.deploy(name, archive: archive, source: source)
            }
            switch result {
            case .failure(let error): return .failure(.refused(error))
            case .success(let (function, previous)):
                if let failure = await makeLive(
                    function, event: .deployed, change: "rev \(previous ?? "none") → \(function.revision)"),
                    let previous
                {
                    // Kept among the revisions, but the live one stays live.
                    _ = await Self.offLoop { () throws(Deployments.DeployError) in
                        try deployments.rollback(name, to: previous)
                    }
                    let refusal = DeployRefusal.doesNotStart(
                        function: name, revision: function.revision, live: previous, reason: failure)
                    log.record(event: HostEvent(function: name, kind: .reloadFailed, message: refusal.description))
                    return .failure(refusal)
                }
                if share, let shared {
                    do {
                        try await shared.putDeployment(
                            name, revision: function.revision, archive: archive, source: source,
                            nowMs: Int64(Date().timeIntervalSince1970 * 1000))
                    } catch {
                        return .failure(.notShared(function: name, revision: function.revision, reason: "\(error)"))
                    }
                }
                appliedDeployments.withLock { $0[name] = function.revision }
                return .success(V1.Deployed(function: name, revision: function.revision, previousRevision: previous))
            }
        }
        return try outcome.get()
    }

    /// Makes an earlier revision of a deployed function live again (default: the one before the live one).
    package func rollback(_ name: String, to revision: String?, share: Bool = true) async throws(DeployRefusal)
        -> V1.Deployed
    {
        guard let deployments = configuration.deployments else { throw .unavailable }
        var revision = revision
        if share, let shared {
            // The revisions are the shared store's: this host may never have had the one to go back to.
            let kept = (try? await shared.deploymentRevisions(name)) ?? []
            let live = (try? await shared.liveDeployments())?.first { $0.name == name }?.revision
            if revision == nil, let live, let index = kept.firstIndex(where: { $0.revision == live }), index > 0 {
                revision = kept[index - 1].revision
            }
            let local = try? deployments.versions(of: name)
            if let target = revision, let wanted = kept.first(where: { $0.revision == target }),
                local?.versions.contains(where: { $0.revision == target }) != true,
                let archive = try? await shared.deploymentArchive(name, revision: target)
            {
                let deployed = try await deploy(name, archive: archive, source: wanted.source, share: false)
                do {
                    try await shared.setLiveDeployment(name, revision: deployed.revision)
                } catch {
                    throw .notShared(function: name, revision: deployed.revision, reason: "\(error)")
                }
                return deployed
            }
        }
        let target = revision
        let outcome: Result<V1.Deployed, DeployRefusal> = await reloads.withLock {
            guard project.deployed.contains(name) else {
                return .failure(
                    project.functions.contains { $0.name == name }
                        ? .projectFunction(name) : .refused(.notDeployed(name)))
            }
            let result = await Self.offLoop { () throws(Deployments.DeployError) in
                try deployments.rollback(name, to: target)
            }
            switch result {
            case .failure(let error): return .failure(.refused(error))
            case .success(let (function, previous)):
                if let failure = await makeLive(
                    function, event: .rolledBack, change: "rev \(previous) → \(function.revision)")
                {
                    _ = await Self.offLoop { () throws(Deployments.DeployError) in
                        try deployments.rollback(name, to: previous)
                    }
                    return .failure(
                        .doesNotStart(function: name, revision: function.revision, live: previous, reason: failure))
                }
                if share, let shared {
                    do {
                        try await shared.setLiveDeployment(name, revision: function.revision)
                    } catch {
                        return .failure(.notShared(function: name, revision: function.revision, reason: "\(error)"))
                    }
                }
                appliedDeployments.withLock { $0[name] = function.revision }
                return .success(V1.Deployed(function: name, revision: function.revision, previousRevision: previous))
            }
        }
        return try outcome.get()
    }

    /// A deployed function's kept revisions.
    package func versions(of name: String) throws(DeployRefusal) -> V1.Versions {
        guard let deployments = configuration.deployments else { throw .unavailable }
        guard project.deployed.contains(name) || !project.functions.contains(where: { $0.name == name }) else {
            throw .projectFunction(name)
        }
        do {
            let (live, versions) = try deployments.versions(of: name)
            return V1.Versions(
                function: name,
                versions: versions.map {
                    .init(
                        revision: $0.revision, time: Date(timeIntervalSince1970: Double($0.timeMs) / 1000),
                        source: $0.source, live: $0.revision == live)
                })
        } catch {
            throw .refused(error)
        }
    }

    /// Installs `function` in place of its current pool (if any), drained, and records the change; when there is a
    /// current revision and none of the new one's workers starts, installs nothing and returns why.
    private func makeLive(_ function: DeployedFunction, event: HostEvent.Kind, change: String) async -> String? {
        let current = dispatcher.allPools().first { $0.function.name == function.name }
        let failure = await putInService(function, replacing: current, verify: true)
        if failure != nil, current != nil { return failure }
        loaded.withLock { loaded in
            loaded.project.functions.removeAll { $0.name == function.name }
            loaded.project.functions.append(function)
            loaded.project.functions.sort { $0.name < $1.name }
            loaded.project.deployed.insert(function.name)
            loaded.project.failedFunctions.remove(function.name)
        }
        log.record(event: HostEvent(function: function.name, kind: event, message: change))
        logger.notice("\(event.rawValue) \(function.name) \(change)")
        return nil
    }

    private static func offLoop<T: Sendable>(_ work: @escaping @Sendable () throws(Deployments.DeployError) -> T) async
        -> Result<T, Deployments.DeployError>
    {
        do {
            return try await NIOThreadPool.singleton.runIfActive { () -> Result<T, Deployments.DeployError> in
                do throws(Deployments.DeployError) { return .success(try work()) } catch { return .failure(error) }
            }
        } catch {
            return .failure(.storage("\(error)"))
        }
    }
}

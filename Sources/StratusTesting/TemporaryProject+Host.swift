import Foundation
import Logging
import StratusCore
import StratusRuntime
import StratusStore

extension TemporaryProject {
    /// A host on this project with its store in `<project>/.stratus`, built as `stratus serve` builds it.
    package func host(_ configuration: StratusHost.Configuration = .init()) throws -> StratusHost {
        try FileManager.default.createDirectory(atPath: path + "/.stratus", withIntermediateDirectories: true)
        return StratusHost(
            project: ProjectLoader.load(directory: path),
            store: try SQLiteStore(path: path + "/.stratus/stratus.sqlite"),
            configuration: configuration, logger: Logger(label: "test"))
    }

    /// Runs `body`, then stops every worker of `host` and removes the project, whatever happened.
    package func run(_ host: StratusHost, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await host.stopWorkers()
            remove()
            throw error
        }
        await host.stopWorkers()
        remove()
    }
}

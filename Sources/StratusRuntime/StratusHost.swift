import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import StratusCore
import StratusStore

/// The running host: the store, the invocation log, the dispatcher and every function's worker pool.
///
/// `run()` keeps the pools at their warm floor and retires idle workers; on graceful shutdown it stops
/// every worker. Servers that call the dispatcher are started after it and stopped before it.
public final class StratusHost: Service, Sendable {
    public struct Configuration: Sendable {
        /// The project directory holding `functions/` and `triggers/`.
        public var projectDirectory: String
        /// Where state lives; default `<project>/.stratus`.
        public var stateDirectory: String
        public var retention = InvocationLog.Retention()

        public init(projectDirectory: String, stateDirectory: String? = nil) {
            self.projectDirectory = projectDirectory
            self.stateDirectory = stateDirectory ?? URL(fileURLWithPath: projectDirectory).appendingPathComponent(".stratus").path
        }
    }

    public let configuration: Configuration
    public let dispatcher: Dispatcher
    public let log: InvocationLog
    public let project: ProjectLoader.Project
    private let launcher: WorkerLauncher
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: configuration.stateDirectory + "/stratus.sqlite")
        log = InvocationLog(store: store, retention: configuration.retention, logger: logger)
        dispatcher = Dispatcher(log: log, logger: logger)
        launcher = WorkerLauncher(group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        project = ProjectLoader.load(directory: configuration.projectDirectory)
        for function in project.functions {
            _ = dispatcher.install(WorkerPool(function: function, launcher: launcher, logger: logger))
        }
    }

    public func run() async throws {
        let pools = dispatcher.allPools()
        await withTaskGroup(of: Void.self) { group in
            for pool in pools { group.addTask { await pool.fillWarmFloor() } }
        }
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                for pool in pools {
                    pool.retireIdle()
                    if pool.counts.total < pool.function.config.scaling.min { await pool.fillWarmFloor() }
                }
            }
        } onGracefulShutdown: {}
        await stopWorkers()
        await log.flush()
    }

    /// Stops every worker of every function and waits for their processes to exit.
    public func stopWorkers() async {
        for pool in dispatcher.allPools() { await pool.shutdown() }
    }

    /// Per-function figures for `stratus status`.
    public func functionStatus() -> [FunctionStatus] {
        dispatcher.allPools().map { pool in
            let counts = pool.counts
            return FunctionStatus(
                name: pool.function.name, runtime: pool.function.config.runtime.rawValue, revision: pool.function.revision,
                workers: counts.total, idle: counts.idle, waiting: counts.waiting,
                min: pool.function.config.scaling.min, max: pool.function.config.scaling.max)
        }
    }
}

/// One function's line in `stratus status`.
public struct FunctionStatus: Sendable, Codable {
    public var name: String
    public var runtime: String
    public var revision: String
    public var workers: Int
    public var idle: Int
    public var waiting: Int
    public var min: Int
    public var max: Int
}

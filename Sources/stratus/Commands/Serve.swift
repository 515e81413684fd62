import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import StratusCore
import StratusPostgres
import StratusRuntime
import StratusServer
import StratusStore
import Synchronization

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load DIR/functions and DIR/triggers and serve them.")

    @Argument(help: "Project directory.")
    var directory = "."

    @Option(help: "State directory (default DIR/.stratus).")
    var state: String?

    @Option(
        help: """
            Where state is kept (default: $STRATUS_STORE, else SQLite in the state directory): \
            postgres://user[:password]@host[:port]/database shares it with every host that names the same database.
            """)
    var store: String?

    @Option(help: "Gateway address for HTTP triggers.")
    var http = "127.0.0.1:8080"

    @Option(help: "Control plane address (API, AWS facades).")
    var control = "127.0.0.1:8081"

    @Option(help: "Cap on all workers of all functions together (default: from cores and memory).")
    var maxWorkers: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel = "info"

    @Option(help: "On SIGTERM/SIGINT, how long running invocations may finish before they are killed (e.g. 30s).")
    var drainTimeout = "30s"

    @Option(
        help:
            "Bearer token the control plane requires (default: $STRATUS_TOKEN); required when --control is not loopback."
    )
    var token: String?

    @Option(help: "A Host name the control plane accepts besides loopback (repeatable), e.g. a name in /etc/hosts.")
    var allowHost: [String] = []

    @Flag(
        help:
            "Reload functions/ and triggers/ when they change: changed functions are drained and swapped, a broken edit keeps the last good version."
    )
    var watch = false

    func run() async throws {
        var logger = Logger(label: "stratus")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var quietLogger = logger
        quietLogger.logLevel = max(logger.logLevel, .warning)

        let (gatewayHost, gatewayPort) = try Self.parseAddress(http, option: "--http")
        let (controlHost, controlPort) = try Self.parseAddress(control, option: "--control")
        var configuration = StratusHost.Configuration()
        if let maxWorkers {
            guard (1...10_000).contains(maxWorkers) else {
                throw ValidationError("--max-workers must be between 1 and 10000")
            }
            configuration.maxWorkers = maxWorkers
        }
        guard let drain = DurationParser.parse(drainTimeout), drain <= .seconds(3600) else {
            throw ValidationError(
                "--drain-timeout expects a duration between 0s and 1h, e.g. 30s (got '\(drainTimeout)')")
        }
        configuration.drainTimeout = drain
        let token = (token ?? ProcessInfo.processInfo.environment["STRATUS_TOKEN"]).flatMap { $0.isEmpty ? nil : $0 }
        if !ControlExposure.isLoopbackBind(controlHost), token == nil {
            throw ValidationError(
                "--control \(control) is reachable beyond this machine: set a token with --token or STRATUS_TOKEN "
                    + "(clients send it as Authorization: Bearer TOKEN, or as AWS_ACCESS_KEY_ID for the aws CLI and boto3)"
            )
        }
        if let token, token.utf8.count < 16 {
            throw ValidationError("--token must be at least 16 characters")
        }
        // Sent as `Authorization: Bearer TOKEN` and as the access key in a SigV4 `Credential=KEY/date/...`.
        if let token,
            !token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ",") })
        {
            throw ValidationError(
                "--token may hold printable ASCII characters other than '/' and ',' (AWS clients send it as their access key)"
            )
        }
        ResourceLimits.raiseOpenFiles()
        // Absolute: deployed functions run from snapshots under it, whatever their working directory.
        let stateDirectory = URL(
            fileURLWithPath: state ?? URL(fileURLWithPath: directory).appendingPathComponent(".stratus").path
        )
        .standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let storeURL = (store ?? ProcessInfo.processInfo.environment["STRATUS_STORE"]).flatMap {
            $0.isEmpty ? nil : $0
        }
        let store: any Store
        if let storeURL, storeURL.hasPrefix("postgres://") || storeURL.hasPrefix("postgresql://") {
            var storeLogger = logger
            storeLogger.logLevel = max(logger.logLevel, .warning)
            let hostId = "\(ProcessInfo.processInfo.hostName):\(getpid())"
            do {
                store = try await PostgresStore.open(url: storeURL, hostId: hostId, logger: storeLogger)
            } catch let error as StoreError {
                throw ValidationError("--store: \(error.message)")
            }
            configuration.controlAddress = control
        } else if let storeURL {
            let path = storeURL.hasPrefix("sqlite://") ? String(storeURL.dropFirst("sqlite://".count)) : storeURL
            store = try SQLiteStore(path: path)
        } else {
            store = try SQLiteStore(path: stateDirectory + "/stratus.sqlite")
        }
        let dependencies = Dependencies(
            root: stateDirectory + "/deps", python: WorkerLauncher.pythonExecutable,
            progress: { line in
                print(line)
                fflush(nil)
            })
        let deployments = Deployments(stateDirectory: stateDirectory, dependencies: dependencies)
        configuration.deployments = deployments
        let deployed = deployments.load()
        let project = ProjectLoader.load(directory: directory, deployed: deployed.functions, dependencies: dependencies)
        let host = StratusHost(project: project, store: store, configuration: configuration, logger: logger)
        // Known now unless the port is chosen at bind (0): then once the control plane listens, and no worker
        // starts before (a warm floor or a consumer's would lack the variables).
        if controlPort != 0 {
            host.pointFunctionSDKs(atControl: controlHost, port: controlPort, token: token)
        } else {
            host.holdWorkersUntilSDKsArePointed()
        }
        try await host.prepare()
        printLoaded(host, stateDirectory: stateDirectory)
        for error in deployed.errors { print("  FAILED  \(error)") }

        let ready = ReadyBanner(host: host)
        let server = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .init(Limits.idleConnection)))
        func serverConfiguration(_ host: String, _ port: Int) -> ApplicationConfiguration {
            .init(
                address: .hostname(host, port: port), serverName: "stratus", backlog: 1024,
                availableConnectionsDelegate: MaximumAvailableConnections(Limits.connectionsPerListener))
        }
        let gateway = Application(
            responder: Gateway(host: host), server: server,
            configuration: serverConfiguration(gatewayHost, gatewayPort),
            onServerRunning: { ready.listening("gateway", $0.localAddress) }, logger: quietLogger)
        let controlApp = Application(
            router: ControlAPI.router(
                host: host, exposure: ControlExposure(token: token, allowedHosts: Set(allowHost))),
            server: server, configuration: serverConfiguration(controlHost, controlPort),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port {
                    host.pointFunctionSDKs(atControl: controlHost, port: port, token: token)
                }
                ready.listening("control", channel.localAddress)
            }, logger: quietLogger)
        // Stopped in reverse order: the drain clock starts first, then the servers finish their requests,
        // then the host stops its workers, then the log is flushed.
        var services: [any Service] = [host.log, host, controlApp, gateway]
        if watch { services.append(ProjectReloader(host: host, directory: directory, dependencies: dependencies)) }
        services.append(DrainDeadline(host: host))
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: quietLogger))
        try await group.run()
        print("stratus: stopped")
        fflush(nil)
    }

    private func printLoaded(_ host: StratusHost, stateDirectory: String) {
        print("Stratus: project \(URL(fileURLWithPath: directory).standardizedFileURL.path)")
        for function in host.project.functions {
            print(
                "  loaded  \(function.name)  (\(function.config.runtime.rawValue), \(function.version), rev \(function.revision)"
                    + (host.project.deployed.contains(function.name) ? ", deployed)" : ")"))
        }
        for route in host.project.triggers.routes {
            print("  route   \(route.routeKey) -> \(route.function)")
        }
        for queue in host.project.triggers.queues {
            print("  queue   \(queue.name)" + (queue.consumer.map { " -> \($0.function)" } ?? ""))
        }
        for (topic, subscriptions) in host.project.triggers.topics.sorted(by: { $0.key < $1.key }) {
            print("  topic   \(topic) (\(subscriptions.count) subscriptions)")
        }
        for function in host.project.functions {
            switch function.config.async.onFailure {
            case .queue(let queue) where host.queues.config(queue) == nil:
                print(
                    "  WARNING functions/\(function.name)/function.yaml: async.onFailure queue '\(queue)' does not exist; failed events will be dropped"
                )
            case .topic(let topic) where host.topics.all()[topic] == nil:
                print(
                    "  WARNING functions/\(function.name)/function.yaml: async.onFailure topic '\(topic)' does not exist; failed events will be dropped"
                )
            default: break
            }
        }
        for error in host.project.errors {
            print("  FAILED  \(error)")
        }
        for warning in host.project.warnings {
            print("  WARNING \(warning)")
        }
        for warning in host.waitingTriggers() {
            print("  WARNING \(warning)")
        }
        print("  state   \(stateDirectory)")
        print("  workers at most \(host.maxWorkers) in all (--max-workers), isolated by \(host.isolation)")
        fflush(nil)
    }

    static func parseAddress(_ text: String, option: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("\(option) expects HOST:PORT, e.g. 127.0.0.1:8080 (got '\(text)')")
        }
        return (String(text[..<colon]), port)
    }
}

/// `serve --watch`: reloads the project after each burst of changes under `functions/` and `triggers/`, and
/// prints what changed.
struct ProjectReloader: Service {
    let host: StratusHost
    let directory: String
    let dependencies: Dependencies

    func run() async throws {
        let watcher = ProjectWatcher(directory: directory)
        print("  watching functions/ and triggers/ for changes")
        fflush(nil)
        await cancelWhenGracefulShutdown {
            await watcher.run {
                let lines = await host.reload(
                    ProjectLoader.load(directory: directory, deployed: host.deployedFunctions()))
                guard !lines.isEmpty else { return }
                print("Reloaded:")
                for line in lines { print(line) }
                fflush(nil)
            }
        }
    }
}

/// Prints the listen addresses once both servers are up.
final class ReadyBanner: Sendable {
    private let addresses = Mutex<[String: String]>([:])
    private let host: StratusHost

    init(host: StratusHost) {
        self.host = host
    }

    func listening(_ name: String, _ address: SocketAddress?) {
        let text = "\(address?.ipAddress ?? "?"):\(address?.port ?? 0)"
        let all = addresses.withLock { addresses -> [String: String]? in
            addresses[name] = text
            return addresses.count == 2 ? addresses : nil
        }
        guard let all else { return }
        print("  gateway  http://\(all["gateway"]!)  (HTTP triggers)")
        print("  control  http://\(all["control"]!)  (stratus CLI, aws --endpoint-url)")
        print("Ready.")
        fflush(nil)
    }
}

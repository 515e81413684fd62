import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import StratusRuntime
import StratusServer
import Synchronization

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load DIR/functions and DIR/triggers and serve them.")

    @Argument(help: "Project directory.")
    var directory = "."

    @Option(help: "State directory (default DIR/.stratus).")
    var state: String?

    @Option(help: "Gateway address for HTTP triggers.")
    var http = "127.0.0.1:8080"

    @Option(help: "Control plane address (API, AWS facades).")
    var control = "127.0.0.1:8081"

    @Option(help: "Cap on all workers of all functions together (default: from cores and memory).")
    var maxWorkers: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel = "info"

    func run() async throws {
        var logger = Logger(label: "stratus")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var quietLogger = logger
        quietLogger.logLevel = max(logger.logLevel, .warning)

        let (gatewayHost, gatewayPort) = try Self.parseAddress(http, option: "--http")
        let (controlHost, controlPort) = try Self.parseAddress(control, option: "--control")
        var configuration = StratusHost.Configuration(projectDirectory: directory, stateDirectory: state)
        if let maxWorkers {
            guard maxWorkers > 0 else { throw ValidationError("--max-workers must be positive") }
            configuration.maxWorkers = maxWorkers
        }
        let host = try StratusHost(configuration: configuration, logger: logger)
        try await host.prepare()
        printLoaded(host)

        let ready = ReadyBanner(host: host)
        let gateway = Application(
            responder: Gateway(host: host),
            configuration: .init(address: .hostname(gatewayHost, port: gatewayPort), serverName: "stratus"),
            onServerRunning: { ready.listening("gateway", $0.localAddress) }, logger: quietLogger)
        let controlApp = Application(
            router: ControlAPI.router(host: host),
            configuration: .init(address: .hostname(controlHost, port: controlPort), serverName: "stratus"),
            onServerRunning: { ready.listening("control", $0.localAddress) }, logger: quietLogger)
        let group = ServiceGroup(
            configuration: .init(
                services: [host.log, host, controlApp, gateway], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: quietLogger))
        try await group.run()
        print("stratus: stopped")
        fflush(nil)
    }

    private func printLoaded(_ host: StratusHost) {
        print("Stratus: project \(URL(fileURLWithPath: directory).standardizedFileURL.path)")
        for function in host.project.functions {
            print("  loaded  \(function.name)  (\(function.config.runtime.rawValue), \(function.version), rev \(function.revision))")
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
                print("  WARNING functions/\(function.name)/function.yaml: async.onFailure queue '\(queue)' does not exist; failed events will be dropped")
            case .topic(let topic) where host.topics.all()[topic] == nil:
                print("  WARNING functions/\(function.name)/function.yaml: async.onFailure topic '\(topic)' does not exist; failed events will be dropped")
            default: break
            }
        }
        for error in host.project.errors {
            print("  FAILED  \(error)")
        }
        print("  state   \(host.configuration.stateDirectory)")
        print("  workers at most \(host.maxWorkers) in all (--max-workers)")
        fflush(nil)
    }

    static func parseAddress(_ text: String, option: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else {
            throw ValidationError("\(option) expects HOST:PORT, e.g. 127.0.0.1:8080 (got '\(text)')")
        }
        return (String(text[..<colon]), port)
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

import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

@main
enum Main {
    static func main() async {
        // Swift concurrency's jobs run on the event loops that do the I/O: a task that a socket resumes goes
        // on on that loop's thread instead of waking a thread of another pool (two thread hops per request).
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await Stratus.main()
    }
}

struct Stratus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stratus",
        abstract: "A local serverless function host that speaks AWS Lambda's protocols.",
        discussion: """
            Exit codes: 0 ok, 1 the invocation or request failed, 64 usage, 65 invalid function or trigger
            files, 69 host unreachable.
            """,
        subcommands: [
            Serve.self, Invoke.self, Logs.self, Publish.self, Send.self, Queues.self, Topics.self, Redrive.self,
            Routes.self,
            Schedules.self,
            Replay.self,
            Replays.self,
            Status.self, Breaker.self, Validate.self, SchemaCommand.self, New.self, Deploy.self, Versions.self,
            Rollback.self,
        ]
    )
}

/// Options every client command shares.
struct ClientOptions: ParsableArguments {
    @Option(help: "Control plane URL (default: $STRATUS_ENDPOINT or http://127.0.0.1:8081).")
    var endpoint: String?

    @Option(help: "Bearer token of a control plane started with --token (default: $STRATUS_TOKEN).")
    var token: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// Prints the raw answer with `--json`, else what `text` makes of it.
    func show<Answer>(_ result: (answer: Answer, raw: Data), text: (Answer) -> Void) {
        if json { print(String(decoding: result.raw, as: UTF8.self)) } else { text(result.answer) }
    }

    var client: ControlClient {
        let environment = ProcessInfo.processInfo.environment
        return ControlClient(
            endpoint: endpoint ?? environment["STRATUS_ENDPOINT"] ?? "http://127.0.0.1:8081",
            token: token ?? environment["STRATUS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
    }
}

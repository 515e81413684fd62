import ArgumentParser
import Foundation
import StratusCore
import StratusRuntime

struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a function directory and put it on the running host as a new revision.",
        discussion: """
            The directory is checked as `validate` checks it (exit 65 with file:line on errors), uploaded as a tar
            and made live the way a reload is: new invocations go to the new revision once its workers have
            started, running ones finish on the old. Every deploy is kept (`stratus versions`, `stratus rollback`)
            and survives restarts.
            """)

    @Argument(help: "The function's directory (with its function.yaml).")
    var directory: String

    @Option(help: "Function name (default: the directory's name).")
    var name: String?

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let path = URL(fileURLWithPath: directory).standardizedFileURL.path
        let name = self.name ?? URL(fileURLWithPath: path).lastPathComponent
        guard FunctionConfig.isValidName(name) else {
            throw ValidationError("invalid function name '\(name)'; expected [a-z0-9][a-z0-9-]{0,63} (use --name)")
        }
        let shown = directory.hasSuffix("/") ? directory + "function.yaml" : directory + "/function.yaml"
        do {
            _ = try ProjectLoader.checkFunction(named: name, at: path, shownPath: shown)
        } catch {
            print("invalid  \(error)")
            throw ExitCode(65)
        }
        let archive: [UInt8]
        do {
            archive = try CodeStore.archive(of: path)
        } catch {
            print("invalid  \(directory): \(error)")
            throw ExitCode(65)
        }
        let body = try await options.client.call(
            "PUT", "/v1/functions/\(name.percentEncodedQuery)", body: Data(archive), contentType: "application/x-tar",
            headers: [("X-Stratus-Source", path)])
        let deployed = try V1.decoder.decode(V1.Deployed.self, from: body)
        if options.json {
            print(String(decoding: body, as: UTF8.self))
        } else {
            let was = deployed.previousRevision.map { " (was \($0))" } ?? " (new function)"
            print("deployed \(deployed.function) rev \(deployed.revision)\(was)")
        }
    }
}

struct Versions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a deployed function's revisions.")

    @Argument(help: "Function name.")
    var function: String

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let path = "/v1/functions/\(function.percentEncodedQuery)/versions"
        options.show(try await options.client.get(path, as: V1.Versions.self)) { answer in
            print("REVISION  " + "TIME".padding(25) + "LIVE  SOURCE")
            for version in answer.versions.reversed() {
                print(
                    version.revision.padding(10) + MessagingEvents.isoTimestamp(version.time).padding(25)
                        + (version.live ? "*" : "").padding(6) + version.source)
            }
        }
    }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make an earlier revision of a deployed function live again (default: the one before).")

    @Argument(help: "Function name.")
    var function: String

    @Option(help: "The revision to make live (see `stratus versions`).")
    var to: String?

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let body = try await options.client.call(
            "POST", "/v1/functions/\(function.percentEncodedQuery)/rollback",
            body: try V1.encoder.encode(V1.Rollback(to: to)))
        let answer = try V1.decoder.decode(V1.Deployed.self, from: body)
        if options.json {
            print(String(decoding: body, as: UTF8.self))
        } else {
            print("rolled back \(answer.function) to rev \(answer.revision) (was \(answer.previousRevision ?? "?"))")
        }
    }
}

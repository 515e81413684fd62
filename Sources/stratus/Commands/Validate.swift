import ArgumentParser
import Foundation
import StratusRuntime

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check function and trigger files without serving; exits 65 when any is invalid.")

    @Argument(help: "Project directory.")
    var directory = "."

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let project = ProjectLoader.load(directory: directory)
        if json {
            let object: [String: Any] = [
                "functions": project.functions.map(\.name),
                "errors": project.errors.map { ["file": $0.file, "line": $0.line as Any, "key": $0.key, "message": $0.message] },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for function in project.functions { print("ok       \(function.name) (\(function.config.runtime.rawValue))") }
            for error in project.errors { print("invalid  \(error)") }
            print("\(project.functions.count) valid, \(project.errors.count) invalid")
        }
        if !project.errors.isEmpty { throw ExitCode(65) }
    }
}

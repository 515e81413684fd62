import ArgumentParser
import Foundation
import StratusCore
import StratusRuntime

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check function and trigger files without serving; exits 65 when any is invalid.")

    @Argument(help: "Project directory.")
    var directory = "."

    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// `validate --json`.
    struct Report: Encodable {
        struct Problem: Encodable {
            var file: String
            var line: Int?
            var key: String
            var message: String

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(file, forKey: .file)
                try container.encode(line, forKey: .line)  // null for a file-level problem
                try container.encode(key, forKey: .key)
                try container.encode(message, forKey: .message)
            }

            enum CodingKeys: String, CodingKey { case file, line, key, message }
        }

        var functions: [String]
        var errors: [Problem]
    }

    func run() throws {
        let project = ProjectLoader.load(directory: directory)
        if json {
            let report = Report(
                functions: project.functions.map(\.name),
                errors: project.errors.map { .init(file: $0.file, line: $0.line, key: $0.key, message: $0.message) })
            print(String(decoding: try V1.encoder.encode(report), as: UTF8.self))
        } else {
            for function in project.functions {
                print("ok       \(function.name) (\(function.config.runtime.rawValue))")
            }
            for error in project.errors { print("invalid  \(error)") }
            print("\(project.functions.count) valid, \(project.errors.count) invalid")
        }
        if !project.errors.isEmpty { throw ExitCode(65) }
    }
}

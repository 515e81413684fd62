import ArgumentParser
import StratusCore

/// `stratus schema function|triggers`: the JSON Schema that `validate`, `serve` and `deploy` check the files
/// against, for editors.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of function.yaml or of triggers/*.yaml, for editors.",
        discussion: """
            The schema is the one every load checks files against. Write it into a project with
              stratus schema function > schemas/function.schema.json
              stratus schema triggers > schemas/triggers.schema.json
            and point the files at it with a first line such as
              # yaml-language-server: $schema=../../schemas/function.schema.json
            """)

    enum File: String, ExpressibleByArgument, CaseIterable {
        case function, triggers
    }

    @Argument(help: "Which file's schema: function or triggers.")
    var file: File

    func run() {
        switch file {
        case .function: print(Schemas.functionJSON, terminator: "")
        case .triggers: print(Schemas.triggersJSON, terminator: "")
        }
    }
}

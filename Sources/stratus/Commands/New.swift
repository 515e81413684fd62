import ArgumentParser
import Foundation
import StratusCore
import StratusRuntime

struct New: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a working function directory (and its trigger file), as `sam init` starts you off.",
        discussion: """
            Writes functions/NAME/ (function.yaml and a handler) and, with --http or --queue, triggers/NAME.yaml,
            then checks the project as `validate` does: on an error nothing is left behind (exit 65). A host
            running with `serve --watch` picks the function up at once.
            """)

    enum Runtime: String, ExpressibleByArgument, CaseIterable {
        case python, node, provided
    }

    @Argument(help: "Function name ([a-z0-9][a-z0-9-]{0,63}).")
    var name: String

    @Option(help: "python, node or provided (a ./bootstrap of your own).")
    var runtime: Runtime = .python

    @Option(help: "An HTTP route to it, e.g. 'GET /hello' or 'POST /orders/{id}'.")
    var http: String?

    @Option(help: "A queue it consumes (declared in the trigger file).")
    var queue: String?

    @Option(help: "Project directory.")
    var project = "."

    func validate() throws {
        guard FunctionConfig.isValidName(name) else {
            throw ValidationError("invalid function name '\(name)'; expected [a-z0-9][a-z0-9-]{0,63}")
        }
        if let queue, !QueueConfig.isValidName(queue) {
            throw ValidationError("invalid queue name '\(queue)'; expected 1-80 letters, digits, '-' or '_'")
        }
        if let http, http.split(separator: " ").count != 2 {
            throw ValidationError("--http expects 'METHOD /path', e.g. 'GET /hello' (got '\(http)')")
        }
    }

    func run() throws {
        let root = URL(fileURLWithPath: project).standardizedFileURL.path
        let directory = "\(root)/functions/\(name)"
        let triggers = "\(root)/triggers/\(name).yaml"
        let manager = FileManager.default
        guard !manager.fileExists(atPath: directory) else {
            printError("functions/\(name) already exists")
            throw ExitCode.failure
        }
        if http != nil || queue != nil, manager.fileExists(atPath: triggers) {
            printError("triggers/\(name).yaml already exists")
            throw ExitCode.failure
        }
        var written: [String] = []
        func write(_ path: String, _ text: String, executable: Bool = false) throws {
            try manager.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            if executable { chmod(path, 0o755) }
            written.append(String(path.dropFirst(root.count + 1)))
        }
        let before = Set(ProjectLoader.load(directory: root).errors.map(\.description))
        try write(directory + "/function.yaml", manifest)
        for (file, text, executable) in code { try write(directory + "/" + file, text, executable: executable) }
        if let trigger = triggerFile { try write(triggers, trigger) }

        let errors = ProjectLoader.load(directory: root).errors.filter { !before.contains($0.description) }
        guard errors.isEmpty else {
            for error in errors { print("invalid  \(error)") }
            try? manager.removeItem(atPath: directory)
            if triggerFile != nil { try? manager.removeItem(atPath: triggers) }
            print("nothing was written")
            throw ExitCode(65)
        }
        // What the files' modelines name, for editors (kept when the project has them).
        for (file, text) in [("function", Schemas.functionJSON), ("triggers", Schemas.triggersJSON)] {
            let path = "\(root)/schemas/\(file).schema.json"
            if !manager.fileExists(atPath: path) { try write(path, text) }
        }
        for file in written { print("created  \(file)") }
        print("a host started with `stratus serve --watch` serves it now; else restart `stratus serve`")
        if let http, let path = http.split(separator: " ").last {
            let example = path.split(separator: "/").map { $0.hasPrefix("{") ? "1" : String($0) }.joined(separator: "/")
            print("try:     curl -i 'http://127.0.0.1:8080/\(example)?name=Ada'")
        } else if let queue {
            print("try:     stratus send \(queue) --data '{\"hello\": \"world\"}' && stratus logs \(name)")
        } else {
            print("try:     stratus invoke \(name) --data '{\"name\": \"Ada\"}'")
        }
    }

    private var manifest: String {
        let handler = runtime == .provided ? "" : "handler: \(runtime == .python ? "app" : "index").handler\n"
        return """
            # yaml-language-server: $schema=../../schemas/function.schema.json
            runtime: \(runtime.rawValue)
            \(handler)timeout: 3s
            memory: 128
            scaling: {min: 0, max: 10}

            """
    }

    private var code: [(String, String, Bool)] {
        switch runtime {
        case .python:
            return [
                (
                    "app.py",
                    """
                    import json


                    def handler(event, context):
                        # A queue delivers a batch of SQS records; report the ones that failed, keep the rest.
                        if "Records" in event:
                            for record in event["Records"]:
                                print("\(name) got", record["body"])
                            return {"batchItemFailures": []}
                        # An HTTP route delivers an API Gateway v2 event; a direct invoke, any JSON.
                        who = (event.get("queryStringParameters") or {}).get("name") or event.get("name") or "world"
                        return {
                            "statusCode": 200,
                            "headers": {"content-type": "application/json"},
                            "body": json.dumps({"message": f"Hello, {who}!", "function": context.function_name}),
                        }

                    """, false
                )
            ]
        case .node:
            return [
                (
                    "index.js",
                    """
                    exports.handler = async (event, context) => {
                      // A queue delivers a batch of SQS records; report the ones that failed, keep the rest.
                      if (event && Array.isArray(event.Records)) {
                        for (const record of event.Records) console.log('\(name) got', record.body);
                        return { batchItemFailures: [] };
                      }
                      // An HTTP route delivers an API Gateway v2 event; a direct invoke, any JSON.
                      const who = (event.queryStringParameters && event.queryStringParameters.name) || event.name || 'world';
                      return {
                        statusCode: 200,
                        headers: { 'content-type': 'application/json' },
                        body: JSON.stringify({ message: `Hello, ${who}!`, function: context.functionName }),
                      };
                    };

                    """, false
                )
            ]
        case .provided:
            return [
                (
                    "bootstrap",
                    """
                    #!/bin/sh
                    # A custom runtime: fetch the next event from the Lambda Runtime API, answer it, forever.
                    set -eu
                    api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
                    while true; do
                      headers=$(mktemp)
                      event=$(curl -sS -D "$headers" "$api/next")
                      id=$(grep -i '^lambda-runtime-aws-request-id:' "$headers" | tr -d '\\r' | cut -d' ' -f2)
                      rm -f "$headers"
                      echo "\(name) got ${#event} bytes"
                      curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \\
                        --data-binary "{\\"statusCode\\":200,\\"body\\":\\"hello from \(name)\\"}" "$api/$id/response"
                    done

                    """, true
                )
            ]
        }
    }

    private var triggerFile: String? {
        var text = ""
        if let http {
            text += "http:\n  - route: \(http)\n    function: \(name)\n"
        }
        if let queue {
            text += "queues:\n  \(queue):\n    consumer: {function: \(name), batchSize: 10}\n"
        }
        return text.isEmpty ? nil : "# yaml-language-server: $schema=../schemas/triggers.schema.json\n" + text
    }
}

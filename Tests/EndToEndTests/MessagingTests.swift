import Foundation
import StratusCore
import StratusTesting
import Testing

/// Topics and queues through the built binary and its CLI.
@Suite(.serialized, .timeLimit(.minutes(2))) struct MessagingTests {
    static let recorder = """
        import json, os
        def handler(event, context):
            with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "events.log"), "a") as f:
                f.write(json.dumps(event) + "\\n")
        """

    /// Fails every record whose body contains "poison", via batchItemFailures.
    static let picky = """
        def handler(event, context):
            failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if "poison" in r["body"]]
            for r in event["Records"]:
                print("got", r["body"], r["attributes"]["ApproximateReceiveCount"])
            return {"batchItemFailures": failures}
        """

    /// An HTTP endpoint that answers 500 twice, then 200, recording what it got.
    static let endpoint = """
        import http.server, sys
        count = 0
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                global count
                count += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with open(sys.argv[2], "a") as f:
                    f.write(f"{count} {self.headers['x-amz-sns-message-type']} {body.decode()}\\n")
                self.send_response(500 if count <= 2 else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func fanOutFiltersConsumersDeadLettersAndRedrive() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython("recorder", code: Self.recorder)
        try project.addPython("picky", code: Self.picky, manifest: "timeout: 1s\n")
        try project.write(
            "triggers/t.yaml",
            """
            topics:
              orders:
                subscriptions:
                  - function: recorder
                    filter: {type: [created], price: [{numeric: [">", 10]}]}
                  - queue: audit
                  - queue: raw-audit
                    raw: true
                  - queue: work
                    filter: {kind: [{prefix: "job-"}]}
                    filterScope: body
            queues:
              audit: {}
              raw-audit: {}
              work:
                visibilityTimeout: 1s
                maxReceiveCount: 2
                deadLetterQueue: work-dlq
                consumer: {function: picky, batchSize: 5}
              work-dlq: {}
            """)
        let host = try await ServeProcess(project: project.path)
        #expect(host.log.contains("topic   orders (4 subscriptions)"))

        // Attribute filter: only the first publish reaches the function.
        #expect(
            try host.cli([
                "publish", "orders", "--data", "hello", "--attr", "type=created", "--attr", "price:Number=12",
                "--subject", "S",
            ]).status == 0)
        #expect(
            try host.cli(["publish", "orders", "--data", "cheap", "--attr", "type=created", "--attr", "price:Number=5"])
                .status == 0)
        let eventsPath = project.path + "/functions/recorder/events.log"
        #expect(await waitUntil { FileManager.default.fileExists(atPath: eventsPath) })
        let event = try json(
            try String(contentsOfFile: eventsPath, encoding: .utf8).split(separator: "\n")[0].description)
        let sns = try #require(((event["Records"] as? [[String: Any]])?.first)?["Sns"] as? [String: Any])
        #expect(sns["Message"] as? String == "hello" && sns["Subject"] as? String == "S")
        #expect(sns["TopicArn"] as? String == "arn:aws:sns:\(AWS.region):000000000000:orders")
        #expect(
            (sns["MessageAttributes"] as? [String: [String: String]])?["price"] == ["Type": "Number", "Value": "12"])

        // Every publish reaches the unfiltered queue as an SNS envelope, and the raw one as the bare message.
        print("messaging: filters checked")
        let audit = try await receive(host, "audit", max: 10)
        #expect(audit.count == 2)
        let envelope = try json(audit[0]["body"] as? String ?? "")
        #expect(envelope["Type"] as? String == "Notification" && envelope["Message"] as? String == "hello")
        let raw = try await receive(host, "raw-audit", max: 10)
        #expect(raw.map { $0["body"] as? String } == ["hello", "cheap"])
        #expect((raw[0]["attributes"] as? [String: [String: String]])?["type"]?["stringValue"] == "created")

        // Body-scope filter into a consumed queue: the poison message fails twice and is dead-lettered,
        // the others are deleted on the first try.
        for body in [#"{"kind":"job-1"}"#, #"{"kind":"job-poison"}"#, #"{"kind":"job-3"}"#, #"{"kind":"other"}"#] {
            #expect(try host.cli(["publish", "orders", "--data", body]).status == 0)
        }
        #expect(await waitUntil(timeout: .seconds(20)) { (try? self.queueCounts(host, "work-dlq"))?["visible"] == 1 })
        let work = try queueCounts(host, "work")
        #expect(work["visible"] == 0 && work["inFlight"] == 0)
        let queues = try host.cli(["queues"]).stdout
        #expect(queues.contains("work-dlq"))
        let logs = try host.cli(["logs", "picky"]).stdout
        #expect(logs.contains("job-poison") && logs.contains("job-1"))
        #expect(!logs.contains("other"), "the body filter kept this message out of the queue")

        print("messaging: dead-lettered")
        // Redrive: the dead-lettered message goes back to work, where it fails again.
        let redrive = try host.cli(["redrive", "work-dlq"])
        #expect(redrive.status == 0 && redrive.stdout.contains("moved 1 messages"))
        #expect(await waitUntil(timeout: .seconds(20)) { (try? self.queueCounts(host, "work-dlq"))?["visible"] == 1 })

        print("messaging: redriven")
        // Errors a user sees.
        let unknown = try host.cli(["publish", "nope", "--data", "x"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no topic named 'nope'"))
        try project.write("big.txt", String(repeating: "x", count: 262_145))
        let tooBig = try host.cli(["publish", "orders", "--data", "@\(project.path)/big.txt"])
        #expect(tooBig.status == 1 && tooBig.stderr.contains("256 KB"))
        #expect(try host.cli(["send", "nope", "--data", "x"]).stderr.contains("no queue named 'nope'"))
        #expect(await host.stop() == 0)
    }

    @Test func delayLongPollAndHTTPRetries() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.write("endpoint.py", Self.endpoint)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", project.path + "/endpoint.py", "0", project.path + "/hits.log"]
        let pipe = Pipe()
        server.standardOutput = pipe
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL) }
        let port = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)
        try project.write(
            "triggers/t.yaml",
            """
            topics:
              hooks:
                subscriptions:
                  - http: http://127.0.0.1:\(port)/hook
            queues:
              inbox: {}
            """)
        let host = try await ServeProcess(project: project.path)

        // HTTP subscription: two 500s, then delivered on the third attempt.
        #expect(try host.cli(["publish", "hooks", "--data", "ping"]).status == 0)
        let hits = project.path + "/hits.log"
        #expect(
            await waitUntil(timeout: .seconds(20)) {
                ((try? String(contentsOfFile: hits, encoding: .utf8)) ?? "").split(separator: "\n").count >= 3
            })
        let lines = try String(contentsOfFile: hits, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3, "no delivery after the success")
        #expect(lines.allSatisfy { $0.contains("Notification") && $0.contains(#""Message":"ping""#) })

        // A delayed message is counted as delayed and not received before its time.
        #expect(try host.cli(["send", "inbox", "--data", "later", "--delay", "2s"]).status == 0)
        let counts = try queueCounts(host, "inbox")
        #expect(counts["delayed"] == 1 && counts["visible"] == 0)
        #expect(try await receive(host, "inbox", max: 1).isEmpty)

        // Long polling returns as soon as a message arrives, well before its wait ends.
        let start = ContinuousClock.now
        async let polled = receive(host, "inbox", max: 1, wait: "15s")
        #expect(try host.cli(["send", "inbox", "--data", "now"]).status == 0)
        let got = try await polled
        #expect(got.first?["body"] as? String == "now")
        #expect(ContinuousClock.now - start < .seconds(10), "a send wakes the long poll")
        #expect(await host.stop() == 0)
    }

    func queueCounts(_ host: ServeProcess, _ name: String) throws -> [String: Int] {
        let object = try json(try host.cli(["queues", "--json"]).stdout)
        let queue = (object["queues"] as? [[String: Any]])?.first { $0["name"] as? String == name }
        return queue?["counts"] as? [String: Int] ?? [:]
    }

    func receive(_ host: ServeProcess, _ queue: String, max: Int, wait: String = "0s") async throws -> [[String: Any]] {
        let answer = try await HTTP.post(
            "\(host.controlURL)/v1/queues/\(queue)/receive", json: ["max": max, "wait": wait])
        return answer.json?["messages"] as? [[String: Any]] ?? []
    }
}

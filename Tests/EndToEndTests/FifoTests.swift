import Foundation
import StratusCore
import StratusTesting
import Testing

/// SQS FIFO queues through the built binary: per-group order, exactly-once processing, groups in parallel,
/// deduplication, a poison message that blocks only its group until it reaches the FIFO dead-letter queue,
/// and topics delivering to FIFO queues.
@Suite(.serialized, .timeLimit(.minutes(3))) struct FifoTests {
    /// Appends one JSON line per record it got (group, body, sequence number, worker pid and the batch's
    /// processing interval) to `$OUT_DIR/<queue>.jsonl`, in one write per batch, after sleeping 20 ms.
    /// A record whose body is in `$POISON` is reported in `batchItemFailures` (logged as failed) with every
    /// record after it, which are not processed, as Lambda asks of a FIFO consumer; `$RAISE` fails the whole
    /// batch instead.
    static let consumer = """
        import json, os, time
        def handler(event, context):
            start = time.time()
            time.sleep(0.02)
            poison = set(filter(None, os.environ.get("POISON", "").split(",")))
            lines, failures, raised = [], [], False
            for i, r in enumerate(event["Records"]):
                a = r["attributes"]
                failed = r["body"] in poison
                lines.append(json.dumps({
                    "queue": r["eventSourceARN"].rsplit(":", 1)[-1], "body": r["body"],
                    "group": a.get("MessageGroupId"), "seq": a.get("SequenceNumber"),
                    "dedup": a.get("MessageDeduplicationId"), "count": int(a["ApproximateReceiveCount"]),
                    "pid": os.getpid(), "batch": context.aws_request_id, "start": start, "end": time.time(),
                    "failed": failed}))
                if failed:
                    if os.environ.get("RAISE"):
                        raised = True
                    else:
                        failures = [{"itemIdentifier": later["messageId"]} for later in event["Records"][i:]]
                    break
            queue = event["Records"][0]["eventSourceARN"].rsplit(":", 1)[-1]
            fd = os.open(os.path.join(os.environ["OUT_DIR"], queue + ".jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.write(fd, ("\\n".join(lines) + "\\n").encode())
            os.close(fd)
            if raised:
                raise RuntimeError("poison")
            return {"batchItemFailures": failures}
        """

    let groups = ["a", "b", "c"]

    /// The records the consumer wrote for `queue`, in the order they were written.
    func records(_ dir: String, _ queue: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: dir + "/" + queue + ".jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The bodies of `group`'s successfully processed records, in processing order.
    func processed(_ records: [[String: Any]], group: String) -> [String] {
        records.filter { $0["group"] as? String == group && $0["failed"] as? Bool == false }.compactMap {
            $0["body"] as? String
        }
    }

    func send(_ host: ServeProcess, _ queue: String, _ body: String, group: String?, dedup: String? = nil)
        async throws -> HTTPAnswer
    {
        var json: [String: Any] = ["body": body]
        if let group { json["group"] = group }
        if let dedup { json["deduplicationId"] = dedup }
        return try await HTTP.post("\(host.controlURL)/v1/queues/\(queue)/messages", json: json)
    }

    func receive(_ host: ServeProcess, _ queue: String, max: Int = 10) async throws -> [[String: Any]] {
        let answer = try await HTTP.post("\(host.controlURL)/v1/queues/\(queue)/receive", json: ["max": max])
        return answer.json?["messages"] as? [[String: Any]] ?? []
    }

    /// A queue's settings as `/v1` answers them (a `PATCH` that changes nothing).
    func settings(_ host: ServeProcess, _ queue: String) async throws -> [String: Any] {
        let answer = try await HTTP.request("PATCH", "\(host.controlURL)/v1/queues/\(queue)", json: [String: Any]())
        return answer.json ?? ["status": answer.status, "text": answer.text]
    }

    func project(extraFunctionYAML: String = "", triggers: String) throws -> (TemporaryProject, String) {
        let project = try TemporaryProject()
        let out = project.path + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try project.addPython(
            "consumer", code: Self.consumer,
            manifest: "timeout: 1s\nenvironment: {OUT_DIR: \"\(out)\"\(extraFunctionYAML)}\n")
        try project.write("triggers/t.yaml", triggers)
        return (project, out)
    }

    @Test func groupsKeepTheirOrderRunInParallelAndEachMessageRunsOnce() async throws {
        let (project, out) = try project(
            triggers: """
                queues:
                  orders.fifo:
                    fifo: true
                    visibilityTimeout: 30s
                    consumer: {function: consumer, batchSize: 10, maxConcurrency: 3}
                """)
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        let settings = try await settings(host, "orders.fifo")
        #expect(settings["fifo"] as? Bool == true && settings["contentBasedDeduplication"] as? Bool == false)

        // 3 groups x 100 messages, interleaved: a-0, b-0, c-0, a-1, ...
        var ids: [String: String] = [:]
        for index in 0..<100 {
            for group in groups {
                let body = "\(group)-\(index)"
                let answer = try await send(host, "orders.fifo", body, group: group, dedup: body)
                #expect(answer.status == 201, "\(answer.text)")
                ids[body] = answer.json?["messageId"] as? String
            }
        }
        #expect(Set(ids.values).count == 300, "every message has an id of its own")
        let done = await waitUntil(timeout: .seconds(60)) { self.records(out, "orders.fifo").count >= 300 }
        #expect(done, "processed \(records(out, "orders.fifo").count) of 300")
        // Nothing left in flight or visible, and no late redelivery.
        #expect(
            await waitUntil(timeout: .seconds(10)) {
                (try? host.queueCounts()["orders.fifo"]) == ["visible": 0, "inFlight": 0, "delayed": 0]
            })
        let seen = records(out, "orders.fifo")

        // Exactly once.
        let bodies = seen.compactMap { $0["body"] as? String }
        #expect(bodies.count == 300, "\(bodies.count) records for 300 messages")
        #expect(Set(bodies) == Set(ids.keys), "missing: \(Set(ids.keys).subtracting(bodies).sorted())")
        #expect(seen.allSatisfy { $0["count"] as? Int == 1 }, "a message was received twice")

        // Per-group order: bodies, and sequence numbers that grow, in processing order.
        for group in groups {
            let mine = seen.filter { $0["group"] as? String == group }
            #expect(mine.compactMap { $0["body"] as? String } == (0..<100).map { "\(group)-\($0)" })
            let sequence = mine.compactMap { $0["seq"] as? String }
            #expect(sequence.count == 100 && sequence.allSatisfy { $0.count == 20 && $0.allSatisfy(\.isNumber) })
            #expect(sequence == sequence.sorted() && Set(sequence).count == 100, "sequence numbers grow in a group")
            #expect(mine.allSatisfy { $0["dedup"] as? String == $0["body"] as? String })
        }

        // One group per batch, in order; a group's batches never overlap (none of a group while one is in
        // flight); batches of different groups do (groups run in parallel).
        struct Batch {
            var group: String
            var start: Double
            var end: Double
            var pid: Int
        }
        var batches: [String: Batch] = [:]
        var groupsOfBatch: [String: Set<String>] = [:]
        for record in seen {
            let id = record["batch"] as? String ?? ""
            let group = record["group"] as? String ?? ""
            groupsOfBatch[id, default: []].insert(group)
            batches[id] = Batch(
                group: group, start: record["start"] as? Double ?? 0, end: record["end"] as? Double ?? 0,
                pid: record["pid"] as? Int ?? 0)
        }
        #expect(groupsOfBatch.values.allSatisfy { $0.count == 1 }, "a batch mixed groups")
        for group in groups {
            let mine = batches.values.filter { $0.group == group }.sorted { $0.start < $1.start }
            let overlapping = zip(mine, mine.dropFirst()).filter { $0.end > $1.start }
            #expect(overlapping.isEmpty, "group \(group) ran two batches at once: \(overlapping.count)")
        }
        let all = Array(batches.values)
        var parallel = 0
        for (i, x) in all.enumerated() {
            for y in all[(i + 1)...] where x.group != y.group && x.start < y.end && y.start < x.end { parallel += 1 }
        }
        let pids = Set(all.map(\.pid))
        print("fifo: \(all.count) batches, \(parallel) overlapping pairs of different groups, \(pids.count) workers")
        #expect(parallel > 0, "no two groups were processed at the same time")
        #expect(pids.count >= 2, "one worker processed every group")
        #expect(await host.stop() == 0)
    }

    @Test func duplicatesAreDroppedAndFifoSendsAreChecked() async throws {
        let (project, _) = try project(
            triggers: """
                queues:
                  ids.fifo: {fifo: true}
                  std: {}
                """)
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)

        // An explicit deduplication id: a second send within 5 minutes returns the first id and adds nothing.
        func cliSend(_ queue: String, _ extra: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try host.cli(["send", queue] + extra)
        }
        let first = try cliSend("ids.fifo", ["--data", "first", "--group", "g", "--dedup", "d1"])
        #expect(first.status == 0, "\(first.stderr)")
        let firstId = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(firstId.count == 36, "\(first.stdout)")
        let again = try cliSend("ids.fifo", ["--data", "second", "--group", "g", "--dedup", "d1"])
        #expect(again.status == 0 && again.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == firstId)
        let otherGroup = try cliSend("ids.fifo", ["--data", "third", "--group", "h", "--dedup", "d1"])
        #expect(
            otherGroup.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == firstId,
            "deduplication is per queue, whatever the group")
        let next = try cliSend("ids.fifo", ["--data", "fourth", "--group", "g", "--dedup", "d2"])
        let nextId = next.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(next.status == 0 && nextId.count == 36 && nextId != firstId)
        #expect(try host.queueCounts()["ids.fifo"]?["visible"] == 2)
        let got = try await receive(host, "ids.fifo")
        #expect(got.compactMap { $0["body"] as? String } == ["first", "fourth"])
        #expect(got.compactMap { $0["id"] as? String } == [firstId, nextId])
        #expect(got.compactMap { $0["groupId"] as? String } == ["g", "g"])
        #expect(got.compactMap { $0["deduplicationId"] as? String } == ["d1", "d2"])
        let sequence = got.compactMap { $0["sequenceNumber"] as? String }
        #expect(sequence.count == 2 && sequence[0] < sequence[1])

        // Content-based deduplication on a queue created through /v1: the body's SHA-256 is the id.
        let created = try await HTTP.post(
            "\(host.controlURL)/v1/queues",
            json: ["name": "content.fifo", "fifo": true, "contentBasedDeduplication": true])
        #expect(created.status == 201, "\(created.text)")
        let contentSettings = try await settings(host, "content.fifo")
        #expect(contentSettings["fifo"] as? Bool == true)
        #expect(contentSettings["contentBasedDeduplication"] as? Bool == true)
        let same = try await send(host, "content.fifo", "same body", group: "g")
        let sameAgain = try await send(host, "content.fifo", "same body", group: "h")
        let different = try await send(host, "content.fifo", "other body", group: "g")
        let explicit = try await send(host, "content.fifo", "same body", group: "g", dedup: "explicit")
        let sameId = same.json?["messageId"] as? String
        #expect(same.status == 201 && sameAgain.status == 201 && different.status == 201 && explicit.status == 201)
        #expect(sameId != nil && sameAgain.json?["messageId"] as? String == sameId)
        #expect(different.json?["messageId"] as? String != sameId)
        #expect(explicit.json?["messageId"] as? String != sameId, "an explicit id overrides the content's")
        let contents = try await receive(host, "content.fifo")
        #expect(contents.compactMap { $0["body"] as? String } == ["same body", "other body", "same body"])
        let sha = try StratusBinary.runCommand(
            "/usr/bin/env", ["python3", "-c", "import hashlib; print(hashlib.sha256(b'same body').hexdigest())"])
        #expect(
            contents.first?["deduplicationId"] as? String == sha.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(contents.last?["deduplicationId"] as? String == "explicit")

        // What a FIFO send refuses, and a standard queue too.
        let noGroup = try cliSend("content.fifo", ["--data", "x"])
        #expect(noGroup.status == 1 && noGroup.stderr.contains("MessageGroupId"), "\(noGroup.stderr)")
        let noDedup = try cliSend("ids.fifo", ["--data", "x", "--group", "g"])
        #expect(noDedup.status == 1 && noDedup.stderr.contains("MessageDeduplicationId"), "\(noDedup.stderr)")
        let delayed = try cliSend("content.fifo", ["--data", "x", "--group", "g", "--delay", "1s"])
        #expect(delayed.status == 1 && delayed.stderr.contains("delay"), "\(delayed.stderr)")
        let standard = try cliSend("std", ["--data", "x", "--dedup", "d"])
        #expect(
            standard.status == 1 && standard.stderr.contains("not valid for this queue type"), "\(standard.stderr)")
        #expect(try host.queueCounts()["std"]?["visible"] == 0)
        // A group on a standard queue is accepted (SQS's fair queues) and changes nothing of its order.
        let fair = try cliSend("std", ["--data", "x", "--group", "g"])
        #expect(fair.status == 0, "\(fair.stderr)")
        #expect(try host.queueCounts()["std"]?["visible"] == 1)

        // Queues that cannot be: fifo without .fifo, a FIFO queue with a standard dead-letter queue.
        let notNamed = try await HTTP.post("\(host.controlURL)/v1/queues", json: ["name": "plain", "fifo": true])
        #expect(notNamed.status == 400, "\(notNamed.text)")
        let standardDLQ = try await HTTP.post(
            "\(host.controlURL)/v1/queues",
            json: ["name": "bad.fifo", "fifo": true, "maxReceiveCount": 2, "deadLetterQueue": "std"])
        #expect(standardDLQ.status == 400, "\(standardDLQ.text)")
        #expect(try host.queues()["bad.fifo"] == nil)
        #expect(await host.stop() == 0)

        // In trigger files: validate names the file and the problem.
        try project.write(
            "triggers/t.yaml",
            """
            queues:
              work.fifo: {fifo: true, maxReceiveCount: 2, deadLetterQueue: std}
              std: {}
            """)
        let standardDead = try StratusBinary.run(["validate", project.path])
        #expect(standardDead.status == 65, "\(standardDead.stdout)")
        #expect(
            standardDead.stdout.contains("triggers/t.yaml:2: queues.work.fifo:")
                && standardDead.stdout.contains("'std'"), "\(standardDead.stdout)")
        try project.write("triggers/t.yaml", "queues:\n  named: {fifo: true}\n")
        let unnamed = try StratusBinary.run(["validate", project.path])
        #expect(
            unnamed.status == 65 && unnamed.stdout.contains("triggers/t.yaml:2: queues.named"), "\(unnamed.stdout)")
    }

    @Test func aPoisonMessageBlocksOnlyItsGroupUntilItIsDeadLettered() async throws {
        let (project, out) = try project(extraFunctionYAML: ", POISON: \"b-5\"", triggers: "queues: {}\n")
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        // Queues made at run time, and a consumer mapped once every message is in: the first batch of group b
        // is b-0..b-9, so the poison message b-5 has later messages of its group in its batch.
        for settings: [String: Any] in [
            ["name": "work-dlq.fifo", "fifo": true],
            [
                "name": "work.fifo", "fifo": true, "visibilityTimeout": "1s", "maxReceiveCount": 3,
                "deadLetterQueue": "work-dlq.fifo",
            ],
        ] {
            let created = try await HTTP.post("\(host.controlURL)/v1/queues", json: settings)
            #expect(created.status == 201, "\(created.text)")
        }
        var order = (0..<20).map { "b-\($0)" }
        for index in 0..<20 { order += ["a-\(index)", "c-\(index)"] }
        for body in order {
            let answer = try await send(host, "work.fifo", body, group: String(body.prefix(1)), dedup: body)
            #expect(answer.status == 201, "\(answer.text)")
        }
        let mapping = try await HTTP.post(
            "\(host.controlURL)/2015-03-31/event-source-mappings",
            json: [
                "EventSourceArn": "arn:aws:sqs:\(AWS.region):000000000000:work.fifo", "FunctionName": "consumer",
                "BatchSize": 10, "ScalingConfig": ["MaximumConcurrency": 3],
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            ])
        #expect((200..<300).contains(mapping.status), "\(mapping.text)")
        let delivered = await waitUntil(timeout: .seconds(60)) {
            self.processed(self.records(out, "work.fifo"), group: "b").count >= 15
                || ((try? host.queueCounts()["work-dlq.fifo"]?["visible"]) ?? 0) > 1
        }
        #expect(delivered, "group b never got past its poison message")
        #expect(
            await waitUntil(timeout: .seconds(10)) {
                (try? host.queueCounts()["work.fifo"]) == ["visible": 0, "inFlight": 0, "delayed": 0]
            })
        let seen = records(out, "work.fifo")

        var sizes: [String: Int] = [:]
        for record in seen { sizes[record["batch"] as? String ?? "", default: 0] += 1 }
        print("fifo poison: batch sizes \(sizes.values.sorted())")

        // The other groups went through at once, in order, each message once.
        for group in ["a", "c"] {
            #expect(processed(seen, group: group) == (0..<20).map { "\(group)-\($0)" })
        }
        // The poisoned group: the poison message and the four later ones of its first batch were reported
        // failed three times (in batches with it), spent their receives and were dead-lettered together, as on
        // AWS; everything else ran once, in order.
        let dropped = (5...9).map { "b-\($0)" }
        let expectedB = (0..<20).map { "b-\($0)" }.filter { !dropped.contains($0) }
        #expect(processed(seen, group: "b") == expectedB)
        let failures = seen.filter { $0["failed"] as? Bool == true }
        #expect(failures.map { $0["body"] as? String } == ["b-5", "b-5", "b-5"], "maxReceiveCount attempts")
        #expect(failures.map { $0["count"] as? Int } == [1, 2, 3])

        // While it failed, the rest of its group waited and the other groups finished.
        let lastFailure = failures.last?["end"] as? Double ?? 0
        let laterB = seen.filter {
            $0["group"] as? String == "b" && Int(($0["body"] as? String ?? "b-0").dropFirst(2)) ?? 0 > 5
        }
        #expect(
            laterB.allSatisfy { ($0["start"] as? Double ?? 0) >= lastFailure },
            "a later message of the poisoned group ran before the poison message left the group")
        let othersDone = seen.filter { $0["group"] as? String != "b" }.compactMap { $0["end"] as? Double }.max() ?? 0
        #expect(othersDone < lastFailure, "the other groups waited for the poisoned one")

        // The FIFO dead-letter queue holds them in order, with their group; as in SQS, each one's message id is now
        // its deduplication id.
        let dead = try await receive(host, "work-dlq.fifo")
        #expect(dead.compactMap { $0["body"] as? String } == dropped)
        #expect(dead.first?["groupId"] as? String == "b")
        #expect(dead.allSatisfy { $0["deduplicationId"] as? String == $0["id"] as? String })
        #expect(dead.first?["sourceQueue"] as? String == "work.fifo")
        #expect(await host.stop() == 0)
    }

    @Test func aRaisingConsumerBlocksItsGroupUntilThePoisonIsDeadLettered() async throws {
        let (project, out) = try project(
            extraFunctionYAML: ", POISON: \"y-3\", RAISE: \"1\"",
            triggers: """
                queues:
                  raise.fifo:
                    fifo: true
                    visibilityTimeout: 1s
                    maxReceiveCount: 2
                    deadLetterQueue: raise-dlq.fifo
                    consumer: {function: consumer, batchSize: 1, maxConcurrency: 2}
                  raise-dlq.fifo: {fifo: true}
                """)
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        for index in 0..<10 {
            for group in ["x", "y"] {
                #expect(
                    try await send(host, "raise.fifo", "\(group)-\(index)", group: group, dedup: "\(group)-\(index)")
                        .status == 201)
            }
        }
        #expect(
            await waitUntil(timeout: .seconds(60)) {
                self.processed(self.records(out, "raise.fifo"), group: "y").count >= 9
            })
        #expect(
            await waitUntil(timeout: .seconds(10)) {
                (try? host.queueCounts()["raise.fifo"]) == ["visible": 0, "inFlight": 0, "delayed": 0]
            })
        let seen = records(out, "raise.fifo")
        #expect(processed(seen, group: "x") == (0..<10).map { "x-\($0)" })
        #expect(processed(seen, group: "y") == (0..<10).filter { $0 != 3 }.map { "y-\($0)" })
        let failures = seen.filter { $0["failed"] as? Bool == true }
        #expect(failures.compactMap { $0["body"] as? String } == ["y-3", "y-3"])
        let lastFailure = failures.last?["end"] as? Double ?? 0
        let y4 = seen.first { $0["body"] as? String == "y-4" }?["start"] as? Double ?? 0
        #expect(y4 >= lastFailure, "y-4 ran before y-3 left its group")
        let xDone = seen.filter { $0["group"] as? String == "x" }.compactMap { $0["end"] as? Double }.max() ?? 0
        #expect(xDone < lastFailure, "group x waited for group y")
        let dead = try await receive(host, "raise-dlq.fifo")
        #expect(dead.compactMap { $0["body"] as? String } == ["y-3"])
        #expect(await host.stop() == 0)
    }

    @Test func topicsDeliverToFifoQueuesInPublishOrderGroupedByAnAttribute() async throws {
        let (project, _) = try project(
            triggers: """
                topics:
                  events:
                    subscriptions:
                      - queue: by-tenant.fifo
                        groupFrom: tenant
                        raw: true
                      - queue: all.fifo
                        raw: true
                queues:
                  by-tenant.fifo: {fifo: true}
                  all.fifo: {fifo: true}
                """)
        defer { project.remove() }
        let host = try await ServeProcess(project: project.path)
        let published: [(String, String?)] = [("e1", "t1"), ("e2", "t2"), ("e3", "t1"), ("e4", nil)]
        for (body, tenant) in published {
            let attributes = tenant.map { ["--attr", "tenant=\($0)"] } ?? []
            let result = try host.cli(["publish", "events", "--data", body] + attributes)
            #expect(result.status == 0, "\(result.stderr)")
        }
        // By attribute: one group per tenant, the topic's name without it; publish order within each.
        let byTenant = try await receive(host, "by-tenant.fifo")
        #expect(byTenant.compactMap { $0["body"] as? String } == ["e1", "e2", "e3", "e4"])
        #expect(byTenant.compactMap { $0["groupId"] as? String } == ["t1", "t2", "t1", "events"])
        // Without groupFrom: one group, the topic's.
        let all = try await receive(host, "all.fifo", max: 2)
        #expect(all.compactMap { $0["body"] as? String } == ["e1", "e2"])
        #expect(all.allSatisfy { $0["groupId"] as? String == "events" })
        #expect(try await receive(host, "all.fifo").isEmpty, "the group has messages in flight")
        #expect(await host.stop() == 0)
    }
}

/// Python handlers for each way an invocation can end, shared by the runtime and end-to-end tests.
package enum Fixtures {
    package static let echo = """
        def handler(event, context):
            print("echo", context.aws_request_id)
            return {"event": event, "function": context.function_name, "memory": context.memory_limit_in_mb,
                    "remaining": context.get_remaining_time_in_millis() > 0, "arn": context.invoked_function_arn}
        """

    package static let raises = """
        def handler(event, context):
            print("about to fail")
            raise ValueError("boom")
        """

    /// Sleeps past any short timeout, after starting a grandchild that would outlive a careless kill.
    package static let sleeps = """
        import subprocess, time
        def handler(event, context):
            child = subprocess.Popen(["sleep", "60"])
            open("grandchild.pid", "w").write(str(child.pid))
            time.sleep(30)
        """

    package static let crashes = """
        import os
        def handler(event, context):
            print("crashing")
            os._exit(3)
        """

    package static let importError = """
        import module_that_does_not_exist
        def handler(event, context):
            return 1
        """

    package static let syntaxError = """
        def handler(event, context)
            return 1
        """

    package static let allocates = """
        import time
        def handler(event, context):
            blob = bytearray(200 * 1024 * 1024)
            for i in range(0, len(blob), 4096):
                blob[i] = 1
            time.sleep(5)
        """

    /// A queue consumer that appends the SNS message id of every record (`"in"` topic envelopes) to
    /// `ids.log` in its own directory: the durability and cluster tests count what reached it.
    package static let messageIdSink = """
        import json, os
        def handler(event, context):
            lines = []
            for record in event["Records"]:
                lines.append(json.loads(record["body"])["MessageId"] + "\\n")
            with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "ids.log"), "a") as f:
                f.write("".join(lines))
        """

    /// Sleeps `pathParameters.seconds`, then answers how long it slept.
    package static let sleepy = """
        import time


        def handler(event, context):
            seconds = float(event["pathParameters"]["seconds"])
            time.sleep(seconds)
            return {"slept": seconds}
        """
}

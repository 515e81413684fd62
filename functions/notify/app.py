def handler(event, context):
    for record in event["Records"]:
        sns = record["Sns"]
        print(f"notify: {sns['Subject']}: {sns['Message']} {sns['MessageAttributes']}")

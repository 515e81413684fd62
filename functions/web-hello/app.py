import json


def handler(event, context):
    name = event["pathParameters"]["name"]
    greeting = (event.get("queryStringParameters") or {}).get("greeting", "Hello")
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": f"{greeting}, {name}!", "path": event["rawPath"]}),
    }

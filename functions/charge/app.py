import json


def handler(event, context):
    failures = []
    for record in event["Records"]:
        order = json.loads(json.loads(record["body"])["Message"])  # SNS envelope around the order
        if order.get("amount", 0) < 0:
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            print(f"charged order {order.get('id')} amount {order.get('amount')}")
    return {"batchItemFailures": failures}

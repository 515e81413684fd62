import os


def handler(event, context):
    name = (event or {}).get("name", "world")
    print(f"greeting {name} from {context.function_name}")
    return {"message": f"{os.environ.get('GREETING', 'Hello')}, {name}!", "requestId": context.aws_request_id}

"""Stratus runtime bootstrap for Python handlers.

A minimal client of the AWS Lambda Runtime API (2018-06-01), standard library
only. Run as `python3 bootstrap.py` with cwd = the function directory and the
usual Lambda environment (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT...).

Behaviour follows awslambdaric where it matters to callers: error types and
messages, the error body shape, the context object, and `[ERROR] ...` log lines.
"""

import http.client
import json
import os
import sys
import time

# `traceback` (~3 ms) and `importlib` are imported where needed, to keep startup short.

_API_PREFIX = "/2018-06-01"
_BOOTSTRAP_FILE = os.path.abspath(__file__)
# Frames from these files are runtime plumbing, not user code.
_HIDDEN_FILENAMES = (
    __file__,
    _BOOTSTRAP_FILE,
    os.path.join(os.path.dirname(os.__file__), "importlib", "__init__.py"),
)

# Request id of the invocation in progress (read by the logging formatter).
_current_request_id = None
_logging_configured = False


# --------------------------------------------------------------------------
# helpers


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _die(message=None):
    """Leave immediately with status 1 (never wait on user threads)."""
    if message:
        try:
            sys.stderr.write(message + "\n")
        except Exception:
            pass
    _flush()
    os._exit(1)


def _header_value(value):
    """Make a value safe for an HTTP header (printable ASCII only)."""
    return "".join(c if " " <= c <= "~" else "?" for c in str(value))


def _safe_str(value):
    try:
        return str(value)
    except Exception:
        return "<unprintable %s object>" % type(value).__name__


def _user_frames(tb):
    """Formatted traceback without the bootstrap's and importlib's frames."""
    import traceback

    frames = [
        f
        for f in traceback.extract_tb(tb)
        if f.filename not in _HIDDEN_FILENAMES and not f.filename.startswith("<frozen importlib")
    ]
    return traceback.format_list(frames)


def _error_lines(error_type, message, stack_trace):
    """Lambda's log rendering of an error: `[ERROR] Type: message` + traceback."""
    lines = ["[ERROR] %s: %s" % (error_type, message)]
    if stack_trace:
        lines.append("Traceback (most recent call last):")
        for entry in stack_trace:
            lines.extend(entry.splitlines())
    return "\n".join(lines) + "\n"


def _json_default(obj):
    decimal = sys.modules.get("decimal")  # a Decimal implies decimal is loaded
    if decimal is not None and isinstance(obj, decimal.Decimal):
        return float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


class _Fault(Exception):
    """An error with a Lambda runtime error type (Runtime.*)."""

    def __init__(self, error_type, message, stack_trace=None):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []


# --------------------------------------------------------------------------
# Runtime API client: one persistent HTTP/1.1 keep-alive connection


class _RuntimeClient:
    def __init__(self, address):
        try:
            self._conn = http.client.HTTPConnection(address)  # no timeout: /next long-polls
        except Exception as e:
            _die("stratus bootstrap: bad AWS_LAMBDA_RUNTIME_API %r: %s" % (address, e))

    def _request(self, method, path, body=None, headers=None):
        # A failed request is retried once on a fresh connection (the peer may
        # have closed an idle keep-alive socket); a second failure means the
        # host is gone, so exit rather than spin.
        for attempt in (0, 1):
            try:
                self._conn.request(method, _API_PREFIX + path, body=body, headers=headers or {})
                response = self._conn.getresponse()
                return response.status, response.headers, response.read()
            except (OSError, http.client.HTTPException):
                self._conn.close()
                if attempt:
                    _die()

    def next_invocation(self):
        status, headers, body = self._request("GET", "/runtime/invocation/next")
        if status != 200:
            _die("stratus bootstrap: GET /runtime/invocation/next returned HTTP %d" % status)
        return headers, body

    def _post(self, path, payload, error_type=None):
        headers = {"Content-Type": "application/json"}
        if error_type is not None:
            headers["Lambda-Runtime-Function-Error-Type"] = _header_value(error_type)
        status, _, body = self._request("POST", path, payload, headers)
        if not 200 <= status < 300:
            sys.stderr.write(
                "stratus bootstrap: POST %s returned HTTP %d: %s\n"
                % (path, status, body[:500].decode("utf-8", "replace"))
            )
            _flush()

    def post_response(self, request_id, payload):
        self._post("/runtime/invocation/%s/response" % request_id, payload)

    def post_error(self, request_id, error):
        self._post(
            "/runtime/invocation/%s/error" % request_id,
            json.dumps(error).encode("utf-8"),
            error["errorType"],
        )

    def post_init_error(self, error):
        self._post("/runtime/init/error", json.dumps(error).encode("utf-8"), error["errorType"])


# --------------------------------------------------------------------------
# context object (same attributes as awslambdaric's LambdaContext)


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext:
    __slots__ = ["custom", "env", "client"]


def _obj_from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field) if isinstance(values, dict) else None)
    return obj


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_function_arn, client_context, cognito_identity):
        env = os.environ
        self.aws_request_id = request_id
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.invoked_function_arn = invoked_function_arn
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = _obj_from_dict(CognitoIdentity, {})
        if isinstance(cognito_identity, dict):
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self.client_context = _obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj_from_dict(Client, self.client_context.client)
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, message):
        sys.stdout.write(_safe_str(message))
        sys.stdout.flush()

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
            )
        )


# --------------------------------------------------------------------------
# logging: configured lazily, only once user code has imported `logging`


def _maybe_configure_logging():
    global _logging_configured
    if _logging_configured or "logging" not in sys.modules:
        return
    _logging_configured = True
    try:
        import logging

        root = logging.getLogger()
        if root.handlers:  # user code configured logging itself; leave it alone
            return

        class _LambdaFormatter(logging.Formatter):
            converter = time.gmtime

            def format(self, record):
                record.aws_request_id = _current_request_id or ""
                return logging.Formatter.format(self, record)

        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(
            _LambdaFormatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
        root.addHandler(handler)
        if root.level == logging.WARNING:  # still the default: user did not choose
            level = logging.getLevelName(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper())
            root.setLevel(level if isinstance(level, int) else logging.INFO)
    except Exception:
        pass


# --------------------------------------------------------------------------
# init


def _load_handler(spec):
    modname, dot, fname = spec.rpartition(".")
    if not dot:
        raise _Fault(
            "Runtime.MalformedHandlerName",
            "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % spec,
        )
    if not modname or not fname:
        raise _Fault("Runtime.MalformedHandlerName", "Bad handler '%s'" % spec)

    import_name = modname.replace("/", ".")
    if import_name.split(".")[0] in sys.builtin_module_names:
        raise _Fault(
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module %s as a handler module" % modname,
        )

    import importlib

    try:
        module = importlib.import_module(import_name)
    except ImportError as e:
        raise _Fault(
            "Runtime.ImportModuleError",
            "Unable to import module '%s': %s" % (modname, _safe_str(e)),
            _user_frames(e.__traceback__),
        )
    except SyntaxError as e:
        raise _Fault(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (modname, _safe_str(e)),
            ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, (e.text or "").rstrip("\n"))],
        )
    except Exception as e:
        raise _Fault(
            "Runtime.ImportModuleError",
            "Unable to import module '%s': %s: %s" % (modname, type(e).__name__, _safe_str(e)),
            _user_frames(e.__traceback__),
        )

    try:
        return getattr(module, fname)
    except AttributeError:
        raise _Fault("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))


# --------------------------------------------------------------------------
# invocations


def _report(client, request_id, error_type, message, stack_trace):
    sys.stdout.write(_error_lines(error_type, message, stack_trace))
    _flush()
    client.post_error(
        request_id,
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": request_id,
            "stackTrace": stack_trace,
        },
    )


def _parse_json_header(value, name):
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError as e:
        raise _Fault("Runtime.LambdaContextUnmarshalError", "Unable to parse %s JSON: %s" % (name, e))


def _handle(client, handler, headers, body):
    global _current_request_id
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
    if not request_id:
        _die("stratus bootstrap: invocation without Lambda-Runtime-Aws-Request-Id")
    _current_request_id = request_id

    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)

    try:
        deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
    except ValueError:
        deadline_ms = 0

    try:
        try:
            event = json.loads(body)
        except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
            raise _Fault("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
        context = LambdaContext(
            request_id,
            deadline_ms,
            headers.get("Lambda-Runtime-Invoked-Function-Arn"),
            _parse_json_header(headers.get("Lambda-Runtime-Client-Context"), "Client Context"),
            _parse_json_header(headers.get("Lambda-Runtime-Cognito-Identity"), "Cognito Identity"),
        )
    except _Fault as fault:
        _report(client, request_id, fault.error_type, fault.message, fault.stack_trace)
        return

    _maybe_configure_logging()
    try:
        result = handler(event, context)
    except Exception as e:
        _report(client, request_id, type(e).__name__, _safe_str(e), _user_frames(e.__traceback__))
        return
    finally:
        _maybe_configure_logging()  # handler may have imported logging just now

    try:
        payload = json.dumps(result, default=_json_default, allow_nan=False).encode("utf-8")
    except Exception as e:
        _report(client, request_id, "Runtime.MarshalError", "Unable to marshal response: %s" % _safe_str(e), [])
        return

    _flush()
    client.post_response(request_id, payload)


def main():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except Exception:
            pass

    # The bootstrap's own directory must not shadow user modules.
    script_dir = os.path.realpath(os.path.dirname(_BOOTSTRAP_FILE))
    if sys.path and sys.path[0] and os.path.realpath(sys.path[0]) == script_dir:
        del sys.path[0]
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path.insert(0, task_root)

    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        _die("stratus bootstrap: AWS_LAMBDA_RUNTIME_API is not set")
    client = _RuntimeClient(address)

    try:
        handler = _load_handler(os.environ.get("_HANDLER", ""))
    except _Fault as fault:
        sys.stderr.write(_error_lines(fault.error_type, fault.message, fault.stack_trace))
        _flush()
        client.post_init_error(
            {"errorMessage": fault.message, "errorType": fault.error_type, "stackTrace": fault.stack_trace}
        )
        _die()
    _maybe_configure_logging()

    while True:
        headers, body = client.next_invocation()
        _handle(client, handler, headers, body)


if __name__ == "__main__":
    main()

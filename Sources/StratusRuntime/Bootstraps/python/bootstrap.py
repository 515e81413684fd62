"""Stratus runtime bootstrap for Python handlers.

A minimal client of the AWS Lambda Runtime API (2018-06-01), standard library
only. Run as `python3 bootstrap.py` with cwd = the function directory and the
usual Lambda environment (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT...).

Behaviour follows awslambdaric where it matters to callers: error types and
messages, the error body shape, the context object, and `[ERROR] ...` log lines.
"""

import json
import os
import sys
import time

try:  # the C module behind `socket`: the `socket` wrapper (enums, selectors) costs ~2 ms more
    import _socket
except ImportError:  # pragma: no cover - not CPython
    import socket as _socket

# No http.client: with `ssl` and `email.parser` it cost ~26 ms of startup, and parsed headers
# slowly. `traceback` (~3 ms) and `importlib` are imported where needed, on error paths.

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
    """Minimal HTTP/1.1 client over one persistent, keep-alive TCP connection."""

    def __init__(self, address):
        # Parsed as http.client did: "host[:port]", IPv6 in brackets, port 80 by default.
        host, port = address, 80
        try:
            if " " in address or not address.isprintable():
                raise ValueError("URL can't contain control characters: %r" % address)
            i = address.rfind(":")
            if i > address.rfind("]"):
                host, port = address[:i], address[i + 1 :]
                try:
                    port = int(port) if port else 80
                except ValueError:
                    raise ValueError("nonnumeric port: '%s'" % port)
                if not 0 <= port <= 65535:
                    raise ValueError("port out of range: %d" % port)
            if host[:1] == "[" and host[-1:] == "]":
                host = host[1:-1]
            self._http_host = address.encode("ascii")
        except ValueError as e:  # UnicodeEncodeError included
            _die("stratus bootstrap: bad AWS_LAMBDA_RUNTIME_API %r: %s" % (address, e))
        # As bytes: a str host makes getaddrinfo import the idna codec (~1 ms).
        self._host = host.encode("ascii")
        self._port, self._sock, self._buf = port, None, b""
        self._next = self._head("GET", "/runtime/invocation/next", b"")
        # The answer to a `/next` sent right behind an invocation's response (one write, one wake-up less).
        self._pending_next = None

    def _head(self, method, path, fields):
        return b"%s %s%s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (
            method.encode("latin-1"),
            _API_PREFIX.encode("latin-1"),
            path.encode("latin-1"),
            self._http_host,
            fields,
        )

    def _connect(self):
        error = OSError("getaddrinfo returned no address")
        for family, kind, proto, _, addr in _socket.getaddrinfo(self._host, self._port, 0, _socket.SOCK_STREAM):
            sock = _socket.socket(family, kind, proto)  # blocking, no timeout: /next long-polls
            try:
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
                sock.connect(addr)
                return sock
            except OSError as e:
                error = e
                sock.close()
        raise error

    def _close(self):
        sock, self._sock, self._buf = self._sock, None, b""
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def _recv(self):
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionResetError("the Runtime API closed the connection")
        return data

    def _read(self, n):
        """Exactly n bytes of the connection (bytes, or a bytearray when more must be received)."""
        buf = self._buf
        if len(buf) >= n:
            self._buf = buf[n:]
            return buf[:n]
        self._buf = b""
        out = bytearray(n)
        view = memoryview(out)
        have = len(buf)
        view[:have] = buf
        recv_into = self._sock.recv_into
        while have < n:
            got = recv_into(view[have:])
            if not got:
                raise ConnectionResetError("the Runtime API closed the connection")
            have += got
        view.release()
        return out

    def _readline(self):
        while True:
            i = self._buf.find(b"\n")
            if i >= 0:
                line, self._buf = self._buf[:i], self._buf[i + 1 :]
                return line.rstrip(b"\r")
            if len(self._buf) > 65536:
                raise ValueError("line too long")
            self._buf += self._recv()

    def _response(self):
        """Reads one response: (status, headers with lower-case names, body)."""
        while True:
            buf = self._buf
            end = buf.find(b"\r\n\r\n")
            while end < 0:
                if len(buf) > 1048576:
                    raise ValueError("response head too long")
                buf += self._recv()
                end = buf.find(b"\r\n\r\n")
            self._buf = buf[end + 4 :]
            lines = buf[:end].decode("latin-1").split("\r\n")
            version, _, status = lines[0].partition(" ")
            if not version.startswith("HTTP/"):
                raise ValueError("bad status line %r" % lines[0])
            status = int(status[:3])
            if status >= 200 or status == 101:
                break  # skip interim (1xx) responses
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name not in headers:
                headers[name] = value.strip()

        connection = headers.get("connection", "").lower()
        close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
        if status < 200 or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int(self._readline().split(b";", 1)[0], 16)
                if not size:
                    break
                parts.append(self._read(size))
                self._read(2)  # CRLF after the chunk
            while self._readline():  # trailer fields, up to the empty line
                pass
            body = b"".join(parts)
        elif "content-length" in headers:
            length = int(headers["content-length"])
            if length < 0:
                raise ValueError("negative Content-Length")
            body = self._read(length)
        else:  # delimited by the end of the connection
            parts = [self._buf]
            while True:
                data = self._sock.recv(65536)
                if not data:
                    break
                parts.append(data)
            body = b"".join(parts)
            close = True
        if close:
            self._close()
        return status, headers, body

    def _request(self, request):
        # A failed request is retried once on a fresh connection (the peer may
        # have closed an idle keep-alive socket); a second failure means the
        # host is gone, so exit rather than spin.
        for attempt in (0, 1):
            try:
                if self._sock is None:
                    self._sock = self._connect()
                self._sock.sendall(request)  # head and body in one write
                return self._response()
            except (OSError, ValueError):  # ValueError: a malformed response
                self._close()
                if attempt:
                    _die()

    def next_invocation(self):
        pending, self._pending_next = self._pending_next, None
        status, headers, body = pending if pending is not None else self._request(self._next)
        if status != 200:
            _die("stratus bootstrap: GET /runtime/invocation/next returned HTTP %d" % status)
        return headers, body

    def _post(self, path, payload, error_type=None, then_next=False):
        """POSTs `payload`; with `then_next`, the `/next` request goes in the same write (HTTP/1.1 pipelining)
        and its answer is kept for `next_invocation`."""
        fields = b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(payload)
        if error_type is not None:
            fields += b"Lambda-Runtime-Function-Error-Type: %s\r\n" % _header_value(error_type).encode("ascii")
        request = self._head("POST", path, fields) + payload
        status, _, body = self._request(request + self._next if then_next else request)
        if not 200 <= status < 300:
            sys.stderr.write(
                "stratus bootstrap: POST %s returned HTTP %d: %s\n"
                % (path, status, body[:500].decode("utf-8", "replace"))
            )
            _flush()
        if then_next and self._sock is not None:  # a closed connection lost the `/next`: it is asked again
            try:
                self._pending_next = self._response()
            except (OSError, ValueError):
                self._close()

    def post_response(self, request_id, payload):
        self._post("/runtime/invocation/%s/response" % request_id, payload, then_next=True)

    def post_error(self, request_id, error):
        self._post(
            "/runtime/invocation/%s/error" % request_id,
            json.dumps(error).encode("utf-8"),
            error["errorType"],
            then_next=True,
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
    request_id = headers.get("lambda-runtime-aws-request-id")
    if not request_id:
        _die("stratus bootstrap: invocation without Lambda-Runtime-Aws-Request-Id")
    _current_request_id = request_id

    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)

    try:
        deadline_ms = int(headers.get("lambda-runtime-deadline-ms") or 0)
    except ValueError:
        deadline_ms = 0

    try:
        try:
            event = json.loads(body)
        except (ValueError, RecursionError) as e:  # JSONDecodeError, UnicodeDecodeError, nesting too deep
            raise _Fault("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
        context = LambdaContext(
            request_id,
            deadline_ms,
            headers.get("lambda-runtime-invoked-function-arn"),
            _parse_json_header(headers.get("lambda-runtime-client-context"), "Client Context"),
            _parse_json_header(headers.get("lambda-runtime-cognito-identity"), "Cognito Identity"),
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
    # What Lambda's Python runtimes set (libraries read it to know they run in Lambda); a function may set its own.
    os.environ.setdefault("AWS_EXECUTION_ENV", "AWS_Lambda_python%d.%d" % sys.version_info[:2])
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
    # Installed requirements and layers, after the function's own directory (as /opt/python after /var/task).
    extra = [p for p in os.environ.get("STRATUS_MODULE_PATH", "").split(":") if p]
    sys.path[1:1] = extra

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


# --------------------------------------------------------------------------
# zygote: a pre-started interpreter that forks workers (see PythonZygote.swift)


def _zygote(cgroups):
    """Forks a worker for each request of the host, on the SOCK_SEQPACKET socket at descriptor 3.

    Single-threaded, so that fork is safe. A request is one JSON message `{"env", "cwd"}` with the worker's
    output pipe attached (SCM_RIGHTS); the answer is `{"pid", "cgroup"}` (or `{"error"}`), in request order,
    and `{"exit", "status"}` when a worker has been reaped. Leaves when the host closes its end.

    Imports nothing of any function: each worker imports its handler after the fork. One spare child waits,
    already forked and moved into its own cgroup under `cgroups` (the first move after a quiet spell costs
    the kernel tens of milliseconds): a request hands it its work, and the next spare is made once no other
    request waits.
    """
    import select
    import signal

    host = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET, 0, 3)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    fd_space = _socket.CMSG_SPACE(4)
    made = 0
    spare = None  # (pid, socket to it, cgroup or None)
    unused = {}  # spares let go without work: pid -> cgroup, reaped quietly
    retry_at = 0.0  # after a failed fork (a pids or process limit), no spare before this

    def make_spare():
        """Forks a child that waits for its work on a socket pair; raises OSError when it cannot."""
        nonlocal made
        ours, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            raise
        if pid == 0:
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for closing in (host, ours):
                    closing.close()
                os.close(wake_read)
                os.close(wake_write)
                os.setpgid(0, 0)
                data, ancillary, _, _ = theirs.recvmsg(1 << 18, fd_space)
                output = _received_descriptor(ancillary)
                if not data or output is None:
                    os._exit(0)  # the zygote is gone, or let this spare go
                request = json.loads(data)
                theirs.close()
            except BaseException:
                os._exit(0)
            _become_worker(request, output)
        theirs.close()
        try:
            os.setpgid(pid, pid)  # also done by the child: whichever runs first, a kill of the group reaches it
        except OSError:
            pass
        cgroup = None
        if cgroups:
            made += 1
            path = "%s/w-z%d-%d" % (cgroups, os.getpid(), made)
            try:
                os.mkdir(path)
                with open(path + "/cgroup.procs", "w") as f:
                    f.write(str(pid))
                cgroup = path
            except OSError:
                _remove_cgroup(path)
        return pid, ours, cgroup

    def let_go(entry):
        """A spare that will get no work: closing its socket makes it leave; `reap` removes its cgroup."""
        entry[1].close()
        unused[entry[0]] = entry[2]

    def reap():
        nonlocal spare
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if spare is not None and spare[0] == pid:  # a spare that died waiting
                let_go(spare)
                spare = None
            if pid in unused:
                _remove_cgroup(unused.pop(pid))
                continue
            host.send(b'{"exit":%d,"status":%d}' % (pid, status))

    def leave():
        """The host is gone: its workers leave when their Runtime API connection closes; spares go now."""
        if spare is not None:
            let_go(spare)
        for pid, cgroup in unused.items():
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
            _remove_cgroup(cgroup)
        os._exit(0)

    while True:
        waiting_to_retry = spare is None and time.monotonic() < retry_at
        if spare is not None:
            timeout = None
        elif waiting_to_retry:
            timeout = retry_at - time.monotonic()
        else:
            timeout = 0
        ready = select.select([host, wake_read], [], [], max(0, timeout) if timeout is not None else None)[0]
        if wake_read in ready:
            os.read(wake_read, 4096)
            reap()
        if host not in ready:
            if spare is None and not ready and time.monotonic() >= retry_at:
                try:
                    spare = make_spare()
                except OSError:
                    retry_at = time.monotonic() + 1.0
            continue
        data, ancillary, _, _ = host.recvmsg(1 << 18, fd_space)
        if not data:
            leave()
        output = _received_descriptor(ancillary)
        answer = json.dumps({"error": "no output descriptor"}).encode()
        for _attempt in range(2 if output is not None else 0):
            if spare is None:
                try:
                    spare = make_spare()
                except OSError as e:
                    retry_at = time.monotonic() + 1.0
                    answer = json.dumps({"error": "fork: %s" % _safe_str(e)}).encode()
                    break
            entry, spare = spare, None
            try:
                entry[1].sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, output.to_bytes(4, sys.byteorder))])
            except OSError as e:  # the spare died meanwhile: let it go, try a fresh one
                let_go(entry)
                answer = json.dumps({"error": _safe_str(e)}).encode()
                continue
            entry[1].close()
            answer = json.dumps({"pid": entry[0], "cgroup": entry[2]}).encode()
            break
        if output is not None:
            os.close(output)
        host.send(answer)


def _remove_cgroup(path):
    """Removes an emptied cgroup; the kernel may say it is busy for a moment after its last process left."""
    for _ in range(100):
        if not path:
            return
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


def _received_descriptor(ancillary):
    for level, kind, value in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS and len(value) >= 4:
            return int.from_bytes(value[:4], sys.byteorder)
    return None


def _become_worker(request, output):
    """In a forked child: become what `python3 bootstrap.py` would have started, then run it, and end as the
    interpreter would (exit status, `atexit`, non-daemon threads, `sys.excepthook`). Never returns."""
    code = 1
    interrupted = False
    try:
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.closerange(3, 1 << 20)  # the zygote's socket, its wake-up pipe and the pipe's own descriptor
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        sys.argv[:] = [_BOOTSTRAP_FILE]
        main()
        code = 0
    except SystemExit as e:  # what the interpreter does with it at the top level
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            sys.stderr.write(_safe_str(e.code) + "\n")
    except BaseException as e:
        interrupted = isinstance(e, KeyboardInterrupt)
        try:
            sys.excepthook(type(e), e, e.__traceback__)
        except BaseException:
            pass
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
        import atexit

        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            code = 120  # as the interpreter does when it cannot flush at exit
    if interrupted:  # an interpreter ended by KeyboardInterrupt exits by SIGINT
        import signal

        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(code & 0xFF)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--zygote"]:
        _zygote(sys.argv[2] if len(sys.argv) > 2 else None)
    else:
        main()

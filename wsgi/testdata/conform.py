"""PEP 3333 edge cases, each behind wsgiref.validate with warnings made
errors: a broken contract on either side gives a 500 and a traceback in
the log, which the Go test looks for."""

import json
import os
import sys
import threading
import time
import warnings
from wsgiref.validate import validator

warnings.simplefilter("error")

MARKS = os.environ.get("CONFORM_MARKS", ".")


def mark(name):
    with open(os.path.join(MARKS, name), "a") as f:
        f.write("%d\n" % os.getpid())


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "14")])
    return [b"Hello, World!\n"]


def no_length(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"no ", b"length ", b"here"]


def generator(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    def gen():
        yield b""  # headers wait for the first non-empty part
        for i in range(5):
            yield b"chunk%d;" % i
    return gen()


def stream(environ, start_response):
    # Parts are sent as produced: the test reads "first" before "second" exists.
    start_response("200 OK", [("Content-Type", "text/plain")])
    def gen():
        yield b"first\n"
        time.sleep(1)
        yield b"second\n"
    return gen()


def write_callable(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written ")
    write(b"then ")
    return [b"returned"]


def exc_info_before(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise ValueError("replaced before any byte was sent")
    except ValueError:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"sorry"]


def exc_info_after(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    def gen():
        yield b"partial"
        try:
            raise ValueError("too late to change the status")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        yield b"never"
    return gen()


class Failing(object):
    """An iterable that fails on its second part; close() must still run."""

    def __init__(self):
        self.n = 0

    def __iter__(self):
        return self

    def __next__(self):
        self.n += 1
        if self.n == 1:
            return b"one"
        raise RuntimeError("failing iterable")

    def close(self):
        mark("closed")


def close_on_error(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Failing()


class Closing(object):
    def __init__(self, parts):
        self.parts = parts

    def __iter__(self):
        return iter(self.parts)

    def close(self):
        mark("closed-ok")


def close_ok(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Closing([b"closing"])


def echo_chunks(environ, start_response):
    # The body in small reads, then lines, then iteration.
    inp = environ["wsgi.input"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    mode = environ.get("QUERY_STRING")
    parts = []
    if mode == "lines":
        while True:
            line = inp.readline()
            if not line:
                break
            parts.append(b"[" + line + b"]")
    elif mode == "iter":
        for line in inp:
            parts.append(b"<" + line + b">")
    elif mode == "readlines":
        parts = [b"(" + l + b")" for l in inp.readlines()]
    else:
        got = 0
        while got < length:
            chunk = inp.read(min(7, length - got))
            if not chunk:
                break
            got += len(chunk)
            parts.append(chunk)
        parts.append(b"|%d" % got)
    body = b"".join(parts)
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
    return [body]


def unread(environ, start_response):
    # Answers without reading the body.
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
    return [b"unread"]


def path(environ, start_response):
    raw = environ["PATH_INFO"].encode("latin-1")
    body = json.dumps({"path_info": environ["PATH_INFO"], "utf8": raw.decode("utf-8"),
                       "script_name": environ["SCRIPT_NAME"]}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def environ_dump(environ, start_response):
    keep = {k: v for k, v in environ.items() if isinstance(v, (str, bool, int))}
    keep["pid"] = os.getpid()
    keep["thread"] = threading.get_ident()
    body = json.dumps(keep).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def file_wrapper(environ, start_response):
    f = open(os.path.join(os.path.dirname(__file__), "conform.py"), "rb")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return environ["wsgi.file_wrapper"](f, 4096)


def error(environ, start_response):
    raise KeyError("secret-detail-in-the-log-only")


def forged(environ, start_response):
    # An application's own 500 with gopaste's marker (and a wrong token).
    start_response("500 Internal Server Error", [("Content-Type", "text/plain"), ("X-Gopaste-Wsgi-Error", "guess")])
    return [b"the application's own 500"]


def latin1_header(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Name", "caf\xe9")])
    return [b"ok"]


class _Cycle(object):
    pass


def _import_garbage():
    # A reference cycle the import leaves as garbage in the oldest
    # generation, where only a full collection finds it.
    import gc
    import weakref
    global _keep
    c = _Cycle()
    c.self = c
    _keep = c
    gc.collect(1)  # c survives: it moves to the oldest generation
    ref = weakref.ref(c)
    del c
    _keep = None
    return ref


_garbage = _import_garbage()


def import_garbage(environ, start_response):
    # Whether the worker freed what the import left (a collection before
    # its gc.freeze), or froze it for the worker's life.
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"kept" if _garbage() is not None else b"freed"]


def gc_frozen(environ, start_response):
    # How many objects the worker froze after the import (gc.freeze).
    import gc
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(gc.get_freeze_count()).encode()]


ROUTES = {
    "/gc-frozen": gc_frozen, "/import-garbage": import_garbage,
    "/hello": hello, "/nolength": no_length, "/generator": generator, "/stream": stream,
    "/write": write_callable, "/excinfo-before": exc_info_before, "/excinfo-after": exc_info_after,
    "/close-on-error": close_on_error, "/close-ok": close_ok, "/echo": echo_chunks,
    "/unread": unread, "/environ": environ_dump, "/file-iter": file_wrapper, "/error": error,
    "/latin1-header": latin1_header, "/forged": forged,
}


def router(environ, start_response):
    app = ROUTES.get(environ["PATH_INFO"])
    if app is None and environ["PATH_INFO"].startswith("/path/"):
        app = path
    if app is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    return app(environ, start_response)


validated = validator(router)


def file_length(environ, start_response):
    # The file wrapper with the file's length, as frameworks send files.
    path = os.path.join(os.path.dirname(__file__), "conform.py")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(os.path.getsize(path)))])
    return environ["wsgi.file_wrapper"](open(path, "rb"), 4096)


def too_long(environ, start_response):
    # More body than its Content-Length says.
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"12345", b"67890"]


def too_long_stream(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    def gen():
        yield b"123"
        yield b"4567890"
    return gen()


def own_connection(environ, start_response):
    # A hop-by-hop header PEP 3333 forbids: only the worker speaks for the
    # connection.
    start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "keep-alive")])
    def gen():
        yield b"own"
    return gen()


def no_content_body(environ, start_response):
    start_response("204 No Content", [])
    return [b"dropped"]


# Replies wsgiref.validate would refuse: served unwrapped.
RAW = {"/file": file_wrapper, "/file-length": file_length, "/too-long": too_long, "/too-long-stream": too_long_stream,
       "/own-connection": own_connection, "/no-content-body": no_content_body}


def application(environ, start_response):
    # The file wrapper is served unwrapped too: validate's iterator
    # wrapper would hide it from the worker's sendfile.
    raw = RAW.get(environ["PATH_INFO"])
    if raw is not None:
        return raw(environ, start_response)
    return validated(environ, start_response)

"""Faults: a worker that crashes or exits under a request (once per
marks directory: the retry, on another worker, survives), a slow
request, and a counter that is only correct one request at a time."""

import os
import signal
import time

MARKS = os.environ.get("FAULTS_MARKS", ".")
counter = 0


def segv():
    # kill() may pick another thread of this process to take the signal:
    # wait for it, as a real fault would not go on either.
    os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(5)


def once(name):
    """True the first time any worker asks for name."""
    try:
        fd = os.open(os.path.join(MARKS, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def application(environ, start_response):
    global counter
    path = environ["PATH_INFO"]
    if path == "/segv" and once("segv"):
        segv()
    elif path == "/exit" and once("exit"):
        os._exit(3)
    elif path == "/segv-always":
        environ["wsgi.input"].read()
        segv()
    elif path == "/slow":
        seconds = float(environ.get("QUERY_STRING") or "3")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.05)  # the stack dump shows this line
    elif path == "/count":
        # Not thread-safe: read, yield the GIL, write back.
        seen = counter
        time.sleep(0.002)
        counter = seen + 1
        body = b"%d" % counter
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    body = b"pid %d" % os.getpid()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]

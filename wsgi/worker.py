"""gopaste's WSGI worker: runs one WSGI application (PEP 3333) behind the
uwsgi protocol, on a listening socket gopaste passes as fd 3.

gopaste embeds this file and writes it to a runtime directory; it uses the
standard library only, so it runs on any Python 3.7 or later. A
request is a uwsgi packet (4-byte header, then 16-bit length-prefixed CGI
variables), then CONTENT_LENGTH bytes of body; the reply is an HTTP/1.1
response ended by closing the connection, or, when the packet carries
GOPASTE_KEEPALIVE=1 (gopaste's keep-alive, docs/protocols.md), framed by
Content-Length or chunked and followed by the next request on the same
connection, served by the same thread.

    python3 worker.py --module pkg.mod:application [--threads N] ...
    python3 worker.py --paste config:development.ini#main ...

Signals: SIGTERM and SIGHUP finish the requests in flight, then exit;
SIGINT and SIGQUIT exit at once; --stack-signal (faulthandler) writes the
stack of every thread to stderr. With --preload and --workers N > 1 this
process imports the application once and forks N children that share the
socket; it restarts children that die and stops them when it is stopped.
"""

import argparse
import errno
import faulthandler
import gc
import importlib
import io
import os
import random
import select
import signal
import socket
import stat
import sys
import threading
import time
import traceback

# Bytes read by the first recv: the packet and, usually, the whole body.
READ_SIZE = 65536
# How long an unread request body is drained after the reply, so that
# closing does not reset the connection under the reply.
DRAIN_TIMEOUT = 5.0
# On a kept connection, the most of an unread request body the worker
# reads and drops (within KEEP_DRAIN_TIMEOUT) to serve the next request
# on it; past either, it closes the connection after the reply.
KEEP_DRAIN = 65536
KEEP_DRAIN_TIMEOUT = 1.0
# How long a stopping worker waits for its idle kept connections to bring
# their last request or be closed by gopaste.
KEEP_LINGER = 5.0

ERROR_500 = (b"HTTP/1.1 500 Internal Server Error\r\n"
             b"Content-Type: text/plain; charset=utf-8\r\n"
             b"Content-Length: 22\r\n\r\nInternal Server Error\n")
ERROR_400 = (b"HTTP/1.1 400 Bad Request\r\n"
             b"Content-Type: text/plain; charset=utf-8\r\n"
             b"Content-Length: 12\r\n\r\nBad Request\n")

# Statuses and methods whose reply has no body: no Content-Length is added.
NO_BODY = ("1", "204", "304")


def log(msg):
    """Writes one message to stderr in one write (gopaste logs each line
    with this process's pid)."""
    try:
        sys.stderr.write("wsgi: " + msg.rstrip("\n") + "\n")
        sys.stderr.flush()
    except Exception:
        pass  # nowhere left to report it


class ClientGone(ConnectionError):
    """The client closed the connection before sending the whole body."""


class Conn(object):
    """A connection as the worker uses it: its descriptor, read and
    written with os.read and os.write. A socket object would cost a
    getsockname() per request to be made (CPython checks the descriptor),
    a fifth of the system calls of a request; the rare socket operations
    (drain, abort) go through a socket made then."""

    __slots__ = ("fd",)

    def __init__(self, fd):
        self.fd = fd

    def recv(self, n):
        return os.read(self.fd, n)

    def recv_into(self, buf, n):
        return os.readv(self.fd, [memoryview(buf)[:n]])

    def sendall(self, data):
        fd = self.fd
        n = os.write(fd, data)
        if n < len(data):
            view = memoryview(data)
            while n < len(view):
                n += os.write(fd, view[n:])

    def fileno(self):
        return self.fd

    def socket(self):
        """A socket object on a duplicate of the descriptor; close it after
        use (the connection stays open until close())."""
        return socket.socket(fileno=os.dup(self.fd))

    def close(self):
        os.close(self.fd)


class Input(object):
    """wsgi.input: the request body, CONTENT_LENGTH bytes, read from the
    connection as the application asks for it (read, readline, readlines,
    iteration). read(n) returns n bytes unless the body ends first."""

    __slots__ = ("conn", "buf", "pos", "left")

    def __init__(self, conn, buf, length):
        if len(buf) > length:
            buf = buf[:length]  # bytes after the body are not the body
        self.conn = conn
        self.buf = buf
        self.pos = 0
        self.left = length - len(buf)  # still in the socket

    def _more(self):
        chunk = self.conn.recv(min(READ_SIZE, self.left))
        if not chunk:
            self.left = 0
            raise ClientGone("wsgi: client closed the connection before the end of the body")
        self.left -= len(chunk)
        if self.pos >= len(self.buf):
            self.buf = chunk
        else:
            self.buf = self.buf[self.pos:] + chunk
        self.pos = 0

    def read(self, size=-1):
        buf, pos = self.buf, self.pos
        avail = len(buf) - pos
        if size is None or size < 0 or size > avail + self.left:
            size = avail + self.left
        if size <= avail:
            self.pos = pos + size
            return buf[pos:pos + size] if (pos or size != len(buf)) else buf
        if size - avail > READ_SIZE:
            # A large read goes straight into its result.
            out = bytearray(size)
            out[:avail] = buf[pos:]
            self.buf, self.pos = b"", 0
            view, got = memoryview(out), avail
            while got < size:
                n = self.conn.recv_into(view[got:], size - got)
                if n == 0:
                    self.left = 0
                    raise ClientGone("wsgi: client closed the connection before the end of the body")
                got += n
                self.left -= n
            return bytes(out)
        while len(self.buf) - self.pos < size:
            self._more()
        pos = self.pos
        self.pos = pos + size
        return self.buf[pos:pos + size]

    def readline(self, limit=-1):
        start = self.pos
        while True:
            end = len(self.buf)
            if limit is not None and limit >= 0 and end - self.pos > limit:
                end = self.pos + limit
            i = self.buf.find(b"\n", start, end)
            if i >= 0:
                return self._take(i + 1)
            if end - self.pos == limit or not self.left:
                return self._take(end)
            start = end - self.pos  # searched so far, relative to the buffer kept
            self._more()
            start += self.pos

    def _take(self, end):
        line = self.buf[self.pos:end]
        self.pos = end
        return line

    def readlines(self, hint=-1):
        lines, total = [], 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def discard(self, timeout):
        """Reads and drops the rest of the body, for timeout seconds at
        most; returns whether it all came."""
        fd = self.conn.fileno()
        deadline = time.monotonic() + timeout
        poll = None
        while self.left > 0:
            if poll is None:
                poll = select.poll()
                poll.register(fd, select.POLLIN)
            wait = deadline - time.monotonic()
            if wait <= 0 or not poll.poll(wait * 1000):
                return False
            chunk = os.read(fd, min(self.left, READ_SIZE))
            if not chunk:
                self.left = 0
                return False
            self.left -= len(chunk)
        return True

    def unread(self):
        """How many bytes of the body are still in the socket."""
        return self.left


class FileWrapper(object):
    """wsgi.file_wrapper: a file-like object as the response; a regular
    file is sent with os.sendfile, anything else in blocks."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        read, size = self.filelike.read, self.blksize
        while True:
            data = read(size)
            if not data:
                return
            yield data


def sendfile_source(result):
    """Returns (fd, offset, count) when result is a FileWrapper of a
    regular file, else None."""
    try:
        f = result.filelike
        fd = f.fileno()
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        offset = f.tell() if hasattr(f, "tell") else 0
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    return fd, offset, max(0, st.st_size - offset)


class Request(object):
    """One request's reply: start_response, write and the body. A body
    of unknown length is sent chunked, so that a reply cut by an
    exception reaches gopaste as broken, not as complete.

    When gopaste asked to keep the connection (GOPASTE_KEEPALIVE), keep
    is true until the reply turns out not to be framed exactly: the head
    then says "Connection: keep-alive", a HEAD, 1xx, 204 or 304 reply
    goes without its body, and a body longer than the application's
    Content-Length is cut there (the rest would be read as the next
    reply)."""

    __slots__ = ("conn", "status", "headers", "sent", "method", "chunked", "keep", "limit", "mute", "worker", "inp")

    def __init__(self, conn, method, keep=False, worker=None, inp=None):
        self.conn = conn
        self.status = None
        self.headers = None
        self.sent = False
        self.method = method
        self.chunked = False
        self.keep = keep
        self.limit = None  # body bytes still due under the application's Content-Length (kept only)
        self.mute = False  # a kept reply without a body: parts are dropped
        self.worker = worker
        self.inp = inp

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no reference cycle through the frame
        elif self.status is not None:
            raise AssertionError("start_response called a second time without exc_info")
        if type(status) is not str:
            raise TypeError("status must be a str, not %s" % type(status).__name__)
        if type(headers) is not list:
            raise TypeError("headers must be a list, not %s" % type(headers).__name__)
        self.status = status
        self.headers = headers
        return self.write

    def head(self, length=None):
        """The encoded status line and headers. When the application set
        no length, length (when known) adds a Content-Length, else the
        body is chunked."""
        if self.status is None:
            raise AssertionError("the application did not call start_response")
        status = self.status
        lines = ["HTTP/1.1 ", status, "\r\n"]
        for k, v in self.headers:
            lines.append(k + ": " + v + "\r\n")  # TypeError unless both are str
        n = len(self.headers)
        nobody = status.startswith(NO_BODY) or self.method == "HEAD"
        if not nobody or self.keep:
            lowered = "".join(lines).lower()
        framed = False
        if not nobody:
            if "\ncontent-length:" not in lowered and "\ntransfer-encoding:" not in lowered:
                if length is None:
                    lines.append("Transfer-Encoding: chunked\r\n")
                    self.chunked = True
                else:
                    lines.append("Content-Length: %d\r\n" % length)
                n += 1
                framed = True
        if self.keep:
            n += self.keep_alive(lines, lowered, nobody, framed, length)
        lines.append("\r\n")
        head = "".join(lines)
        # A CR or LF inside a name, value or the status would split the
        # head: refuse it instead of sending a forged header.
        if head.count("\n") != n + 2 or head.count("\r") != n + 2:
            raise ValueError("status or header contains a CR or LF: %r" % ((status, self.headers),))
        return head.encode("latin-1")

    def keep_alive(self, lines, lowered, nobody, framed, length):
        """Decides whether the connection outlives this reply, and adds
        the header that says so to lines; returns how many header lines
        it added (or removed: the application's own Connection headers,
        hop-by-hop, which PEP 3333 forbids it)."""
        added = 0
        if "\nconnection:" in lowered:
            kept = lines[:3] + [l for l in lines[3:] if not l.lower().startswith("connection:")]
            added = len(kept) - len(lines)
            lines[:] = kept
        worker, keep = self.worker, True
        if nobody:
            self.mute = True
            keep = not self.status.startswith("1")  # gopaste would wait for a final head
        elif not framed:
            # The application framed the body: a Content-Length that
            # holds, or else nothing the worker can vouch for.
            cl = self.content_length() if "\ntransfer-encoding:" not in lowered else None
            if cl is None or cl < 0:
                keep = False
            else:
                self.limit = cl  # the body is cut there
                keep = length is None or length == cl
        if keep and worker is not None:
            if worker.stopping or (self.inp is not None and self.inp.left > KEEP_DRAIN):
                keep = False
            elif worker.memory_limit and rss() > worker.memory_limit:
                keep = False  # the worker stops after this request
        self.keep = keep
        if keep:
            lines.append("Connection: keep-alive\r\n")
            added += 1
        return added

    def frame(self, data):
        """data as the body carries it after the head."""
        if self.chunked:
            return b"%x\r\n%b\r\n" % (len(data), data)
        if self.mute:
            return b""
        if self.limit is not None:
            if len(data) > self.limit:
                data = data[:self.limit]
                self.keep = False
            self.limit -= len(data)
        return data

    def write(self, data):
        """The write() callable start_response returns; also sends each
        part of the body."""
        if self.sent:
            if data:
                data = self.frame(data)
                if data:
                    self.conn.sendall(data)
            return
        self.sent = True
        head = self.head()
        if data:
            data = self.frame(data)
        self.conn.sendall(head + data)

    def send(self, result):
        """Sends the iterable the application returned, each part as it is
        produced; the head goes out with the first non-empty part."""
        kind = type(result)
        if kind is list or kind is tuple:
            body = result[0] if len(result) == 1 else b"".join(result)
            if not self.sent:
                self.sent = True
                head = self.head(len(body))
                if self.limit is not None or self.mute:
                    body = self.frame(body)
                self.conn.sendall(head + body)
            else:
                self.write(body)
        elif kind is FileWrapper and not self.sent and sendfile_source(result) is not None:
            self.sendfile(*sendfile_source(result))
        else:
            write = self.write
            for data in result:
                if data:
                    write(data)
            if not self.sent:
                self.sent = True
                self.conn.sendall(self.head(0))
        if self.chunked:
            self.conn.sendall(b"0\r\n\r\n")
        elif self.limit:
            self.keep = False  # shorter than its Content-Length

    def sendfile(self, fd, offset, count):
        limit = self.content_length()
        if limit is not None:
            count = min(count, limit)
        self.sent = True
        self.conn.sendall(self.head(count))
        self.limit = None  # count is within the application's Content-Length
        if self.mute:
            return
        out = self.conn.fileno()
        while count > 0:
            n = os.sendfile(out, fd, offset, count)
            if n == 0:
                self.keep = False  # the file shrank
                break
            offset += n
            count -= n

    def content_length(self):
        for k, v in self.headers or ():
            if k.lower() == "content-length":
                try:
                    return int(v)
                except ValueError:
                    return None
        return None


class Worker(object):
    """Serves one application on one listening socket with a pool of
    threads, each accepting and serving a connection at a time."""

    def __init__(self, sock, app, threads, multiprocess, max_requests=0, memory_limit=0, probe="", jitter=0,
                 error_token=""):
        self.sock = sock
        self.app = app
        self.threads = threads
        self.max_requests = max_requests + (random.randint(0, jitter) if max_requests and jitter else 0)
        self.memory_limit = memory_limit
        self.probe = probe or None  # "" would match an empty PATH_INFO
        self.error_token = error_token.encode("ascii")
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.busy = 0
        self.kept_idle = 0  # kept connections waiting for their next request
        self.served = 0
        self.stopping = False
        self.base = {
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": threads > 1,
            "wsgi.multiprocess": bool(multiprocess),
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
        }
        self.empty = EmptyInput()

    def serve(self):
        """Runs the accept threads until a stop signal (or max_requests),
        then returns once the requests in flight are done."""
        stops = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT}
        signal.pthread_sigmask(signal.SIG_BLOCK, stops)  # threads inherit it
        self.sock.setblocking(False)  # see loop
        for i in range(self.threads):
            t = threading.Thread(target=self.loop, name="wsgi-%d" % i, daemon=True)
            t.start()
        sigwaiter = threading.Thread(target=self.wait_signal, args=(stops,), daemon=True)
        sigwaiter.start()
        with self.lock:
            while not self.stopping or self.busy:
                self.idle.wait()
            # Connections gopaste keeps open may each bring one more
            # request (answered without keep-alive, then closed): wait
            # for them a moment, so that a preloaded child that recycles
            # itself, which gopaste does not see, drops none of them.
            deadline = time.monotonic() + KEEP_LINGER
            while self.busy or self.kept_idle:
                left = deadline - time.monotonic()
                if left <= 0 and not self.busy:
                    break
                self.idle.wait(left if left > 0 else None)
        # No thread is in accept(): they wait in poll() and take a
        # connection only while the worker is not stopping.

    def wait_signal(self, stops):
        sig = wait_signal(stops)
        if sig in (signal.SIGINT, signal.SIGQUIT):
            os._exit(0)
        self.stop()

    def stop(self):
        with self.lock:
            self.stopping = True
            self.idle.notify_all()

    def loop(self):
        # socket.accept() wraps each connection in the Python socket
        # class (enum conversions, a getsockname): a third of the worker's
        # time per request. A Conn holds just the descriptor.
        # A thread waits in poll() and accepts (the socket is
        # non-blocking) only once it has counted itself busy and the
        # worker is not stopping: a stopping worker never takes a
        # connection it would then drop (preloaded children share the
        # socket: another child takes it). With gopaste's keep-alive, a
        # connection serves many requests, so this costs little.
        accept, handle, lock = self.sock._accept, self.handle, self.lock
        poll = select.poll()
        poll.register(self.sock.fileno(), select.POLLIN)
        while True:
            try:
                poll.poll()
            except InterruptedError:
                continue
            with lock:
                if self.stopping:
                    return
                self.busy += 1
            try:
                conn = Conn(accept()[0])
            except (BlockingIOError, InterruptedError):
                self.done(False)  # another thread or child took it
                continue
            except OSError as e:
                self.done(False)
                if e.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log("accept: %s; retrying in 100ms" % e)
                    time.sleep(0.1)
                    continue
                log("accept: %s; worker stops" % e)
                self.stop()
                return
            handle(conn)
            if self.stopping:
                return

    def handle(self, conn):
        """Serves the requests of one connection, the first counted busy
        by the caller: one request, or more while gopaste keeps the
        connection (GOPASTE_KEEPALIVE). Between two it is idle, not busy:
        a stopping worker waits KEEP_LINGER at most for its next request
        (answered without keep-alive) or its close."""
        try:
            try:
                data = conn.recv(READ_SIZE)
            except OSError:
                data = b""
            if not data:
                self.done(False)  # a connection without a request (a probe)
                return
            while True:
                try:
                    data = self.request(conn, data)
                finally:
                    self.done(True)
                if data is None:
                    return  # closed, or to be closed: the reply said so
                if not data:
                    with self.lock:
                        self.kept_idle += 1
                    try:
                        data = conn.recv(READ_SIZE)  # the next request
                    except OSError:
                        data = b""
                    with self.lock:
                        self.kept_idle -= 1
                        if data:
                            self.busy += 1
                        elif self.stopping:
                            self.idle.notify_all()
                    if not data:
                        return  # gopaste closed it
                else:
                    with self.lock:
                        self.busy += 1
        finally:
            conn.close()

    def done(self, served):
        """Ends a request (served: one came): counts it, and starts
        stopping at max_requests or past memory_limit. Returns whether the
        worker stops."""
        with self.lock:
            self.busy -= 1
            self.served += served
            if served and not self.stopping:
                if self.max_requests and self.served >= self.max_requests:
                    log("recycling after %d requests (max_requests)" % self.served)
                    self.stopping = True
                elif self.memory_limit and rss() > self.memory_limit:
                    log("recycling at %d bytes of memory (memory_limit)" % rss())
                    self.stopping = True
            if self.stopping:
                self.idle.notify_all()
            return self.stopping

    def request(self, conn, data):
        """Reads the request whose first bytes are data, and answers it.
        Returns the bytes read past it (usually none) when the connection
        is kept for the next request, else None."""
        inp = None
        req = None
        kept = None
        try:
            if len(data) < 4:
                data = self.recv_more(conn, data, 4)
                if data is None:
                    return None
            end = 4 + (data[1] | (data[2] << 8))
            if len(data) < end:
                data = self.recv_more(conn, data, end)
                if data is None:
                    return None
            modifier1 = data[0]
            if modifier1 != 0 and modifier1 != 30:
                log("uwsgi packet with modifier1 %d refused (only 0 and 30 are served)" % modifier1)
                return None
            env = self.base.copy()
            s = data[:end].decode("latin-1")
            i = 4
            try:
                while i < end:
                    j = i + 2 + (data[i] | (data[i + 1] << 8))
                    k = s[i + 2:j]
                    i = j + 2 + (data[j] | (data[j + 1] << 8))
                    env[k] = s[j + 2:i]
            except IndexError:
                i = end + 1
            if i != end:
                log("malformed uwsgi vars block")
                conn.sendall(ERROR_400)
                return None
            length = env.get("CONTENT_LENGTH")
            try:
                length = int(length) if length else 0
            except ValueError:
                length = -1
            if length < 0:
                log("bad CONTENT_LENGTH %r" % env.get("CONTENT_LENGTH"))
                conn.sendall(ERROR_400)
                return None
            # gopaste's keep-alive (docs/protocols.md): the worker's own
            # business, not the application's.
            keep = env.pop("GOPASTE_KEEPALIVE", None) == "1"
            rest = b""
            if length:
                inp = Input(conn, data[end:], length)
                env["wsgi.input"] = inp
            else:
                env["wsgi.input"] = self.empty
            if keep:
                if len(data) > end + length:
                    rest = data[end + length:]  # gopaste sent the next packet early
                if self.stopping or (self.max_requests and self.served + self.busy >= self.max_requests):
                    keep = False  # the last reply of this worker
            self.fix(env, modifier1)
            if env["PATH_INFO"] == self.probe:
                conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
                return None
            req = Request(conn, env.get("REQUEST_METHOD"), keep, self, inp)
            if self.call(env, req) and req.keep and (inp is None or inp.discard(KEEP_DRAIN_TIMEOUT)):
                kept = rest
        except (ConnectionError, BrokenPipeError, socket.timeout):
            pass  # the client went away: nobody to answer
        except Exception:
            log("request failed:\n" + traceback.format_exc())
        finally:
            if kept is None and inp is not None and inp.left > 0 and (req is None or req.sent):
                drain(conn, inp.left)
        return kept

    @staticmethod
    def recv_more(conn, data, n):
        while len(data) < n:
            more = conn.recv(READ_SIZE)
            if not more:
                log("connection closed inside a uwsgi packet (%d of %d bytes)" % (len(data), n))
                return None
            data += more
        return data

    @staticmethod
    def fix(env, modifier1):
        """Completes the environ PEP 3333 asks for from the CGI variables."""
        scheme = env.get("REQUEST_SCHEME") or env.get("UWSGI_SCHEME")
        if scheme is None:
            scheme = "https" if env.get("HTTPS", "").lower() in ("on", "1") else "http"
        env["wsgi.url_scheme"] = scheme
        script = env.setdefault("SCRIPT_NAME", "")
        path = env.get("PATH_INFO")
        if path is None:
            env["PATH_INFO"] = path = ""
        if modifier1 == 30 and script and path.startswith(script):
            env["PATH_INFO"] = path[len(script):]
        # nginx also forwards the body framing as headers; PEP 3333 (and
        # wsgiref.validate) wants them only as CONTENT_*.
        if "HTTP_CONTENT_LENGTH" in env:
            del env["HTTP_CONTENT_LENGTH"]
        if "HTTP_CONTENT_TYPE" in env:
            del env["HTTP_CONTENT_TYPE"]

    def call(self, env, req):
        """Calls the application and sends its reply; returns whether the
        reply went out whole (False after an exception)."""
        result = None
        try:
            result = self.app(env, req.start_response)
            req.send(result)
            return True
        except (ConnectionError, BrokenPipeError):
            raise
        except Exception as e:
            tb = app_traceback(e)
            if not req.sent and self.error_token:
                # gopaste takes the traceback out of this reply: it logs it,
                # and shows it only where the errors filter's debug is on.
                req.sent = True
                body = tb.encode("utf-8", "replace")
                req.conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                 b"X-Gopaste-Wsgi-Error: %s\r\nContent-Length: %d\r\n\r\n%s" % (
                                     self.error_token, len(body), body))
                return False
            log("%s %s: exception in the application:\n%s" % (
                env.get("REQUEST_METHOD"), env.get("REQUEST_URI") or env.get("PATH_INFO"), tb))
            if not req.sent:
                req.sent = True
                req.conn.sendall(ERROR_500)
            else:
                # Part of the reply is out: reset the connection, so that
                # gopaste sees a broken reply rather than a short one.
                abort(req.conn)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log("%s %s: exception in close():\n%s" % (
                        env.get("REQUEST_METHOD"), env.get("PATH_INFO"), traceback.format_exc()))


class EmptyInput(object):
    """wsgi.input of a request without a body (shared: it has no state)."""

    __slots__ = ()

    def read(self, size=-1):
        return b""

    def readline(self, limit=-1):
        return b""

    def readlines(self, hint=-1):
        return []

    def __iter__(self):
        return iter(())


def wait_signal(sigs):
    """Waits for one of sigs (blocked in every thread) and returns it; when
    this process's parent dies — gopaste killed with SIGKILL, or the
    preload master — it returns SIGTERM instead, so that no worker is left
    behind holding its socket."""
    parent = os.getppid()
    while True:
        info = signal.sigtimedwait(sigs, 1.0)
        if info is not None:
            return info.si_signo
        if os.getppid() != parent:
            log("parent %d exited: stopping" % parent)
            return signal.SIGTERM


def app_traceback(e):
    """The traceback of e with the application's frames only: not this
    file's, not importlib's."""
    tb = traceback.TracebackException.from_exception(e)
    tb.stack = traceback.StackSummary.from_list(
        [f for f in tb.stack if f.filename not in (__file__, importlib.__file__)
         and not f.filename.startswith("<frozen importlib")])
    return "".join(tb.format())


def rss():
    """This process's resident memory in bytes."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def abort(conn):
    """Makes closing conn reset a TCP connection (a unix socket has no
    reset: the chunked framing left unfinished tells the client)."""
    try:
        with conn.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass


def drain(conn, left):
    """Reads and drops what is left of the body, for DRAIN_TIMEOUT at
    most, after telling the client the reply is complete."""
    try:
        with conn.socket() as s:
            s.shutdown(socket.SHUT_WR)
            s.settimeout(DRAIN_TIMEOUT)
            deadline = time.monotonic() + DRAIN_TIMEOUT
            buf = bytearray(READ_SIZE)
            while left > 0 and time.monotonic() < deadline:
                n = s.recv_into(buf, min(left, READ_SIZE))
                if n == 0:
                    return
                left -= n
    except OSError:
        pass


def load_app(opts):
    """Imports the application: --module pkg.mod[:callable] (a name
    ending in "()" is a factory called without arguments) or --paste
    config:FILE[#NAME] through PasteDeploy."""
    if opts.logging_config:
        # As pserve does: only a file with a [loggers] section configures.
        import configparser
        import logging.config
        path = os.path.abspath(opts.logging_config)
        parser = configparser.ConfigParser()
        parser.read(path)
        if parser.has_section("loggers"):
            logging.config.fileConfig(path, defaults={"here": os.path.dirname(path), "__file__": path},
                                      disable_existing_loggers=False)
    if opts.paste:
        try:
            from paste.deploy import loadapp
        except ImportError:
            raise SystemExit("wsgi: paste = %s needs PasteDeploy (Debian: apt install python3-pastedeploy)" % opts.paste)
        spec = opts.paste
        if ":" not in spec.split("#")[0]:
            spec = "config:" + spec
        return loadapp(spec, relative_to=os.getcwd())
    module, _, name = opts.module.partition(":")
    name = name or "application"
    factory = name.endswith("()")
    if factory:
        name = name[:-2]
    obj = importlib.import_module(module)
    for part in name.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SystemExit("wsgi: module %s has no %s (module = %s)" % (module, name, opts.module))
    if factory:
        obj = obj()
    if not callable(obj):
        raise SystemExit("wsgi: %s is a %s, not a WSGI callable" % (opts.module, type(obj).__name__))
    return obj


def write_imports(path, roots):
    """Lists in path the .py files of the loaded modules that lie under
    roots (the application's directories) and not in an installed
    package: what gopaste serve --reload watches."""
    roots = [os.path.join(os.path.abspath(r), "") for r in roots]
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")
    files = set()
    for m in list(sys.modules.values()):
        f = getattr(m, "__file__", None)
        if not f or not f.endswith(".py"):
            continue
        f = os.path.abspath(f)
        if f.startswith(here) or "-packages" + os.sep in f:
            continue
        if any(f.startswith(r) for r in roots):
            files.add(f)
    try:
        with open(path + ".tmp", "w") as out:
            out.write("".join(f + "\n" for f in sorted(files)))
        os.replace(path + ".tmp", path)
    except OSError as e:
        log("cannot list the imported files for --reload: %s" % e)


def listener(opts):
    """The listening socket: fd 3 as gopaste (or systemd) passes it, or
    --bind ADDR (host:port or unix:/path) to run by hand."""
    if opts.bind:
        if opts.bind.startswith("unix:"):
            path = opts.bind[5:]
            if os.path.exists(path):
                os.unlink(path)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
        else:
            host, _, port = opts.bind.rpartition(":")
            s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host.strip("[]") or "127.0.0.1", int(port)))
        s.listen(1024)
        return s
    pid, fds = os.environ.pop("LISTEN_PID", ""), os.environ.pop("LISTEN_FDS", "")
    os.environ.pop("LISTEN_FDNAMES", None)
    if not fds or (pid and pid != str(os.getpid())):
        raise SystemExit("wsgi: no listening socket: run me from gopaste (fd 3, LISTEN_FDS=1) or give --bind")
    s = socket.socket(fileno=3)
    s.setblocking(True)
    return s


def parse_signal(name):
    if name.isdigit():
        return int(name)
    name = name.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return getattr(signal, name)
    except AttributeError:
        raise SystemExit("wsgi: unknown signal %s" % name)


def prefork(sock, app, opts):
    """The preload master: forks opts.workers children on sock, restarts
    those that exit, stops them all on a stop signal, and passes the stack
    signal on to them (gopaste sends it to this process, whose own stack
    tells nothing). On SIGTTIN it reads how many children to keep from
    opts.workers_file (gopaste's SIGTTIN and SIGTTOU), forks the missing
    ones or stops the newest (each finishes its requests first)."""
    children = {}
    retiring = set()  # stopped by a resize: not replaced
    want = [opts.workers]  # children to keep (wsgi.multiprocess of those forked: more than one)
    stops = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT}
    passed = {parse_signal(opts.stack_signal)} if opts.stack_signal else set()
    scale = {signal.SIGTTIN} if opts.workers_file else set()
    signal.pthread_sigmask(signal.SIG_BLOCK, stops | passed | scale | {signal.SIGCHLD})

    def spawn():
        pid = os.fork()
        if pid == 0:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, passed | {signal.SIGCHLD})
            try:
                Worker(sock, app, opts.threads, want[0] > 1, opts.max_requests, opts.memory_limit, opts.probe,
                       opts.max_requests_jitter, opts.error_token).serve()
                code = 0
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stderr.flush()
            os._exit(code)
        children[pid] = time.monotonic()

    def asked():
        """How many children gopaste last asked for, or None when it never
        did (or the file cannot be read: logged)."""
        try:
            with open(opts.workers_file) as f:
                return max(int(f.read().strip()), 1)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            log("reading %s: %s" % (opts.workers_file, e))
            return None

    def resize():
        n = asked()
        if n is None:
            return
        want[0] = n
        active = sorted((pid for pid in children if pid not in retiring), key=children.get)
        for _ in range(want[0] - len(active)):
            spawn()
        for pid in active[want[0]:]:  # the newest go
            retiring.add(pid)
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    if opts.workers_file:
        # A master started again after a crash keeps the number gopaste
        # last asked for, as gopaste's room for it does.
        want[0] = asked() or want[0]
    for _ in range(want[0]):
        spawn()
    stopping = None
    failures = 0
    while children:
        sig = wait_signal(stops | passed | scale | {signal.SIGCHLD})
        if sig in scale:
            if stopping is None:
                resize()
            continue
        if sig != signal.SIGCHLD:
            if sig not in passed:
                stopping = sig
            for pid in list(children):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
                if sig in passed:
                    # One dump at a time: faulthandler writes in small
                    # pieces, which two children would interleave; gopaste
                    # kills a second after the signal.
                    time.sleep(min(0.1, 0.8 / len(children)))
            continue
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if pid == 0:
                break
            started = children.pop(pid, None)
            if pid in retiring:
                retiring.discard(pid)
                continue
            if started is None or stopping is not None:
                continue
            code = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
            if code != 0:
                log("child %d exited (%s); starting another" % (pid, describe(code)))
                failures = failures + 1 if time.monotonic() - started < 1 else 0
                time.sleep(min(0.1 * (2 ** min(failures, 8)), 10) if failures else 0)
            spawn()


def describe(code):
    if code < 0:
        try:
            return "killed by " + signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exit status %d" % code


def main(argv=None):
    p = argparse.ArgumentParser(prog="worker.py", description="gopaste's WSGI worker")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--module", help="pkg.module[:callable], callable defaults to application")
    what.add_argument("--paste", help="config:FILE[#NAME], loaded with PasteDeploy")
    p.add_argument("--pythonpath", action="append", default=[], help="added to sys.path (repeatable)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=1, help="workers in all (sets wsgi.multiprocess)")
    p.add_argument("--preload", action="store_true", help="import once, then fork --workers children")
    p.add_argument("--workers-file", default="", help="with --preload: on SIGTTIN, keep as many children as it says")
    p.add_argument("--worker", default="1", help="this worker's number (gopaste's {worker})")
    p.add_argument("--max-requests", type=int, default=0, help="a (forked) worker exits after this many")
    p.add_argument("--max-requests-jitter", type=int, default=0, help="adds 0 to this many to --max-requests")
    p.add_argument("--memory-limit", type=int, default=0, help="a forked worker exits past this RSS (bytes)")
    p.add_argument("--probe", default="", help="a PATH_INFO answered 204 without calling the application")
    p.add_argument("--error-token", default="", help="an exception's 500 carries its traceback for gopaste, marked with it")
    p.add_argument("--imports-file", default="", help="worker 1 lists the application's .py files here")
    p.add_argument("--stack-signal", default="", help="faulthandler dumps every thread's stack on it")
    p.add_argument("--logging-config", default="", help="a logging.config.fileConfig file")
    p.add_argument("--bind", default="", help="listen here instead of on fd 3")
    opts = p.parse_args(argv)
    if opts.threads < 1 or opts.workers < 1:
        raise SystemExit("wsgi: --threads and --workers must be at least 1")

    faulthandler.enable()  # a crash (SIGSEGV, SIGABRT...) writes the stacks first
    if opts.stack_signal:
        faulthandler.register(parse_signal(opts.stack_signal), all_threads=True)
    # The application's directory comes first, as with "python3 -m".
    # sys.path[0] is this file's runtime directory, which holds nothing to
    # import: the working directory and --pythonpath take its place.
    sys.path[0:1] = [os.getcwd()] + [os.path.abspath(d) for d in opts.pythonpath]
    sys.argv = [sys.argv[0]]
    sock = listener(opts)
    try:
        app = load_app(opts)
    except Exception as e:
        sys.stderr.write("wsgi: cannot load %s (in %s):\n%s" % (
            "module = " + opts.module if opts.module else "paste = " + opts.paste, os.getcwd(), app_traceback(e)))
        sys.stderr.flush()
        os._exit(1)
    # What the import made lives as long as the worker: out of the
    # collector's sight, a full collection no longer walks the framework
    # and the application's modules, and (with --preload) the children
    # leave those pages shared (docs/wsgi.md, "What the worker does").
    # The garbage the import left is collected first, or it would be
    # frozen with the rest and kept for the worker's life.
    gc.collect()
    gc.freeze()
    if opts.imports_file and opts.worker == "1":
        write_imports(opts.imports_file, [os.getcwd()] + opts.pythonpath)
    if opts.preload and (opts.workers > 1 or opts.workers_file):
        prefork(sock, app, opts)
    else:
        Worker(sock, app, opts.threads, opts.workers > 1, opts.max_requests, opts.memory_limit, opts.probe,
                       opts.max_requests_jitter, opts.error_token).serve()
    sys.stderr.flush()
    os._exit(0)  # no waiting for the threads still blocked in accept()


if __name__ == "__main__":
    main()

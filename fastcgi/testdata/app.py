# A WSGI app for the interop tests: it answers the CGI variables it got,
# and the body, as JSON.
import json


def application(environ, start_response):
    n = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(n) if n else b""
    env = {k: v for k, v in environ.items() if isinstance(v, str)}
    env["body"] = body.decode("latin-1")
    out = json.dumps(env).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]

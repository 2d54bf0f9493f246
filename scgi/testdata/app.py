# A WSGI app for uWSGI's SCGI socket: it echoes what it received, one
# key=value per line, so tests can compare.
import hashlib


def application(env, start_response):
    body = env['wsgi.input'].read()
    lines = [
        'method=' + env.get('REQUEST_METHOD', ''),
        'script=' + env.get('SCRIPT_NAME', ''),
        'path=' + env.get('PATH_INFO', ''),
        'query=' + env.get('QUERY_STRING', ''),
        'host=' + env.get('HTTP_HOST', ''),
        'remote=' + env.get('REMOTE_ADDR', ''),
        'x-test=' + env.get('HTTP_X_TEST', ''),
        'xff=' + env.get('HTTP_X_FORWARDED_FOR', ''),
        'proxy=' + env.get('HTTP_PROXY', ''),
        'len=%d' % len(body),
        'sha256=' + hashlib.sha256(body).hexdigest(),
    ]
    out = ('\n'.join(lines) + '\n').encode('latin-1')  # PEP 3333: env strings are latin-1 decoded bytes
    status = '200 OK'
    if env.get('PATH_INFO') == '/missing':
        status = '404 Not Found'
    start_response(status, [('Content-Type', 'text/plain'), ('X-Backend', 'uwsgi')])
    return [out]

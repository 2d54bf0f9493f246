from flask import Flask, redirect, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

app = Flask(__name__)
# Trust one proxy (gopaste) for X-Forwarded-For, -Proto, -Host and -Prefix:
# url_for and redirects then include the urlmap mount, e.g. /py.
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)


@app.route("/")
def index():
    return redirect(url_for("hello"))


@app.route("/hello")
def hello():
    return "hello from " + url_for("hello")

"""A Flask application: a template, a form, a session, an upload and a
streamed response."""

import hashlib

from flask import Flask, Response, render_template, request, session, stream_with_context

app = Flask(__name__)
app.secret_key = "not-a-secret-test-key"


@app.route("/hello/<name>")
def hello(name):
    return render_template("hello.html", name=name)


@app.route("/form", methods=["GET", "POST"])
def form():
    if request.method == "POST":
        return "thanks, %s (%s)" % (request.form["name"], request.form.get("color", "none"))
    return '<form method="post"><input name="name"><input name="color"></form>'


@app.route("/count")
def count():
    session["n"] = session.get("n", 0) + 1
    return "visit %d" % session["n"]


@app.route("/upload", methods=["POST"])
def upload():
    f = request.files["file"]
    data = f.read()
    return "%s %d %s %s" % (f.filename, len(data), hashlib.sha256(data).hexdigest(), request.form.get("note", ""))


@app.route("/stream")
def stream():
    def lines():
        for i in range(3):
            yield "line %d\n" % i
    return Response(stream_with_context(lines()), mimetype="text/plain")

"""A Bottle application."""

import bottle

app = bottle.Bottle()


@app.route("/hello/<name>")
def hello(name):
    return bottle.template("<h1>Hello, {{name}}!</h1>", name=name)


@app.post("/form")
def form():
    return "thanks, %s" % bottle.request.forms.get("name")


@app.route("/json")
def json():
    return {"framework": "bottle", "multithread": bottle.request.environ["wsgi.multithread"]}

from pyramid.view import view_config


@view_config(route_name="home", renderer="json")
def home(request):
    return {"project": "myproject", "settings": request.registry.settings.get("myproject.greeting")}


@view_config(route_name="hello", renderer="string")
def hello(request):
    return "%s, %s!" % (request.registry.settings["myproject.greeting"], request.matchdict["name"])

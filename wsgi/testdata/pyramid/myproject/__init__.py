from pyramid.config import Configurator


def main(global_config, **settings):
    """This function returns a Pyramid WSGI application (as the cookiecutter
    writes it)."""
    with Configurator(settings=settings) as config:
        config.add_route("home", "/")
        config.add_route("hello", "/hello/{name}")
        config.scan(".views")
    return config.make_wsgi_app()

# A one-file Django site for TestForwardedPrefixUnderURLMapIssue13: the
# middleware of django_prefix.py, "/" redirecting to reverse("hello").
import sys

from django.conf import settings

settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="test only",
                   MIDDLEWARE=["django_prefix.forwarded_prefix"])

import django  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.shortcuts import redirect  # noqa: E402
from django.urls import path, reverse  # noqa: E402


def index(request):
    return redirect(reverse("hello"))


def hello(request):
    return HttpResponse("hello from " + reverse("hello"))


urlpatterns = [path("", index), path("hello", hello, name="hello")]

if __name__ == "__main__":
    from wsgiref.simple_server import make_server
    django.setup()
    make_server("127.0.0.1", int(sys.argv[1]), get_wsgi_application()).serve_forever()

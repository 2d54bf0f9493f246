from django.urls import set_script_prefix


def forwarded_prefix(get_response):
    """Django middleware: URLs built with reverse() and redirect() get the
    mount point gopaste's http_proxy sends as X-Forwarded-Prefix."""
    def middleware(request):
        prefix = request.META.get("HTTP_X_FORWARDED_PREFIX", "")
        if prefix.startswith("/"):
            request.META["SCRIPT_NAME"] = prefix
            set_script_prefix(prefix)
        return get_response(request)
    return middleware

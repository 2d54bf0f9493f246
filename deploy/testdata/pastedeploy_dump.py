"""Dump what PasteDeploy resolves for a config, as JSON, for deploy's tests.

Usage: /usr/bin/python3 pastedeploy_dump.py CONFIG [NAME]

PasteDeploy builds Python objects; gopaste builds Go parts. This script
stops PasteDeploy just before it would create an object and records, for
every part of the tree, what PasteDeploy computed: its kind, the name it
uses, and the global_conf and local_conf its factory would receive.
Names that are neither sections nor Python eggs (gopaste's registered
parts, such as "env") become leaves, as gopaste's registry makes them.
Composites (urlmap, cascade) are followed the way their Paste factories
load their apps.
"""
import json
import sys

from paste.deploy import loadwsgi
from paste.deploy.loadwsgi import APP, FILTER, LoaderContext, ConfigLoader

COMPOSITES = {"urlmap", "cascade", "egg:Paste#urlmap", "egg:Paste#cascade"}


def leaf(name, object_type, global_conf, loader):
    ctx = LoaderContext(obj=None, object_type=object_type, protocol=None,
                        global_conf=dict(global_conf or {}), local_conf={}, loader=loader)
    ctx.leaf_name = name
    return ctx


_orig_get_context = ConfigLoader.get_context


def get_context(self, object_type, name=None, global_conf=None):
    if name and not self.absolute_name(name):
        try:
            self.find_config_section(object_type, name=name)
        except LookupError:
            return leaf(name, object_type, global_conf, self)
    return _orig_get_context(self, object_type, name, global_conf)


ConfigLoader.get_context = get_context


def load_egg(object_type, uri, spec, name, relative_to, global_conf):
    return leaf("egg:" + spec + ("#" + name if name else ""), object_type, global_conf, None)


loadwsgi._loaders["egg"] = load_egg


def kind(ctx):
    return ctx.object_type.name


def walk(ctx, loader):
    out = {"kind": kind(ctx)}
    if hasattr(ctx, "leaf_name"):
        out["use"] = ctx.leaf_name
        out["global_conf"] = ctx.global_conf
        out["local_conf"] = ctx.local_conf
        children = []
        if ctx.leaf_name in COMPOSITES:
            keys = list(ctx.local_conf)
            if "cascade" in ctx.leaf_name:
                keys = sorted((k for k in keys if k.startswith("app") and k[3:].isdigit()), key=lambda k: int(k[3:]))
            for k in keys:
                sub = loader.get_context(APP, ctx.local_conf[k], global_conf=ctx.global_conf)
                children.append(walk(sub, sub.loader or loader))
        out["children"] = children
        return out
    children = []
    t = out["kind"]
    if t == "pipeline":
        children = [walk(f, loader) for f in ctx.filter_contexts] + [walk(ctx.app_context, loader)]
    elif t in ("filter_app", "filtered_with", "filtered_application"):
        children = [walk(ctx.filter_context, loader), walk(ctx.next_context, loader)]
    out["children"] = children
    return out


def main():
    path = sys.argv[1]
    # No name means "main" and also finds a bare [app] section.
    name = sys.argv[2] if len(sys.argv) > 2 else None
    ctx = loadwsgi.loadcontext(APP, "config:" + path, name=name)
    print(json.dumps(walk(ctx, ctx.loader), indent=1, sort_keys=True))


main()

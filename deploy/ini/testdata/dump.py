"""Print, as JSON, what PasteDeploy's config parser makes of one ini file.

Usage: python3 dump.py FILE.ini

The parser is paste.deploy.loadwsgi.NicerConfigParser set up as
ConfigLoader does (optionxform = str), with fixed defaults for `here` and
`__file__` so the output does not depend on where the file lives. The Go
test in ../golden_test.go compares deploy/ini against this output.
"""

import configparser
import json
import re
import sys

from paste.deploy.loadwsgi import NicerConfigParser

HERE = "/srv/app"
FILE = "/srv/app/config.ini"


def error_lines(exc, data):
    if isinstance(exc, UnicodeDecodeError):
        # Universal newlines: \r\n, \r and \n each end a line.
        before = data[: exc.start].decode("utf-8")
        return [len(re.findall(r"\r\n|\r|\n", before)) + 1]
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return [exc.lineno]
    if isinstance(exc, configparser.ParsingError):
        return [lineno for lineno, _ in exc.errors]
    return [exc.lineno]


def value_or_error(parser, section, key):
    try:
        return {"value": parser.get(section, key)}
    except configparser.Error as exc:
        return {"error": type(exc).__name__}


def dump(path):
    """Return the JSON-ready result for one file."""
    with open(path, "rb") as f:
        data = f.read()
    parser = NicerConfigParser(path, defaults={"here": HERE, "__file__": FILE})
    parser.optionxform = str
    try:
        data.decode("utf-8")
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except (configparser.Error, UnicodeDecodeError) as exc:
        out = {"error": {"kind": type(exc).__name__, "lines": error_lines(exc, data)}}
    else:
        defaults = configparser.ConfigParser.defaults(parser)
        out = {
            "defaults": [[k, v] for k, v in defaults.items()],
            "default_values": {k: value_or_error(parser, "DEFAULT", k) for k in defaults},
            "sections": [
                {
                    "name": name,
                    "keys": [[k, v] for k, v in parser._sections[name].items()],
                    "values": {
                        k: value_or_error(parser, name, k)
                        for k in parser.options(name)
                    },
                }
                for name in parser.sections()
            ],
        }
    return out


if __name__ == "__main__":
    json.dump(dump(sys.argv[1]), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")

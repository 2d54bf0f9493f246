"""Tests of app.py, run with: python3 -m unittest"""

import unittest
from wsgiref.util import setup_testing_defaults

from app import application


def call(path, query=""):
    environ = {"PATH_INFO": path, "QUERY_STRING": query}
    setup_testing_defaults(environ)
    got = {}

    def start_response(status, headers):
        got["status"], got["headers"] = status, dict(headers)

    body = b"".join(application(environ, start_response)).decode("utf-8")
    return got["status"], got["headers"], body


class AppTest(unittest.TestCase):
    def test_hello(self):
        status, headers, body = call("/", "name=Ada")
        self.assertEqual(status, "200 OK")
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("Hello, Ada!", body)

    def test_name_is_escaped(self):
        _, _, body = call("/", "name=%3Cscript%3E")
        self.assertIn("Hello, &lt;script&gt;!", body)
        self.assertNotIn("<script>", body)

    def test_healthz(self):
        self.assertEqual(call("/healthz")[0], "200 OK")

    def test_not_found(self):
        self.assertEqual(call("/nope")[0], "404 Not Found")


if __name__ == "__main__":
    unittest.main()

"""Validates an example app's OpenAPI document and its real answers against it.

    python scripts/openapi_validate.py APP DOCUMENT.json EXCHANGES.json

DOCUMENT.json is what the app served at /openapi.json. EXCHANGES.json is a list of requests
sent to the running app and the answers it gave (written by examples/test-support/src/openapi.rs):

    {"name", "method", "path", "request_headers": {..}, "request_body": str | null,
     "valid_request": bool, "expect": "operation" | "method_not_allowed" | "no_endpoint",
     "status", "headers": {lowercase name: value}, "body": str}

The document is checked with openapi-spec-validator (OpenAPI 3.1). Each answer is checked with
openapi-core: its status must be described for the operation, its body must match the schema
of that status and media type, the headers the document describes for that status must be
present and match their schemas. Requests marked valid_request are validated as well. Answers
to a method the document does not list (405) are checked against
components.responses.MethodNotAllowed, with `Allow` naming exactly the documented methods; a
path below the key collection that names no endpoint (404) against components.schemas.ApiError.

Prints one line per exchange and "N passed, M failed"; exits 1 on any failure.
"""

import copy
import json
import re
import sys

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate as validate_spec

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
HOST = "http://127.0.0.1"


def template_regex(path):
    """The regular expression of an OpenAPI path template (`{id}` matches one segment)."""
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile(
        "^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$"
    )


def find_path(spec, path):
    """The path template of `spec` that `path` (no query) matches, concrete paths first."""
    templates = sorted(spec["paths"], key=lambda p: ("{" in p, p))
    for template in templates:
        if template_regex(template).match(path):
            return template
    return None


def described_headers(spec, template, method, status):
    responses = spec["paths"][template][method]["responses"]
    response = responses.get(str(status)) or responses.get("default") or {}
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return list(response.get("headers", {}))


def check(spec, exchange):
    """Returns a list of problems (empty when the exchange conforms)."""
    problems = []
    method = exchange["method"].lower()
    path = exchange["path"].split("?", 1)[0]
    expect = exchange.get("expect", "operation")
    template = find_path(spec, path)
    checked = spec

    if expect == "operation":
        if template is None or method not in spec["paths"][template]:
            return [f"the document has no operation {method.upper()} {path}"]
    elif expect == "method_not_allowed":
        if template is None:
            return [f"the document has no path matching {path}"]
        documented = [m for m in METHODS if m in spec["paths"][template]]
        if method in documented:
            return [f"{method.upper()} {template} is documented, yet answered 405"]
        allowed = {m.strip().lower() for m in exchange["headers"].get("allow", "").split(",")}
        expected = set(documented) | ({"head"} if "get" in documented else set())
        if allowed != expected:
            problems.append(
                f"Allow lists {sorted(allowed)}, the document {sorted(expected)}"
            )
        # Validate the answer as if the operation existed and answered the documented 405.
        checked = copy.deepcopy(spec)
        path_parameters = [
            p
            for m in documented
            for p in spec["paths"][template][m].get("parameters", [])
            if p.get("in") == "path"
        ][: template.count("{")]
        checked["paths"][template][method] = {
            "parameters": path_parameters,
            "responses": {"405": {"$ref": "#/components/responses/MethodNotAllowed"}},
        }
    elif expect == "no_endpoint":
        if template is not None:
            return [f"{path} matches {template} in the document, yet names no endpoint"]
        template = path
        checked = copy.deepcopy(spec)
        checked["paths"][path] = {
            method: {
                "responses": {
                    "404": {
                        "description": "no such endpoint",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ApiError"}
                            }
                        },
                    }
                }
            }
        }
    else:
        return [f"unknown expectation {expect!r}"]

    api = OpenAPI.from_dict(checked)
    body = exchange.get("request_body")
    request_headers = exchange.get("request_headers") or {}
    request = MockRequest(
        HOST,
        method,
        path,
        headers=request_headers,
        data=body.encode() if body is not None else None,
        content_type=request_headers.get("content-type", "application/json"),
    )
    if exchange.get("valid_request"):
        try:
            api.validate_request(request)
        except Exception as e:  # openapi-core raises one error with the details inside
            problems.append(f"request: {describe(e)}")

    headers = exchange["headers"]
    response = MockResponse(
        exchange["body"].encode(),
        status_code=exchange["status"],
        headers=headers,
        content_type=headers.get("content-type", ""),
    )
    try:
        api.validate_response(request, response)
    except Exception as e:
        problems.append(f"response: {describe(e)}")

    # openapi-core checks a described header only when it is sent; the documents describe only
    # headers that are always sent, so each must be there.
    status_headers = described_headers(checked, template, method, exchange["status"])
    for name in status_headers:
        if name.lower() not in headers:
            problems.append(f"response: header {name} is described but missing")
    return problems


def describe(error):
    parts = [f"{type(error).__name__}: {error}"]
    for inner in getattr(error, "__cause__", None), *getattr(error, "schema_errors", ()):
        text = str(getattr(inner, "message", inner)) if inner is not None else ""
        if text and not any(text in part for part in parts):
            parts.append(text)
    return " | ".join(parts)


def main():
    app, document_path, exchanges_path = sys.argv[1:4]
    with open(document_path, encoding="utf-8") as f:
        spec = json.load(f)
    with open(exchanges_path, encoding="utf-8") as f:
        exchanges = json.load(f)

    validate_spec(spec)
    operations = sum(
        1 for item in spec["paths"].values() for m in item if m in METHODS
    )
    print(
        f"{app}: /openapi.json is a valid OpenAPI {spec['openapi']} document "
        f"({len(spec['paths'])} paths, {operations} operations)"
    )

    passed = failed = 0
    for exchange in exchanges:
        label = f"{exchange['method']} {exchange['path']} -> {exchange['status']} ({exchange['name']})"
        try:
            problems = check(spec, exchange)
        except Exception as e:  # a crash in one check is that exchange's failure
            problems = [f"the check itself failed: {describe(e)}"]
        if problems:
            failed += 1
            print(f"FAIL {label}")
            for problem in problems:
                print(f"       {problem}")
        else:
            passed += 1
            print(f"ok   {label}")
    print(f"{app}: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

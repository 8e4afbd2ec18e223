"""Every answer the tests get from the v1 API, checked against the OpenAPI schema the API serves.

A pytest plugin (registered in tests/conftest.py). Each request a test makes through Django's test
`Client` (DRF's `APIClient` is one) to a path under /api/v1/ is matched to an operation of the
schema, and its answer must be one the schema documents:

- the status is documented for the operation (or a `4XX`-style range, or `default`);
- the Content-Type is one the status documents (an answer documented without content has no body);
- a JSON body is valid against the documented schema ($refs resolved, `nullable` honoured: the
  OpenAPI 3.0 validator of openapi-schema-validator, in its read context), and holds no property
  an object's schema does not list (unless it allows `additionalProperties`);
- every header the status documents as required is present, and a documented header's value is of
  its documented type.

A request the schema has no operation for (a method the view does not declare, an address no route
answers) is not checked: the schema cannot say anything about it.

The schema is generated once per session, in process, exactly as /api/schema/?format=json serves
it. The operations exercised (method, path template, status) are counted, and the session ends with
a one-line summary and the operations no test called.

UCJ_SCHEMA_CHECK chooses what a mismatch does:
    fail    the request raises AssertionError in the test that made it (naming the operation, the
            status and where in the body the schema is broken);
    report  the test goes on; mismatches are listed once at the end of the session and, with
            UCJ_SCHEMA_REPORT=<path>, written to that file (one line per distinct mismatch);
    off     nothing is checked.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import extend
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

API_PREFIX = "/api/v1/"
MODE_VARIABLE = "UCJ_SCHEMA_CHECK"
REPORT_VARIABLE = "UCJ_SCHEMA_REPORT"
MODES = ("fail", "report", "off")
MAX_ERRORS = 5  # of one body: enough to fix it from
# What a mismatch does when UCJ_SCHEMA_CHECK is not set: it fails the test that made the request,
# so that a view and its schema cannot drift apart again ("report" lists them all at the end).
DEFAULT_MODE = "fail"

_DOCUMENT = "urn:ucj-desa:openapi"  # the schema's address in the validators' registry
_PARAMETER = re.compile(r"\{[^}/]+\}")
_INDEX = re.compile(r"\[\d+\]")
_NO_BODY = object()


def _pointer(*segments: str) -> str:
    return "".join("/" + s.replace("~", "~0").replace("/", "~1") for s in segments)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _covers(documented: str, media_type: str) -> bool:
    if documented in (media_type, "*/*"):
        return True
    return documented.endswith("/*") and media_type.startswith(documented[:-1])


def _header_fits(value: str, schema: dict) -> bool:
    """Whether a header's text is of the type its schema documents (headers are text: a number is
    read from it)."""
    if schema.get("type") == "integer":
        return re.fullmatch(r"-?\d+", value) is not None
    if schema.get("type") == "number":
        return re.fullmatch(r"-?\d+(\.\d+)?", value) is not None
    return "enum" not in schema or value in schema["enum"]


def _closed_properties(validator, properties, instance, schema):
    """`properties`, and a property the schema does not list is an error unless it says
    `additionalProperties`: a client generated from the schema would drop it. (Sound while no
    object is split over several `allOf` members, which the generated schema never does.)"""
    yield from OAS30ReadValidator.VALIDATORS["properties"](validator, properties, instance, schema)
    if validator.is_type(instance, "object") and "additionalProperties" not in schema:
        extra = sorted(set(instance) - set(properties))
        if extra:
            yield ValidationError(f"undocumented properties: {', '.join(map(repr, extra))}", validator="undocumented")


def _describe(error: ValidationError) -> str:
    """The error's message, short; a discriminator's unknown value said as such (the validator
    says it cannot resolve a reference named after the value)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    discriminator = schema.get("discriminator")
    if discriminator and isinstance(error.instance, dict):
        name = discriminator["propertyName"]
        if name not in error.instance or not error.instance[name]:
            return f"{name}={error.instance.get(name)!r}: the discriminator needs a value"
        documented = ", ".join(sorted(discriminator.get("mapping", {}))) or "none"
        return f"{name}={error.instance[name]!r} is not one of the documented variants ({documented})"
    return error.message if len(error.message) <= 300 else error.message[:297] + "..."


AnswerValidator = extend(OAS30ReadValidator, {"properties": _closed_properties})


@dataclass(frozen=True)
class Mismatch:
    """One way an answer differs from the schema; `where` is a JSON path or a header's name."""

    operation: str
    status: int
    content_type: str
    kind: str
    where: str
    message: str

    @property
    def key(self) -> tuple:
        return (self.operation, self.status, self.content_type, self.kind, _INDEX.sub("[*]", self.where))

    def __str__(self) -> str:
        where = f" at {self.where}" if self.where else ""
        answer = f"{self.status} {self.content_type or '(no content type)'}"
        return f"{self.operation} answered {answer}: {self.kind}{where}: {self.message}"


class Contract:
    """The schema's operations, and a check of one answer against them."""

    def __init__(self, schema: dict[str, Any]):
        self.schema = schema
        self.registry = Registry().with_resource(
            _DOCUMENT, Resource.from_contents(schema, default_specification=DRAFT4)
        )
        routes = []
        for template, item in schema["paths"].items():
            if not template.startswith(API_PREFIX):
                continue
            parts = _PARAMETER.split(template)
            regex = re.compile("^" + "[^/]+".join(re.escape(p) for p in parts) + "$")
            methods = {m.upper(): op for m, op in item.items() if isinstance(op, dict) and "responses" in op}
            # The address with fewer parameters is the more specific: /imports/workers/ before /imports/{id}/.
            routes.append((len(parts), -len(template), regex, template, methods))
        routes.sort(key=lambda route: route[:2])
        self.routes = [(regex, template, methods) for _n, _l, regex, template, methods in routes]
        self.operations = sorted((m, t) for _r, t, methods in self.routes for m in methods)
        self.exercised: dict[tuple[str, str], Counter] = defaultdict(Counter)
        self._validators: dict[str, Any] = {}

    def operation(self, method: str, path: str) -> tuple[str, dict] | None:
        """(path template, operation) of the request, or None when the schema has none for it."""
        for regex, template, methods in self.routes:
            if regex.match(path):
                return (template, methods[method]) if method in methods else None
        return None

    def check(self, method: str, path: str, response) -> list[Mismatch] | None:
        """The mismatches of one answer (none: an empty list), or None when it has no operation."""
        found = self.operation(method, path)
        if found is None:
            return None
        if getattr(getattr(response, "accepted_renderer", None), "format", None) == "api":
            # The browsable API: pages for people trying the API out, outside the JSON contract.
            return None
        template, operation = found
        name = f"{method} {template}"
        status = response.status_code
        self.exercised[(method, template)][status] += 1
        content_type = response.get("Content-Type", "")
        media_type = _media_type(content_type)

        def mismatch(kind: str, message: str, where: str = "") -> list[Mismatch]:
            return [Mismatch(name, status, media_type, kind, where, message)]

        responses = operation["responses"]
        status_key = next(
            (k for k in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default") if k in responses), None
        )
        if status_key is None:
            return mismatch("status not documented", f"documented: {', '.join(sorted(responses))}")
        documented_at, documented = self._follow(_pointer("paths", template, method.lower(), "responses", status_key))
        found_mismatches = []
        for header in documented.get("headers") or {}:
            spec = self._follow(f"{documented_at}{_pointer('headers', header)}")[1]
            if not response.has_header(header):
                if spec.get("required"):
                    found_mismatches += mismatch("required header missing", "documented as required", header)
            elif not _header_fits(response[header], spec.get("schema") or {}):
                found_mismatches += mismatch("header invalid", f"{response[header]!r} is not {spec['schema']}", header)
        content = documented.get("content") or {}
        body = _NO_BODY if response.streaming else response.content
        if not content:
            if body is not _NO_BODY and body:
                found_mismatches += mismatch("body where none is documented", f"{len(body)} bytes")
            return found_mismatches
        media = next((m for m in content if _covers(m, media_type)), None)
        if media is None:
            return found_mismatches + mismatch(
                "content type not documented", f"documented: {', '.join(sorted(content))}"
            )
        if not _is_json(media_type) or body is _NO_BODY:
            return found_mismatches  # a file: its type is all the schema says
        try:
            instance = json.loads(body)
        except ValueError as error:
            return found_mismatches + mismatch("body is not JSON", str(error))
        validator = self._validator(f"{documented_at}{_pointer('content', media)}")
        if validator is None:
            return found_mismatches
        # Each of the body's errors, at its most precise (inside oneOf and the like); a list's rows
        # that fail alike count once.
        errors: dict[tuple[str, str], ValidationError] = {}
        for top in validator.iter_errors(instance):
            error = best_match([top])
            keyword = error.validator if isinstance(error.validator, str) else "schema"
            errors.setdefault((_INDEX.sub("[*]", error.json_path), keyword), error)
        for (_where, keyword), error in list(errors.items())[:MAX_ERRORS]:
            found_mismatches += mismatch(f"body invalid ({keyword})", _describe(error), error.json_path)
        return found_mismatches

    def _follow(self, pointer: str) -> tuple[str, dict]:
        """(where, what) of the object at a JSON pointer of the schema, after any `$ref` to another
        part of it (a response or header kept in `components`)."""
        node: Any = self.schema
        for segment in pointer.split("/")[1:]:
            node = node[segment.replace("~1", "/").replace("~0", "~")]
        ref = node.get("$ref", "") if isinstance(node, dict) else ""
        return self._follow(ref[1:]) if ref.startswith("#/") else (pointer, node)

    def _validator(self, content_at: str):
        """The validator of the body documented at `content_at` (a media type of a response), built once."""
        if content_at not in self._validators:
            spec = self._follow(content_at)[1]
            self._validators[content_at] = (
                AnswerValidator(
                    {"$ref": f"{_DOCUMENT}#{content_at}/schema"},
                    registry=self.registry,
                    format_checker=oas30_format_checker,
                )
                if "schema" in spec
                else None
            )
        return self._validators[content_at]


def served_schema() -> dict[str, Any]:
    """The schema as /api/schema/?format=json serves it: the same generator, the same renderer."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer
    from drf_spectacular.settings import spectacular_settings

    schema = SchemaGenerator().get_schema(request=None, public=spectacular_settings.SERVE_PUBLIC)
    return json.loads(OpenApiJsonRenderer().render(schema))


class Checker:
    """Watches the test client, checks each v1 answer and keeps what it found."""

    def __init__(self, mode: str):
        self.mode = mode
        self.test = ""
        self.checked = 0
        self.seconds = 0.0  # spent checking, the schema's generation included
        self.mismatches: dict[tuple, tuple[Mismatch, str, int]] = {}
        self._contract: Contract | None = None
        self._original = None

    @property
    def contract(self) -> Contract:
        if self._contract is None:
            self._contract = Contract(served_schema())
        return self._contract

    def install(self) -> None:
        from django.test.client import Client

        original = self._original = Client.request
        checker = self

        def request(client, **request):
            __tracebackhide__ = True  # a failure points at the test's request, not here
            response = original(client, **request)
            checker.observe(response)
            return response

        Client.request = request

    def uninstall(self) -> None:
        if self._original is not None:
            from django.test.client import Client

            Client.request = self._original

    def observe(self, response) -> None:
        __tracebackhide__ = True
        started = time.perf_counter()
        try:
            self._observe(response)
        finally:
            self.seconds += time.perf_counter() - started

    def _observe(self, response) -> None:
        __tracebackhide__ = True
        wsgi_request = getattr(response, "wsgi_request", None)
        if wsgi_request is None or not wsgi_request.path_info.startswith(API_PREFIX):
            return
        found = self.contract.check(wsgi_request.method, wsgi_request.path_info, response)
        if found is None:
            return
        self.checked += 1
        for mismatch in found:
            first, test, count = self.mismatches.get(mismatch.key, (mismatch, self.test, 0))
            self.mismatches[mismatch.key] = (first, test, count + 1)
        if found and self.mode == "fail":
            lines = "\n".join(f"  {m}" for m in found)
            raise AssertionError(f"the answer does not match the API schema:\n{lines}")

    def summary(self) -> list[str]:
        contract = self._contract
        if contract is None:
            return ["API schema check: no request to /api/v1/ was made"]
        called = [op for op in contract.operations if op in contract.exercised]
        lines = [
            f"API schema check ({self.mode}): {len(called)}/{len(contract.operations)} operations exercised, "
            f"{self.checked} answers checked in {self.seconds:.1f} s, {len(self.mismatches)} distinct mismatches"
        ]
        lines += [f"  never called: {m} {t}" for m, t in contract.operations if (m, t) not in contract.exercised]
        return lines

    def report(self) -> list[str]:
        """One line per distinct mismatch: the mismatch, how often it was seen, a test that shows it."""
        rows = sorted(self.mismatches.values(), key=lambda row: (row[0].operation, row[0].status, row[0].kind))
        return [f"{m}  [{count}x; e.g. {test}]" for m, test, count in rows]


_checker: Checker | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _checker
    mode = os.environ.get(MODE_VARIABLE, DEFAULT_MODE)
    if mode not in MODES:
        raise pytest.UsageError(f"{MODE_VARIABLE}={mode!r}: expected one of {', '.join(MODES)}")
    if mode != "off":
        _checker = Checker(mode)
        _checker.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _checker
    if _checker is not None:
        _checker.uninstall()
        _checker = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    if _checker is not None:
        _checker.test = item.nodeid
    return (yield)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _checker is None or _checker._contract is None:
        return
    terminalreporter.section("API schema check")
    for line in _checker.summary():
        terminalreporter.write_line(line)
    report = _checker.report()
    if _checker.mode == "report":
        for line in report:
            terminalreporter.write_line(f"  {line}")
    target = os.environ.get(REPORT_VARIABLE)
    if target:
        Path(target).write_text("\n".join([*_checker.summary(), *report]) + "\n", encoding="utf-8")
        terminalreporter.write_line(f"written to {target}")


def checker() -> Checker | None:
    """The session's checker (None when UCJ_SCHEMA_CHECK=off), for tests of the contract itself."""
    return _checker

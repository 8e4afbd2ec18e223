"""The OpenAPI schema tells the truth about every operation: this AutoSchema adds what the
views cannot say one by one.

- **Errors.** Every operation lists each error status it can answer, all with the one error body
  (`ErrorResponse`), a description saying when it happens, and an example. The statuses follow
  from the view: a body can be too large (413) or not JSON (415); a path parameter or a page can
  be missing (404); a capability can be lacking (403); any caller can send a bad token (401),
  an unknown query parameter (400), an Accept no renderer meets (406) or too many requests
  (429). What a view adds (409 conflicts, 412/428 versions) it declares in
  `error_statuses = {action or method: {status, ...}}`.
- **Files as files.** An export or a download is `type: string, format: binary` with its
  `Content-Disposition`; JSON is documented only as JSON.
- **Public operations** (the region lists, login) need no token: `security: []`.
- **Summaries** come from the first sentence of the action's or view's docstring, or from the
  action's kind and the resource's name.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.utils import translation
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.filters import OrderingFilter, SearchFilter

from core.api import schema_filters  # noqa: F401  (documents search and ordering where a list has them)
from core.api.pagination import EXAMPLE_LIST
from core.api.parameters import region_code_parameters
from core.api.permissions import PUBLIC
from core.codes import PATH_SPELLINGS_PATTERN, SPELLINGS_PATTERN, SPELLINGS_TEXT

if TYPE_CHECKING:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.plumbing import ComponentRegistry
    from rest_framework.request import Request

EXAMPLE_HOST = EXAMPLE_LIST.split("/api/")[0]
FILE_MEDIA_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
BINARY = {"type": "string", "format": "binary"}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class ErrorSerializer(serializers.Serializer[Any]):
    """One problem: a code for programs, a message for people, and the field at fault."""

    code = serializers.CharField(
        help_text="What went wrong, for programs: `required`, `invalid_choice`, `unknown_parameter`, "
        "`stale_version`, `not_authenticated`, `throttled` ..."
    )
    detail = serializers.CharField(help_text="What went wrong, for people, in the request's language.")
    attr = serializers.CharField(
        allow_null=True,
        help_text="The body field, query parameter or header at fault (`nik`, `If-Match`, `page`); null when the "
        "error is about the whole request.",
    )


@extend_schema_serializer(component_name="ErrorResponse")
class ErrorResponseSerializer(serializers.Serializer[Any]):
    """Every error answer (4xx): its kind and every problem found."""

    type = serializers.ChoiceField(
        choices=["validation_error", "client_error", "server_error"],
        help_text="`validation_error`: fix the fields named in `errors`; `client_error`: the request as a whole "
        "cannot be served as sent.",
    )
    # DRF's metaclass takes declared fields out of the class: the `errors` property is untouched.
    errors = ErrorSerializer(many=True, help_text="Every problem found, all at once.")  # type: ignore[assignment]


def _error(code: str, detail: str, attr: str | None = None, kind: str = "client_error") -> dict[str, Any]:
    return {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}


# When each status happens, and an example body of it.
ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "400": (
        "The request is invalid: `errors` names every field, query parameter or header at fault "
        "(`attr`) and why, all at once. Unknown query parameters are refused too.",
        {
            "type": "validation_error",
            "errors": [
                {"code": "required", "detail": "Bidang ini harus diisi.", "attr": "full_name"},
                {"code": "invalid", "detail": "A NIK has 16 digits.", "attr": "nik"},
            ],
        },
    ),
    "401": (
        "No valid credentials: no token where one is needed, or an unknown, expired or revoked token "
        "(send `Authorization: Token <token>`); at login, a wrong username or password.",
        _error("not_authenticated", "Authentication credentials were not provided."),
    ),
    "403": (
        "The caller's role lacks the capability this operation needs (or the right to export a file).",
        _error("permission_denied", "You do not have permission to perform this action."),
    ),
    "404": (
        "No such object in the caller's regions (an object outside them answers 404 too), or no such page.",
        _error("not_found", "Not found."),
    ),
    "406": (
        "The Accept header asks for a format this operation does not produce.",
        _error("not_acceptable", "Could not satisfy the request Accept header."),
    ),
    "409": (
        "The change clashes with the stored state: a stale `version` in the body (`stale_version`: read "
        "the record again), a transition the current status does not allow, a NIK already serving "
        "elsewhere, an ended service.",
        _error("stale_version", "This worker was changed by someone else (version 4); reload it.", "version"),
    ),
    "410": (
        "What the request points to is no longer kept (a change feed's cursor older than the changes "
        "kept): start again as the message says.",
        _error(
            "cursor_expired",
            "This cursor is older than the changes kept: start again without `after`.",
            "after",
        ),
    ),
    "412": (
        "The If-Match header names an older version than the stored one: read the record again (its "
        "ETag), reapply the change and send the new ETag.",
        _error("stale_version", "This worker was changed by someone else (version 4); reload it.", "If-Match"),
    ),
    "413": (
        "The body (or the uploaded file) is larger than the server accepts.",
        _error("request_too_large", "The request body is larger than 2621440 bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)."),
    ),
    "415": (
        "The body's Content-Type is not the one this operation reads.",
        _error("unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
    ),
    "428": (
        "Neither If-Match nor `version` was sent: an edit must name the version it changes.",
        _error("version_required", "Send the version you edited, as If-Match or as `version`.", "version"),
    ),
    "429": (
        "Too many requests (or NIK lookups) for this caller: wait the seconds given in Retry-After.",
        _error("throttled", "Request was throttled. Expected available in 42 seconds."),
    ),
}

# On every answer to a caller counted by token or session (access.throttling).
RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "RateLimit-Limit": {
        "schema": {"type": "integer"},
        "description": "Requests this caller may make in the current window (a minute by default).",
    },
    "RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Requests left in the current window."},
    "RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Seconds until the window ends."},
}

HEADERS: dict[str, dict[str, Any]] = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": "The scheme to use: `Token`.",
        }
    },
    "429": {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "Seconds to wait before the next request.",
            "required": True,
        }
    },
}

SUMMARIES = {
    "list": "List {plural}",
    "retrieve": "One {singular}",
    "create": "Create {article} {singular}",
    "update": "Replace {article} {singular}",
    "partial_update": "Edit {article} {singular}",
    "destroy": "Delete {article} {singular}",
}


def first_sentence(text: str) -> str:
    """The first sentence of a docstring, on one line, without the final period."""
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence.rstrip(".")


class AutoSchema(SpectacularAutoSchema):
    def _is_list_view(self, serializer: Any = None) -> bool:
        """Whether the operation answers a list (its pages' parameters, its answer paginated):
        judged by its main answer, the lowest status declared. drf-spectacular picks the lowest
        key as text, so `(202, "application/json")` (a queued job) came before `200`."""
        if serializer is None:
            serializer = self.get_response_serializers()
        if isinstance(serializer, dict) and serializer:
            lowest = min(serializer, key=lambda key: str(key[0] if isinstance(key, tuple) else key))
            serializer = serializer[lowest]
        return bool(super()._is_list_view(serializer))

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: ComponentRegistry
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        if self.is_public():
            operation["security"] = []
        # The query parameters that take a region code, in either spelling (core.codes).
        codes = region_code_parameters(self.view, getattr(self.view, "action", None) or method.lower())
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and hasattr(self.view, "path_example"):
                parameter["example"] = self.view.path_example  # one the demo has
            if parameter["in"] == "path" and getattr(self.view, "region_code_in_path", False):
                # Either spelling reaches the same answer (core.codes): `1508` is `15.08`.
                parameter["description"] = f"Region code. {SPELLINGS_TEXT}"
                parameter["schema"] = {"type": "string", "pattern": PATH_SPELLINGS_PATTERN}
            if parameter["in"] == "query" and parameter["name"] in codes:
                parameter["schema"] = {**parameter["schema"], "pattern": SPELLINGS_PATTERN}
            if parameter["in"] == "query" and not parameter.get("required"):
                # An empty value is the parameter not given (`?as_of=` is today), as a form sends it.
                parameter["allowEmptyValue"] = True
        self._files_as_files(operation)
        responses = operation["responses"]
        handler = getattr(self.view, self.method.lower(), None)
        if self.method == "GET" and getattr(handler, "conditional_answers", False):
            self._conditional(operation)
        for status in sorted(self.error_statuses(operation)):
            responses.setdefault(status, self._error_response(status))
        for status, response in responses.items():
            if not response.get("description"):
                response["description"] = self._success_description(status, response)
        self._page_links_of_this_list(responses)
        for response in responses.values():
            headers = response.setdefault("headers", {})
            for name in RATE_LIMIT_HEADERS:
                headers[name] = {"$ref": f"#/components/headers/{name}"}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _page_links_of_this_list(self, responses: dict[str, Any]) -> None:
        """A list's example page links to its own address (the pagination cannot know it)."""
        content = responses.get("200", {}).get("content", {}).get("application/json", {})
        for example in content.get("examples", {}).values():
            page = example.get("value")
            if isinstance(page, dict) and "results" in page:
                for link in ("next", "previous"):
                    if isinstance(page.get(link), str):
                        page[link] = page[link].replace(EXAMPLE_LIST, EXAMPLE_HOST + self.path)

    def get_filter_backends(self) -> list[Any]:
        """Search and ordering are documented where the view has them: the parameters a list
        reads, as core.api.parameters counts them."""
        backends = super().get_filter_backends()
        return [
            backend
            for backend in backends
            if not (issubclass(backend, SearchFilter) and not getattr(self.view, "search_fields", None))
            and not (issubclass(backend, OrderingFilter) and not getattr(self.view, "ordering_fields", None))
        ]

    # -- who may call ------------------------------------------------------------------------

    def _key(self) -> str:
        return getattr(self.view, "action", None) or self.method.lower()

    def capability(self) -> str | None:
        return getattr(self.view, "required_capabilities", {}).get(self._key())

    def is_public(self) -> bool:
        """Anyone may call it, without a token (a token sent is still checked)."""
        return self.capability() == PUBLIC and not getattr(self.view, "login_required", False)

    # -- errors -------------------------------------------------------------------------------

    def error_statuses(self, operation: dict[str, Any]) -> set[str]:
        statuses = {"400", "401", "406", "429"}
        capability = self.capability()
        if capability is not None and capability != PUBLIC:
            statuses.add("403")
        parameters = operation.get("parameters", [])
        # A path names an object that may not exist; a page number, a page that may not.
        if any(p["in"] == "path" or p["name"] == "page" for p in parameters):
            statuses.add("404")
        if "requestBody" in operation:
            statuses |= {"413", "415"}
        declared = getattr(self.view, "error_statuses", {})
        statuses |= {str(status) for status in declared.get(self._key(), ())}
        return statuses

    def _error_response(self, status: str) -> dict[str, Any]:
        description, example = ERRORS[status]
        component = self.resolve_serializer(ErrorResponseSerializer, "response")
        response: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": component.ref, "example": example}},
        }
        if status in HEADERS:
            response["headers"] = HEADERS[status]
        return response

    # -- answers ------------------------------------------------------------------------------

    def _files_as_files(self, operation: dict[str, Any]) -> None:
        """File media types answer bytes, with Content-Disposition."""
        for response in operation["responses"].values():
            content = response.get("content", {})
            files = [media_type for media_type in content if media_type in FILE_MEDIA_TYPES]
            if not files:
                continue
            for media_type in files:
                content[media_type] = {"schema": BINARY}
            headers = response.setdefault("headers", {})
            headers["Content-Disposition"] = {
                "schema": {"type": "string"},
                "description": "`attachment; filename=...` on a file answer.",
            }

    def _conditional(self, operation: dict[str, Any]) -> None:
        """ETag on JSON answers, If-None-Match and 304 (a handler marked by coverage.caching.conditional_answer)."""
        operation.setdefault("parameters", []).append(
            {
                "in": "header",
                "name": "If-None-Match",
                "schema": {"type": "string"},
                "description": "The ETag of the answer you hold: 304 without a body if it is still current.",
            }
        )
        ok = operation["responses"]["200"]
        files = any(media_type in FILE_MEDIA_TYPES for media_type in ok.get("content", {}))
        etag = {"schema": {"type": "string"}, "description": "The answer's version (JSON answers only)."}
        ok.setdefault("headers", {})["ETag"] = {**etag, "required": not files} if not files else etag
        operation["responses"]["304"] = {
            "description": "Not modified: the ETag sent in If-None-Match is still current.",
            "headers": {"ETag": {**etag, "required": True}},
        }

    def _success_description(self, status: str, response: dict[str, Any]) -> str:
        if status == "204":
            return "Done; no body."
        key = self._key()
        names = self._model_names() if key in SUMMARIES or self.method != "GET" else None
        if names is None:
            # A computed answer or a custom read: what the view's (or action's) docstring says it gives.
            return self.get_summary() or "The answer."
        if status == "201":
            return f"Created: the new {names['singular']} as stored."
        if key == "list":
            files = any(media_type in FILE_MEDIA_TYPES for media_type in response.get("content", {}))
            return f"A page of {names['plural']}" + (" (with a file format: all of them, as a file)." if files else ".")
        if self.method == "GET":
            return f"The {names['singular']}."
        return f"The {names['singular']} as stored after the change."

    def _model_names(self) -> dict[str, str] | None:
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        if model is None:
            return None
        with translation.override(None):  # the names in the source, not the request's language
            return {"singular": str(model._meta.verbose_name), "plural": str(model._meta.verbose_name_plural)}

    def get_summary(self) -> str | None:
        """The action's own docstring; else "List workers", "Edit a target" ...; else the view's."""
        key = self._key()
        template = SUMMARIES.get(key)
        names = self._model_names()
        if template is not None and names is not None:
            article = "an" if names["singular"][:1] in "aeiou" else "a"
            return template.format(article=article, **names)
        doc = getattr(getattr(self.view, key, None), "__doc__", None) or self.view.__class__.__doc__
        return first_sentence(doc) if doc else None


def postprocess_rate_limit_headers(
    result: dict[str, Any], generator: SchemaGenerator, request: Request | None, public: bool
) -> dict[str, Any]:
    """The rate-limit headers, described once (components.headers) for every answer to refer to."""
    result.setdefault("components", {})["headers"] = RATE_LIMIT_HEADERS
    return result

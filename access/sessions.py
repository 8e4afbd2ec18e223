"""Sessions in the database, as Django keeps them, read with one hand-written statement.

A signed-in page asks for its session on every request. Compiling the ORM's query for it costs
more than running it; the statement here is made once per process. For a reading request
(GET) the data version goes along in the same round trip (access.context): a page of figures
reads it before any of its data anyway, and the session is read first; so does the primary's
WAL position when a replica is configured (core.routing). Writing, rotating and
deleting sessions stay Django's own.

Settings: `SESSION_ENGINE = "access.sessions"`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from core.data_version import version_statement, versions_of
from core.db import Statement, checking_the_connection, fetch_along
from core.routing import position_read, position_statement

from .context import request_context

# Per database alias: the statement that reads one unexpired session's data.
_statements: dict[str, str] = {}


def _statement(alias: str, model: Any) -> str:
    statement = _statements.get(alias)
    if statement is None:
        meta, qn = model._meta, connections[alias].ops.quote_name
        statement = _statements[alias] = (
            f"SELECT {qn(meta.get_field('session_data').column)} FROM {qn(meta.db_table)} "
            f"WHERE {qn(meta.get_field('session_key').column)} = %s "
            f"AND {qn(meta.get_field('expire_date').column)} > %s"
        )
    return statement


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if key is None:
            return None
        alias = router.db_for_read(self.model)
        now = connections[alias].ops.adapt_datetimefield_value(timezone.now())
        context = request_context()
        along: list[Statement] = []
        if context is not None and context.reading and context.versions is None:
            along.append(version_statement())
        # With a replica, the primary's position too, after the version (core.routing).
        if (position := position_statement()) is not None:
            along.append(position)
        # A signed-in request's first statement: it also tells whether the connection still
        # works, instead of a statement of Django's before it (core.db).
        rows, returned = checking_the_connection(
            alias, lambda: fetch_along(alias, (_statement(alias, self.model), [key, now]), along)
        )
        if position is not None:
            position_read(returned.pop())
        if along and returned and returned[0]:
            context.versions = versions_of(returned[0])  # type: ignore[union-attr]
        if not rows:
            self._session_key = None
            return None
        return self.model(session_key=key, session_data=rows[0][0])

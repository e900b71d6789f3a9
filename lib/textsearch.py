"""Accent-insensitive, typo-tolerant matching of Vietnamese text, on PostgreSQL and on SQLite.

People type names without their marks ("nguyen van" for "Nguyễn Văn") and with slips ("nguyen vna").
Both sides are *folded* — lower case, every diacritic removed, "đ" read as "d" — and compared:

- on PostgreSQL the fold is ``lower(immutable_unaccent(x))`` (the ``unaccent`` extension behind an
  IMMUTABLE wrapper, created with ``pg_trgm`` by ``cells/migrations/0012_search_extensions.py``, which
  also puts trigram GIN indexes on the folded member and organisation names). A row matches when it
  contains every word typed (``LIKE``) or when its text is word-similar to the query (pg_trgm's
  ``%>`` operator, ``word_similarity`` above ``pg_trgm.word_similarity_threshold``, 0.6 by default):
  that is what lets a typo through. Rows are ranked by that similarity.
- on SQLite (``make run`` without a database server) the same fold runs as a Python function
  registered on each connection (``portal_fold``); only the "contains every word" half exists there.

``fold`` is the Python fold; the database's must agree with it on Vietnamese letters, which both reduce to
the 26 Latin letters (tests/test_textsearch.py checks the two on the same strings on PostgreSQL).
"""

import unicodedata

from django.db import connection as default_connection
from django.db.models import BooleanField, Case, F, FloatField, Func, Q, QuerySet, TextField, Value, When

SQLITE_FOLD_FUNCTION = "portal_fold"
POSTGRES_FOLD_FUNCTION = "immutable_unaccent"
# The shortest query worth sending: one letter matches nearly every name.
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100


def fold(text: str | None) -> str:
    """``text`` in lower case without diacritics, "đ" as "d", runs of spaces as one: "Nguyễn  Văn Đạt" → "nguyen van dat"."""
    if not text:
        return ""
    text = str(text).replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def _sqlite_fold(value):
    return None if value is None else fold(value)


def register_sqlite_functions(sender=None, connection=None, **kwargs):
    """``connection_created`` receiver: give every SQLite connection the ``portal_fold`` function."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FOLD_FUNCTION, 1, _sqlite_fold, deterministic=True)


def has_trigrams(connection=None) -> bool:
    """Whether the typo-tolerant half is available (PostgreSQL, where the migration added pg_trgm)."""
    return (connection or default_connection).vendor == "postgresql"


class Folded(Func):
    """The folded form of a text column, in SQL: the expression the trigram indexes are built on."""

    function = SQLITE_FOLD_FUNCTION
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        # Exactly the indexed expression (lower(immutable_unaccent(col))), or the index is not used.
        return self.as_sql(
            compiler, connection, template=f"lower({POSTGRES_FOLD_FUNCTION}(%(expressions)s))", **extra_context
        )


class _WordSimilar(Func):
    """``text %> query``: the query is word-similar to a stretch of the text (pg_trgm, index-backed)."""

    arg_joiner = " %%> "
    template = "(%(expressions)s)"
    output_field = BooleanField()


class _WordSimilarity(Func):
    function = "word_similarity"
    output_field = FloatField()


def words_of(query: str) -> list[str]:
    return fold(query).split()


# Shorter words match only at the start of a word: "an" finds "Nguyễn Văn An" and "Anh", not every "Văn".
# That also keeps them on the trigram index, which cannot serve a two-letter LIKE '%an%'.
WORD_START_ONLY_BELOW = 3


def word_in(text: str, word: str) -> Q:
    """The folded column ``text`` holds ``word``: anywhere for three letters or more, else at a word's start."""
    if len(word) >= WORD_START_ONLY_BELOW:
        return Q(**{f"{text}__contains": word})
    return Q(**{f"{text}__startswith": word}) | Q(**{f"{text}__contains": f" {word}"})


def matching(queryset: QuerySet, query: str, source, *, rank: str = "match_rank") -> QuerySet:
    """The rows of ``queryset`` whose ``source`` (a field name, or an expression) matches ``query``, each
    with its score aliased as ``rank`` (higher is better): order by ``-<rank>`` to rank them.

    A row matches when its folded text contains every folded word of the query (``word_in``); the score
    is 2 when the text starts with the whole query, 1.5 when it contains it, 1 otherwise. Only when no
    row matches so, on PostgreSQL, the query is taken for a typo: the rows it is word-similar to (pg_trgm
    ``%>``), scored by that similarity (0–1). Trigram similarity costs far more per row than LIKE, so the
    common case (the words are right) never pays it; the check costs one EXISTS query.
    """
    words = words_of(query)
    if not words:
        return queryset.none()
    text = f"{rank}_text"
    queryset = queryset.alias(**{text: Folded(F(source) if isinstance(source, str) else source)})
    phrase = " ".join(words)
    contains_all = Q()
    for word in words:
        contains_all &= word_in(text, word)
    exact = queryset.filter(contains_all).alias(
        **{
            rank: Case(
                When(**{f"{text}__startswith": phrase}, then=Value(2.0)),
                When(**{f"{text}__contains": phrase}, then=Value(1.5)),
                default=Value(1.0),
                output_field=FloatField(),
            )
        }
    )
    if not has_trigrams() or exact.exists():
        return exact
    return queryset.filter(_WordSimilar(F(text), Value(phrase))).alias(
        **{rank: _WordSimilarity(Value(phrase), F(text))}
    )

"""The measures a scheme's criteria read, one registration each (issue #16, item 4).

A measure is what a criterion's ``measure`` names (scoring/schemes.py, ``Criterion.measure``): its code,
its Vietnamese label, the rule it comes from, the data it needs and a function from that data to its
value and evidence. The data are named loaders, so measures reading the same records share one query
(the attendance counts serve the attendance rate, the unexcused absences and the speakers' share).

The shipped measures and their loaders are in scoring/facts.py; ``scoring.selectors.meeting_facts``
computes every registered measure of a meeting through one ``Loaded`` — each loader runs at most once,
on first use, so a loader that only one branch of a measure reads costs nothing on the other branches.
A criterion naming a code nobody registered raises ``UnknownMeasure`` (``get``), never a silent 0.

This module imports no model and makes no query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from meetings.models import Meeting

# Where the shipped measures are registered (named in the errors).
HOME = "scoring/facts.py"


class UnknownMeasure(LookupError):
    """A criterion (or a caller) names a measure no module registered."""

    def __init__(self, code: str, *, where: str = ""):
        self.code = code
        context = f" ({where})" if where else ""
        super().__init__(
            f'Unknown measure "{code}"{context}: measures are registered in {HOME} with '
            f"scoring.measures.register; registered: {', '.join(MEASURES) or '(none)'}."
        )


class UnknownLoader(LookupError):
    """A measure needs a loader nobody registered, or reads one it did not declare."""


@dataclass(frozen=True)
class Loader:
    """A named read of a meeting's records, shared by the measures that need it."""

    name: str
    load: Callable[[Meeting], Any]


@dataclass(frozen=True)
class Measure:
    """One measure: ``compute(meeting, data)`` returns ``(value, evidence)``; ``data[name]`` is the value of
    a loader named in ``needs``. A value of None means the records cannot tell (left to the secretary)."""

    code: str
    label: str | _StrPromise
    source: str
    needs: tuple[str, ...]
    compute: Callable[[Meeting, Mapping[str, Any]], tuple[Any, str]]


LOADERS: dict[str, Loader] = {}
MEASURES: dict[str, Measure] = {}


def register_loader(loader: Loader) -> Loader:
    LOADERS[loader.name] = loader
    return loader


def unregister_loader(name: str) -> None:
    LOADERS.pop(name, None)


def register(measure: Measure) -> Measure:
    """Register (or replace) a measure; its loaders must be registered first."""
    missing = [name for name in measure.needs if name not in LOADERS]
    if missing:
        raise UnknownLoader(
            f'Measure "{measure.code}" needs unregistered loaders {missing}; loaders are registered with '
            f"scoring.measures.register_loader (shipped ones in {HOME}): {', '.join(LOADERS) or '(none)'}."
        )
    MEASURES[measure.code] = measure
    return measure


def unregister(code: str) -> None:
    MEASURES.pop(code, None)


def loader(name: str) -> Callable[[Callable[[Meeting], Any]], Callable[[Meeting], Any]]:
    """Decorator: register the function as the loader ``name``."""

    def decorate(function: Callable[[Meeting], Any]) -> Callable[[Meeting], Any]:
        register_loader(Loader(name, function))
        return function

    return decorate


def measure(
    code: str, *, label: str | _StrPromise, source: str, needs: tuple[str, ...] = ()
) -> Callable[[Callable[..., tuple[Any, str]]], Callable[..., tuple[Any, str]]]:
    """Decorator: register the function as the measure ``code``."""

    def decorate(function: Callable[..., tuple[Any, str]]) -> Callable[..., tuple[Any, str]]:
        register(Measure(code, label, source, tuple(needs), function))
        return function

    return decorate


def get(code: str, *, where: str = "") -> Measure:
    try:
        return MEASURES[code]
    except KeyError:
        raise UnknownMeasure(code, where=where) from None


def labels() -> dict[str, str | _StrPromise]:
    """Code → label of every registered measure, in registration order."""
    return {code: item.label for code, item in MEASURES.items()}


class Loaded:
    """The loaders' values for one meeting: each loader runs on first use, and only once."""

    def __init__(self, meeting: Meeting):
        self.meeting = meeting
        self._values: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            try:
                load = LOADERS[name].load
            except KeyError:
                raise UnknownLoader(f'No loader "{name}" is registered (see {HOME}).') from None
            self._values[name] = load(self.meeting)
        return self._values[name]

    def for_measure(self, item: Measure) -> Mapping[str, Any]:
        return _Needs(self, item)


class _Needs(Mapping):
    """What one measure sees of the loaded data: the loaders it declares, nothing else."""

    def __init__(self, loaded: Loaded, item: Measure):
        self._loaded = loaded
        self._item = item

    def __getitem__(self, name: str) -> Any:
        if name not in self._item.needs:
            raise UnknownLoader(f'Measure "{self._item.code}" reads loader "{name}" without declaring it in needs.')
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._item.needs)

    def __len__(self) -> int:
        return len(self._item.needs)


def compute(meeting: Meeting, codes: tuple[str, ...] | None = None) -> dict[str, dict]:
    """``{code: {"value", "evidence"}}`` for the measures ``codes`` (every registered one by default)."""
    loaded = Loaded(meeting)
    facts: dict[str, dict] = {}
    for code in MEASURES if codes is None else codes:
        item = get(code)
        value, evidence = item.compute(meeting, loaded.for_measure(item))
        facts[code] = {"value": value, "evidence": evidence}
    return facts

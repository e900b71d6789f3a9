"""The checks on an uploaded file, below every app: its size, and that its content (not its name) is of a
type the portal takes. A service calls one of the two checks and lets its ValidationError (on "file") reach
the form: ``check_named`` starts from the name's extension (a meeting's documents), ``check_content``
from the type the content shows (a cell's required documents)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

HEAD_BYTES = 8192  # enough for every signature filetype knows


def sniff(file):
    """The type ``file``'s first bytes show (filetype's kind: .mime, .extension), or None; the file is rewound."""
    import filetype

    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    return filetype.guess(head)


def extension(name: str | None) -> str:
    """ "Biên bản.PDF" → "pdf"; "" without a dot."""
    name = name or ""
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_named(file, *, allowed: dict[str, set[str]], max_bytes: int, too_large: str, not_allowed: str) -> str:
    """The name's extension must be one of ``allowed`` and the content one of the extensions it maps to;
    returns the extension. ``too_large`` and ``not_allowed`` are the messages of the first two refusals."""
    if file.size > max_bytes:
        raise ValidationError({"file": too_large})
    named = extension(file.name)
    if named not in allowed:
        raise ValidationError({"file": not_allowed})
    guessed = sniff(file)
    if guessed is None or guessed.extension not in allowed[named]:
        raise ValidationError(
            {"file": _("Nội dung tệp không đúng định dạng %(ext)s như tên tệp.") % {"ext": named.upper()}}
        )
    return named


def check_content(file, *, kinds: dict[str, tuple[str, ...]], max_bytes: int, too_large: str, not_allowed: str) -> str:
    """The content's type must be one of ``kinds`` (mime → the name endings it may carry) and the name end
    in one of them; returns the mime type."""
    if file.size > max_bytes:
        raise ValidationError({"file": too_large})
    kind = sniff(file)
    name = (file.name or "").lower()
    if kind is None or kind.mime not in kinds:
        raise ValidationError({"file": not_allowed})
    if not name.endswith(kinds[kind.mime]):
        raise ValidationError(
            {
                "file": _("Nội dung tệp không đúng với tên tệp (%(name)s): tệp thực chất là %(kind)s.")
                % {"name": file.name, "kind": kind.extension.upper()}
            }
        )
    return kind.mime

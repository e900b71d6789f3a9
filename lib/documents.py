"""PDF rendering of the Party-format documents with WeasyPrint, below every app: the minutes, notices,
resolutions and score sheets (meetings, scoring), the annual report (reports) and the dues book (cells)
share it, the shipped font, templates/documents/_base.html and the Party heading every document opens
with (templates/documents/_heading.html, its name lines cut by lib.formatting.balanced_lines)."""

import contextlib
import gc
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.template.loader import render_to_string

if TYPE_CHECKING:
    from pypdf import PageObject

# WeasyPrint logs every layout step at INFO; keep the console for real problems.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def font_faces() -> str:
    """@font-face rules for the shipped Liberation Serif (every Vietnamese diacritic, the same on every machine)."""
    fonts = settings.BASE_DIR / "static" / "fonts"
    faces = []
    for style, weight, name in [
        ("normal", 400, "Regular"),
        ("normal", 700, "Bold"),
        ("italic", 400, "Italic"),
        ("italic", 700, "BoldItalic"),
    ]:
        path = (fonts / f"LiberationSerif-{name}.ttf").as_uri()
        faces.append(
            f'@font-face {{ font-family: "Liberation Serif"; font-style: {style}; font-weight: {weight}; '
            f'src: url("{path}"); }}'
        )
    return "\n".join(faces)


@contextlib.contextmanager
def no_cyclic_gc():
    """Python's cyclic garbage collector paused for one rendering (issue #20). WeasyPrint allocates a box,
    a style and a Pango layout per element: the 18-page annual report at province set off some 900
    collections, the older generations walking the whole growing heap, about a sixth of the CPU time.
    Reference counting still frees what it can; the cycles left are collected once the collector is back.
    Left as it was if it was already off (another rendering in another thread, or the caller)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def render_pdf(template_name: str, context: dict) -> bytes:
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_to_string(template_name, {**context, "font_faces": font_faces()})
    with no_cyclic_gc():
        return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(font_config=FontConfiguration())


# --- digital signature (issue #14) ------------------------------------------------------------


def signing_configured() -> bool:
    """A PKCS#12 certificate and its password are set (PDF_SIGNING_P12, PDF_SIGNING_PASSWORD)."""
    return bool(getattr(settings, "PDF_SIGNING_P12", ""))


def _signer():
    from pyhanko.sign import signers

    password = getattr(settings, "PDF_SIGNING_PASSWORD", "")
    return signers.SimpleSigner.load_pkcs12(
        pfx_file=str(settings.PDF_SIGNING_P12), passphrase=password.encode() if password else None
    )


def sign_pdf(data: bytes, *, reason: str = "") -> tuple[bytes, str]:
    """``data`` signed in PAdES form (baseline B, SHA-256) with the configured certificate, and the
    certificate's subject. Without a certificate the PDF is returned as it is, with an empty subject."""
    if not signing_configured():
        return data, ""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = _signer()
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(
        field_name="ChuKySo", md_algorithm="sha256", reason=reason or None, subfilter=fields.SigSeedSubFilter.PADES
    )
    signed = signers.sign_pdf(writer, meta, signer=signer)
    return signed.getvalue(), signer.signing_cert.subject.human_friendly


# --- the reader's watermark on a confidential document (issue #17) ------------------------------


def pdf_check_readable(data: bytes) -> int:
    """The number of pages of ``data``, or ValueError when pypdf cannot read it (damaged, or locked with a
    password): such a file cannot carry a watermark."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValueError("encrypted")
        return len(reader.pages)
    except (PyPdfError, OSError, KeyError, TypeError) as error:
        raise ValueError(str(error)) from error


def _stamp_page(text: str, width: float, height: float) -> "PageObject":
    """A one-page PDF of ``width`` × ``height`` points with ``text`` as the watermark (WeasyPrint, the shipped font)."""
    import io

    from pypdf import PdfReader

    pdf = render_pdf("documents/watermark.html", {"text": text, "width": f"{width:.2f}", "height": f"{height:.2f}"})
    return PdfReader(io.BytesIO(pdf)).pages[0]


def watermark_pdf(data: bytes, text: str) -> bytes:
    """``data`` with ``text`` stamped over every page, in the file itself (not a layer a viewer could hide):
    across the middle and along the top and bottom. One stamp is rendered per page size."""
    import io

    from pypdf import PageObject, PdfReader, PdfWriter, Transformation

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    stamps: dict[tuple[float, float], PageObject] = {}
    for page in writer.pages:
        page.transfer_rotation_to_content()
        box = page.mediabox
        size = (round(float(box.width), 2), round(float(box.height), 2))
        if size not in stamps:
            stamps[size] = _stamp_page(text, *size)
        page.merge_transformed_page(stamps[size], Transformation().translate(float(box.left), float(box.bottom)))
    writer.compress_identical_objects()
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()

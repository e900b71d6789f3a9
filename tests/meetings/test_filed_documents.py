"""Adopted documents are filed, verifiable and, with a certificate, digitally signed (issue #14)."""

import datetime
import io
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from meetings import documents, services
from meetings.models import FiledDocument, Resolution

from .conftest import hold

pytestmark = pytest.mark.django_db


@pytest.fixture
def adopted(meeting):
    meeting = hold(meeting)
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Kết luận tháng")
    return services.meeting_adopt_minutes(meeting=meeting)


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "filed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_adoption_files_the_minutes_and_the_conclusion_with_a_code_in_the_footer(
    adopted, tmp_path, pdftotext_available
):
    filed = {document.kind: document for document in adopted.filed_documents.all()}
    assert set(filed) == {FiledDocument.Kind.MINUTES, FiledDocument.Kind.RESOLUTION}
    minutes = filed[FiledDocument.Kind.MINUTES]
    assert minutes.reference == adopted.minutes_reference == "01-BB/CB"
    assert filed[FiledDocument.Kind.RESOLUTION].reference == "01-KL/CB"
    assert len(minutes.code) == 9 and minutes.code[4] == "-" and not minutes.signed
    data = minutes.file.read()
    assert documents.sha256_of(data) == minutes.sha256
    text = _text(data, tmp_path)
    assert f"Mã xác minh {minutes.code}" in text and f"/xac-minh/{minutes.code}/" in text


def test_the_filed_pdf_is_served_as_filed_and_later_changes_do_not_touch_it(client_for, people, adopted):
    minutes = adopted.filed_documents.get(kind=FiledDocument.Kind.MINUTES)
    response = client_for(people.secretary).get(reverse("meetings:minutes_pdf", args=[adopted.pk]))
    assert documents.sha256_of(response.content) == minutes.sha256
    # An amendment after adoption, a renamed cell: the filed minutes stay byte for byte as filed.
    services.amendment_add(meeting=adopted, reason="Sai chính tả", text="Sửa tên đồng chí")
    adopted.organisation.name = "Chi bộ Văn phòng (đổi tên)"
    adopted.organisation.save(update_fields=["name"])
    again = client_for(people.secretary).get(reverse("meetings:minutes_pdf", args=[adopted.pk]))
    assert again.content == response.content


def test_the_public_page_shows_the_filing_and_checks_an_upload(client, adopted):
    minutes = adopted.filed_documents.get(kind=FiledDocument.Kind.MINUTES)
    url = reverse("verify_document", args=[minutes.code.lower()])
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert minutes.sha256 in body and "01-BB/CB" in body and "Chi bộ Văn phòng" in body
    # Nothing personal: no member's name, not even the chair's.
    assert "Trần Thị Bí Thư" not in body and "Lê Văn Đảng Viên" not in body
    data = minutes.file.read()
    same = client.post(url, {"file": SimpleUploadedFile("bb.pdf", data, content_type="application/pdf")})
    assert "Khớp bản lưu" in same.content.decode()
    tampered = bytearray(data)
    tampered[len(tampered) // 2] ^= 0x01
    changed = client.post(url, {"file": SimpleUploadedFile("bb.pdf", bytes(tampered), content_type="application/pdf")})
    assert "Không khớp" in changed.content.decode()
    assert client.get(reverse("verify_document", args=["ZZZZ-ZZZZ"])).status_code == 404
    assert client.get(reverse("verify_lookup"), {"ma": minutes.code}).url == reverse(
        "verify_document", args=[minutes.code]
    )


def test_the_public_page_is_rate_limited(client, adopted, settings):
    from django.core.cache import cache

    settings.VERIFY_RATE_LIMIT = (5, 600)
    cache.clear()
    try:
        url = reverse("verify_lookup")
        assert [client.get(url).status_code for _ in range(6)] == [200] * 5 + [429]
    finally:
        cache.clear()


# --- digital signature ---------------------------------------------------------------------------------


def _test_ca(tmp_path):
    """A throw-away CA and a signing certificate issued by it, as a PKCS#12 file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(common):
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Đảng bộ Khối thử"),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("CA thử"))
        .issuer_name(name("CA thử"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("Chi bộ Văn phòng"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    p12 = tmp_path / "ky-so.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"chi-bo", key, cert, [ca], serialization.BestAvailableEncryption(b"mat-khau")
        )
    )
    return p12, ca.public_bytes(serialization.Encoding.DER)


def _validate(data: bytes, ca_der: bytes):
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(data))
    signature = reader.embedded_signatures[0]
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(ca_der)])
    return validate_pdf_signature(signature, context)


def test_with_a_certificate_adopted_documents_are_signed_and_a_changed_byte_fails_validation(
    meeting, settings, tmp_path
):
    p12, ca_der = _test_ca(tmp_path)
    settings.PDF_SIGNING_P12 = str(p12)
    settings.PDF_SIGNING_PASSWORD = "mat-khau"
    meeting = hold(meeting)
    services.resolution_set(meeting=meeting, kind=Resolution.Kind.CONCLUSION, text="Kết luận tháng")
    meeting = services.meeting_adopt_minutes(meeting=meeting)
    minutes = meeting.filed_documents.get(kind=FiledDocument.Kind.MINUTES)
    assert minutes.signed and "Chi bộ Văn phòng" in minutes.signer_subject
    data = minutes.file.read()
    status = _validate(data, ca_der)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    # One byte changed inside the signed range: the signature no longer validates.
    tampered = bytearray(data)
    tampered[200] ^= 0x01
    assert not _validate(bytes(tampered), ca_der).bottom_line


def test_without_a_certificate_documents_are_filed_unsigned_and_the_page_says_so(client_for, people, adopted):
    assert not adopted.filed_documents.filter(signed=True).exists()
    page = client_for(people.secretary).get(reverse("meetings:minutes", args=[adopted.pk])).content.decode()
    assert "chưa ký số" in page

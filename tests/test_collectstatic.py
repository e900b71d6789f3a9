"""Production static files: collectstatic with the manifest storage (what DEBUG off uses) succeeds.

A vendored file that points at a source map we do not ship makes the manifest storage fail, and with
it a deployment; this collects every static file the way production does.
"""

from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_collectstatic_with_the_production_storage_succeeds(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=PRODUCTION_STATIC):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/bootstrap/bootstrap.bundle.min.js" in manifest and "css/portal.css" in manifest
    assert list(tmp_path.glob("fonts/LiberationSerif-*.ttf"))

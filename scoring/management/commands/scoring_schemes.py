"""Export or import meeting-quality scoring schemes as JSON (or YAML when PyYAML is installed).

    python manage.py scoring_schemes export FILE [--code CODE]   # all schemes, or one
    python manage.py scoring_schemes import FILE                 # one scheme or a list of schemes

Importing a scheme with an existing code replaces its criteria and raises its version; meetings
already scored keep the frozen copy they were scored with.
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from scoring import services
from scoring.models import ScoringScheme


def _is_yaml(path: Path) -> bool:
    return path.suffix.lower() in (".yaml", ".yml")


def _yaml():
    try:
        import yaml
    except ImportError:
        raise CommandError("Tệp YAML cần gói PyYAML; hãy dùng JSON hoặc cài PyYAML.") from None
    return yaml


class Command(BaseCommand):
    help = "Xuất hoặc nhập bộ tiêu chí chấm điểm sinh hoạt chi bộ (JSON/YAML)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "import"])
        parser.add_argument("file", help="Đường dẫn tệp; '-' là đầu ra chuẩn khi xuất.")
        parser.add_argument("--code", help="Chỉ xuất bộ tiêu chí có mã này.")

    def handle(self, *args, action, file, code=None, **options):
        if action == "export":
            self._export(file, code)
        else:
            self._import(Path(file))

    def _export(self, file: str, code: str | None):
        schemes = ScoringScheme.objects.order_by("effective_from", "code")
        if code:
            schemes = schemes.filter(code=code)
            if not schemes.exists():
                raise CommandError(f'Không có bộ tiêu chí mã "{code}".')
        data = [services.scheme_export(scheme=scheme) for scheme in schemes]
        payload = data[0] if code else data
        if file != "-" and _is_yaml(Path(file)):
            text = _yaml().safe_dump(payload, allow_unicode=True, sort_keys=False)
        else:
            text = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
        if file == "-":
            self.stdout.write(text, ending="")
        else:
            Path(file).write_text(text, encoding="utf-8")
            self.stdout.write(self.style.SUCCESS(f"Đã xuất {len(data)} bộ tiêu chí ra {file}."))

    def _import(self, path: Path):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Không đọc được tệp {path}: {error}") from error
        try:
            data = _yaml().safe_load(text) if _is_yaml(path) else json.loads(text)
        except ValueError as error:
            raise CommandError(f"Tệp {path} không đúng định dạng: {error}") from error
        items = data if isinstance(data, list) else [data]
        try:
            with transaction.atomic():
                for item in items:
                    scheme, created, changed = services.scheme_import(data=item, by=None)
                    verb = "Đã tạo" if created else ("Đã cập nhật" if changed else "Không thay đổi")
                    self.stdout.write(f"{verb}: {scheme.code} (phiên bản {scheme.version})")
        except ValidationError as error:
            raise CommandError("Bộ tiêu chí không hợp lệ, không ghi gì:\n" + "\n".join(error.messages)) from error

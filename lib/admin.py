"""Vietnamese headers in the Django admin for fields declared without a label.

``column("meeting", _("Buổi sinh hoạt"))`` is a list column showing the field, sortable by it;
``("scheme", titled(_("Bộ tiêu chí")))`` in ``list_filter`` is the filter Django would choose for the
field, under that title. (Giving the field a verbose_name is better; these serve where a migration
would only rename a label.)
"""

from django.contrib import admin


def column(field: str, label, *, ordering: str | None = None):
    def show(obj):
        return getattr(obj, field)

    show.__name__ = f"column_{field}"
    return admin.display(description=label, ordering=ordering if ordering is not None else field)(show)


def titled(title):
    class TitledFilter(admin.FieldListFilter):
        def __new__(cls, field, request, params, model, model_admin, field_path):
            chosen = admin.FieldListFilter.create(field, request, params, model, model_admin, field_path)
            chosen.title = title
            return chosen

    return TitledFilter

"""Numbers as the dashboards, exports and reports write them."""


from django.utils.formats import number_format


def fmt_int(value) -> str:
    return number_format(int(value or 0), 0, force_grouping=True)


def fmt_percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{number_format(round(value, 1), 1, force_grouping=True)} %"

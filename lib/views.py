"""The form cycle every write page shares: GET shows the form; POST validates it, calls the service, and
either redirects with a success message or shows the service's errors next to the fields it names."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from .forms import add_service_errors


def run_service(request, form, action, *, success, redirect_to):
    """Call ``action(form.cleaned_data)``; on success a message and a redirect, on a ValidationError the
    errors on the form and None (the service's transaction has written nothing)."""
    try:
        action(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    messages.success(request, success)
    return redirect(redirect_to)


def form_cycle(request, form, action, *, success, redirect_to, template: str, context: dict | None = None):
    """The whole GET/POST cycle of a form page rendered with ``template`` (``form`` and ``context`` in it)."""
    if request.method == "POST" and form.is_valid():
        response = run_service(request, form, action, success=success, redirect_to=redirect_to)
        if response is not None:
            return response
    return render(request, template, {"form": form, **(context or {})})

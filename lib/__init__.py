"""Foundation code that belongs to no domain (spreadsheet writing): below every app, imports none of them.

Not a Django app (nothing here has models, templates or settings), so it is not in INSTALLED_APPS.
"""

from tests.security.conftest import objects  # noqa: F401  (the backup tests' one object of every kind)

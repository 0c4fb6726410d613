"""Test-wide settings. Personas live in tests/personas.py (loaded as a plugin)."""

import pytest

pytest_plugins = ["tests.personas"]


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Argon2 costs ~125 ms a hash (stack-notes §6.4); tests check the production list separately.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    # Pages render {% static %} without a collected manifest; the run command collects for real.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True


@pytest.fixture(autouse=True)
def _eager_tasks_propagate(settings):
    # Tests surface task failures instead of swallowing them (house-style convention 9).
    from ebhxh.celery import app

    app.conf.task_eager_propagates = True
    yield
    app.conf.task_eager_propagates = False

"""ebhxh: electronic transaction gateway for BHXH, BHYT and BHTN."""

from ebhxh.celery import app as celery_app

__all__ = ["celery_app"]

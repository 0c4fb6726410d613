"""ebhxh: electronic transaction gateway for BHXH, BHYT and BHTN.

The Celery app is loaded by the web app's AppConfig.ready() (and found by `celery -A ebhxh` as
`ebhxh.celery`), not here, so the pure tools (the browser signing agent, the offline validators)
import `ebhxh.*` without starting Django or Celery.
"""

"""Outgoing e-mail (bilingual, after commit, through Celery), one-time e-mail codes, rate limits."""

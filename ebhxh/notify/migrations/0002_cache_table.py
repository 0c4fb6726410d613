"""Create the table of the embedded default cache (rate-limit counters), so `migrate` alone
leaves a working site. Idempotent, like `createcachetable`, which scripts/run also runs; nothing
is created when the cache is Redis (CACHE_REDIS_URL)."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=True)]

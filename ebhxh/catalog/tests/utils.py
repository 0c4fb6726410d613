"""Helpers shared by the catalogue tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from ebhxh.catalog import models as m
from ebhxh.catalog.services import DATA_DIR


def wipe_catalogues() -> None:
    """Delete every catalogue row, children before parents."""
    for model in (
        m.ProcedureForm,
        m.Procedure,
        m.Form,
        m.ChangeType,
        m.MinimumWage,
        m.ReferenceSalary,
        m.ContributionRate,
        m.IVanProvider,
        m.Ethnicity,
        m.Nationality,
        m.LegacyProvince,
    ):
        model.objects.all().delete()
    # The hierarchy constraint forbids a parentless child, so delete leaves first.
    for level in (m.Agency.Level.BASE, m.Agency.Level.PROVINCIAL, m.Agency.Level.CENTRAL):
        m.Agency.objects.filter(level=level).delete()
    m.Commune.objects.all().delete()
    m.Province.objects.all().delete()


def copy_data(tmp_path: Path) -> Path:
    """A writable copy of the data files."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target

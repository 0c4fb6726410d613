#!/usr/bin/env python
"""Django's manage.py; the same as the `ebhxh` console script."""

from ebhxh.cli import main

if __name__ == "__main__":
    main()

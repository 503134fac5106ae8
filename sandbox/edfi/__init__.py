"""The sandbox district served as an Ed-Fi ODS/API (Data Standard 5), under the ``/edfi`` base path."""

from truancy.sandbox.edfi.api import EDFI_BASE, edfi_router

__all__ = ["EDFI_BASE", "edfi_router"]

"""Ed-Fi plugin: rosters and attendance from an ODS/API with change queries, interventions written back."""

from truancy.plugins.edfi.plugin import EdFiPlugin

__all__ = ["EdFiPlugin"]

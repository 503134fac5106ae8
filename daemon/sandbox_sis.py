"""The SIS products the built-in sandbox can stand in for, asked of the plugins, never named here.

A plugin that offers ``sandbox_settings`` can be demonstrated and smoke-tested against the sandbox:
``truancy sandbox serve --sis X --write-config FILE`` and ``truancy demo --sis X``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from truancy.plugins.base import Capabilities, PluginConfigError, SandboxFacts, load_plugin, offering


def sis_choices() -> type[StrEnum]:
    """The installed plugins with sandbox settings, as the ``--sis`` choices (PowerSchool first)."""
    names = sorted(offering("sandbox_settings"), key=lambda name: (name != "powerschool", name))
    return StrEnum("SandboxSis", {name: name for name in names})  # type: ignore[return-value]


class SandboxSis:
    """One plugin's sandbox capabilities: the ``[sis]`` section, page fragments and student links."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.capabilities: Capabilities = load_plugin(name).capabilities()
        if self.capabilities.sandbox_settings is None:
            raise PluginConfigError(f"plugin {name!r} offers no sandbox settings")

    def section(self, facts: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """(plugin name, its ``[sis]`` table) for a daemon synced against the sandbox ``facts`` describe."""
        settings = self.capabilities.sandbox_settings
        assert settings is not None
        return self.name, settings(SandboxFacts(**facts))

    @property
    def fragments(self) -> Path | None:
        """The plugin bundle's page fragments, which the sandbox inserts into its SIS pages."""
        bundle = self.capabilities.bundle
        return bundle.web_root if bundle is not None else None

    def student_page(self, url: str, sis_ref: str) -> str | None:
        page = self.capabilities.student_page
        return page(url, sis_ref) if page is not None else None

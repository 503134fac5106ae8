"""PowerSchool SIS plugin: OneRoster 1.2 rosters, PowerQuery attendance, extension-table write-back."""

from truancy.plugins.powerschool.plugin import PowerSchoolPlugin

__all__ = ["PowerSchoolPlugin"]

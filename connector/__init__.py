"""Protocol clients for student information systems: HTTP session, OAuth, OneRoster, PowerSchool.

No school logic lives here, and nothing else of truancy-sync is imported.
"""

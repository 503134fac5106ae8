"""What families read: letters from templates and reviewed catalogs, rendered to PDF. Pure rendering:
files in, bytes out; no network, no store."""

"""Orchestrations over the pieces of the core, the top layer below the command line and the dashboard: the
demo (``demo``), the injection scan (``injection``) and the CMS injection benchmark (``benchmark``)."""

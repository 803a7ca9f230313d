"""`python -m anomalyscope ...`: the command line (the same as the `anomalyscope` console script)."""

from anomalyscope.core.cli import main

raise SystemExit(main())

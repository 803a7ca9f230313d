from anomalyscope.core.cli import main

raise SystemExit(main())

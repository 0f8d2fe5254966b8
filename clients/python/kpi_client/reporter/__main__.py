from kpi_client.reporter.cli import main

raise SystemExit(main())

from latentsearch.cli import main

raise SystemExit(main())

"""`python -m banc` is the same as the `banc` command (handy on Windows without the script)."""

from banc.cli import main

raise SystemExit(main())

"""`make bench`: every benchmark in turn; each prints its figures next to its baseline."""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

ORDER = ["documents", "resumable", "registry", "authorizations", "checkpoint_app", "audit",
         "audit_tree", "messages", "request_cost", "console", "load"]


def main() -> int:
    wanted = sys.argv[1:] or ORDER
    here = Path(__file__).parent
    for name in wanted:
        if not (here / f"{name}.py").exists():
            print(f"bench: no benchmark named {name}", file=sys.stderr)
            return 2
        print(f"\n=== bench.{name} ===", flush=True)
        runpy.run_module(f"bench.{name}", run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())

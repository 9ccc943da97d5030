"""Dispatch of personalised messages (issue 18), end to end: bench/dispatch.py's personalised
cases, beside the same cases with one plain text, in one run.

    .venv/bin/python bench/personal_dispatch.py [--kwtsms 100000] [--isms 100000]

KwtSMS: 10 distinct texts over `--kwtsms` recipients, one worker (grouping: one request per text
and batch of 200). ISMS: every text distinct, two workers. The plain cases of the same run are
the reference (a personalised send should cost no more than a plain one once rendered), and
dispatch.py's floor (bulk UPDATE to submitted) is printed too. JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kwtsms", type=int, default=100_000)
    parser.add_argument("--isms", type=int, default=100_000)
    args = parser.parse_args()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "dispatch.py"),
            "--cases",
            "kwtsms,isms",
            "--personal",
            "--kwtsms",
            str(args.kwtsms),
            "--isms",
            str(args.isms),
            "--isms-workers",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    output = done.stdout
    print(json.dumps(json.loads(output[output.index("{") :]), indent=2))


if __name__ == "__main__":
    main()

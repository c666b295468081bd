"""Contract tooling: `python -m atelier_schemas json-schema|compatibility|release FOLDER`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .compatibility import BreakingChanges, check, release
from .json_schemas import write_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atelier_schemas", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("json-schema", help="write the JSON Schema of every type into FOLDER")
    commands.add_parser("compatibility", help="compare the models with the released schemas in FOLDER")
    commands.add_parser("release", help="make the models' schemas the released ones in FOLDER")
    for command in commands.choices.values():
        command.add_argument("folder", type=Path)
    args = parser.parse_args(argv)

    if args.command == "json-schema":
        changed = write_files(args.folder)
        print(f"{len(changed)} JSON Schema file(s) updated in {args.folder}")
        return 0
    if args.command == "compatibility":
        problems = check(args.folder)
        print("\n".join(problems) or f"every type is compatible with its release in {args.folder}")
        return 1 if problems else 0
    try:
        changed = release(args.folder)
    except BreakingChanges as exc:
        print(f"not released:\n{exc}", file=sys.stderr)
        return 1
    print(f"released: {', '.join(changed) or 'nothing new'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Instructions per call of a function, from a callgrind profile.

    python3 bench/instructions.py callgrind.out 'requests::send::\\{\\{closure\\}\\}'

Sums the inclusive cost (Ir) and the count of every call into a function whose name matches
the pattern, from callers that do not match it themselves, and prints cost / calls. The
`requests` bench answers each in-memory request in one poll of its `send` future, so for
those requests this is the server's instructions per request. The counts stay within about
2% from run to run for the same binary, whatever else the machine is doing.
"""

import re
import sys


def per_call(path: str, pattern: str) -> tuple[int, int]:
    wanted = re.compile(pattern)
    names: dict[str, str] = {}
    caller = callee = None
    pending_calls = None
    calls = cost = 0

    def resolve(rest: str) -> str:
        # Name compression: "(id) name" the first time, "(id)" after.
        m = re.match(r"\((\d+)\)(?: (.*))?$", rest)
        if not m:
            return rest
        ident, name = m.groups()
        if name is not None:
            names[ident] = name
        return names.get(ident, "")

    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            line = line.rstrip("\n")
            if line.startswith("fn="):
                caller = resolve(line[3:])
            elif line.startswith("cfn="):
                callee = resolve(line[4:])
            elif line.startswith("calls="):
                pending_calls = int(line[6:].split()[0])
            elif pending_calls is not None:
                # The line after `calls=` holds the call's position and inclusive cost.
                fields = line.split()
                if (
                    callee
                    and wanted.search(callee)
                    and not (caller and wanted.search(caller))
                    and len(fields) > 1
                ):
                    calls += pending_calls
                    cost += int(fields[1])
                pending_calls = None
    return cost, calls


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    cost, calls = per_call(sys.argv[1], sys.argv[2])
    if calls == 0:
        print(f"no calls to a function matching {sys.argv[2]!r}", file=sys.stderr)
        return 1
    print(f"{cost / calls:.0f} instructions per call ({calls} calls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command-line tweaks applied before typer parses: ``--home`` is the root's option, yet the README says every
command takes it, so ``zeroloop run X --home D`` must mean ``zeroloop --home D run X``."""

from __future__ import annotations

HOME = "--home"


def hoist_home(argv: list[str]) -> list[str]:
    """``argv`` (without the program name) with every ``--home D`` / ``--home=D`` moved to the front.

    Arguments after ``--`` are left alone: they are operands, not options.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == HOME and i + 1 < len(argv):
            front.extend(argv[i : i + 2])
            i += 2
            continue
        if arg.startswith(HOME + "="):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest

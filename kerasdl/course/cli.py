"""The `kerasdl` command: run notebooks in batch, check the environment, manage kernels."""

import argparse
import sys

from kerasdl import backend
from kerasdl.course import kernels
from kerasdl.errors import KerasdlError


def _kernels(args):
    names = backend.BACKENDS if args.backend == "all" else [backend.normalize(args.backend)]
    if args.action == "install":
        for path in kernels.install(names, user=args.user):
            if not args.quiet:
                print(f"installed {path}")
    elif args.action == "remove":
        removed = kernels.remove(names)
        print("removed " + ", ".join(removed) if removed else "no kerasdl kernels to remove")
    else:
        found = kernels.installed()
        if not found:
            print("no kerasdl kernels installed: run `kerasdl kernels install`")
        for kernel, folder in found.items():
            print(f"{kernel:<20} {folder}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="kerasdl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from kerasdl.course import doctor, evidence, runner

    runner.add_parser(commands)
    evidence.add_parser(commands)
    doctor.add_parser(commands)
    from kerasdl.course import exercises, grade_command

    exercises.add_parser(commands)
    grade_command.add_parser(commands)
    from kerasdl.course import speed

    speed.add_parser(commands)

    k = commands.add_parser("kernels", help="install, list or remove the per-backend Jupyter kernels")
    k.add_argument("action", choices=["install", "list", "remove"])
    k.add_argument("--backend", default="all", help="jax, torch, tensorflow or all (default)")
    k.add_argument(
        "--user", action="store_true", help="install into your user Jupyter folder instead of this environment"
    )
    k.add_argument("--quiet", action="store_true")
    k.set_defaults(func=_kernels)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KerasdlError as error:
        print(f"kerasdl: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file or folder that cannot be read or written: one line, no traceback
        print(f"kerasdl: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kerasdl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

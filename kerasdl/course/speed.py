"""`kerasdl bench`: time the course's recurrent and convolutional models on every backend (kerasdl.bench)."""

import json

from kerasdl import bench
from kerasdl.errors import KerasdlError


def _command(args):
    backends = None if args.backend == "all" else [part for part in args.backend.split(",") if part]
    cases = tuple(args.cases.split(",")) if args.cases else tuple(bench.CASES)
    try:
        rows = bench.run(
            backends,
            gpu=args.gpu,
            cases=cases,
            native=not args.no_native,
            units=args.units,
            batch_size=args.batch_size,
            sequence_length=args.sequence_length,
            steps=args.steps,
            repeats=args.repeats,
            timeout=args.timeout,
        )
    except ValueError as error:  # a bad option: one line, no traceback
        raise KerasdlError(str(error)) from None
    print(json.dumps(rows, indent=1) if args.json else bench.table(rows))
    return 1 if any("error" in row for row in rows) else 0


def add_parser(commands):
    """Add the `bench` command to the kerasdl command line."""
    cpu, gpu = bench.CPU_SIZES, bench.GPU_SIZES
    p = commands.add_parser(
        "bench",
        help="time training steps of LSTM, GRU and CNN models on each backend",
        description=bench.__doc__.split("\n\n")[0] + " Each backend runs in its own "
        "process, one after the other; native PyTorch runs the same models where installed.",
    )
    p.add_argument("--backend", default="all", help="jax, torch, tensorflow, a comma-separated list, or all (default)")
    p.add_argument(
        "--gpu",
        action="store_true",
        help="run on the GPU (default: the CPU, with GPUs hidden); a backend that sees no GPU says so",
    )
    p.add_argument("--cases", default="", help=f"comma-separated, from {', '.join(bench.CASES)} (default: all)")
    p.add_argument("--no-native", action="store_true", help="skip native PyTorch")
    p.add_argument("--units", type=int, help=f"recurrent units (default {cpu['units']} on CPU, {gpu['units']} on GPU)")
    p.add_argument(
        "--batch-size",
        type=int,
        help=f"sequences or images per step (default {cpu['batch_size']} on CPU, {gpu['batch_size']} on GPU)",
    )
    p.add_argument("--sequence-length", type=int, help=f"time steps (default {cpu['sequence_length']})")
    p.add_argument("--steps", type=int, default=3, help="training steps per timed round (default 3)")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds; the median is reported (default 3)")
    p.add_argument("--timeout", type=float, default=600, help="seconds allowed per backend (default 600)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=_command)

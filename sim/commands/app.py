"""``escalation app``: serve the students' web page (Mesa SolaraViz) on 127.0.0.1."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "app", help="serve the web page: change a parameter, watch escalation unfold",
        description="Serve the interactive page (Mesa SolaraViz) for a scenario on this machine. Open the printed "
                    "address in a browser; stop with Ctrl-C. Needs the 'app' extra: pip install -e '.[app]'.")
    p.add_argument("scenario", nargs="?", default="baseline", metavar="SCENARIO",
                   help="scenario file or name under scenarios/ (default: baseline)")
    p.add_argument("--port", type=int, default=None, help="port to listen on (default: sim.app.DEFAULT_PORT, 8765)")
    p.add_argument("--host", default=None, help="address to listen on (default: 127.0.0.1, this machine only)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from sim.errors import InputError

    if args.port is not None and not 1 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: not a port number (allowed: 1 to 65535)")
    try:
        from sim.app import serve
    except ImportError as err:  # the optional 'app' extra is missing
        raise InputError(f"the web page needs the 'app' extra ({err.name or err}); install it with: "
                         "pip install -e '.[app]'") from None
    options = {k: v for k, v in (("port", args.port), ("host", args.host)) if v is not None}
    serve(args.scenario, **options)
    return 0

"""``selectchat server``: its options, and turning them into a running server."""

import argparse
import os
import sys

from ..chat import Chat, ChatError, Settings, operator
from ..net.loop import BACKENDS, FD_SETSIZE
from .config import ServerConfig

EPILOG = f"""\
examples:
  selectchat server                          listen on 127.0.0.1:6667
  selectchat server --port 0                 take any free port (printed on the first line)
  selectchat server --room lobby:10 --room staff:5:s3cret --no-client-rooms
  selectchat server --host 0.0.0.0           accept connections from the classroom network
  selectchat server --port 0 --trace run.jsonl
                                             record the loop; then 'selectchat trace summary run.jsonl'
  selectchat server --live 8080              also serve a live web page of rooms and the loop

The first line on stdout is always 'selectchat server listening on HOST:PORT'.
Type 'help' on stdin for the operator's commands.

--backend: select() (the default, the one the lessons read) cannot watch a
descriptor numbered {FD_SETSIZE} or more (FD_SETSIZE); to serve more clients than
about --max-clients 1000, use poll or epoll (Linux).
"""


def add_arguments(parser):
    """The options of ``selectchat server``."""
    defaults = Settings()
    net = parser.add_argument_group("network")
    net.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    net.add_argument("--port", type=port_number, default=6667, help="TCP port (default 6667; 0: any free port)")
    net.add_argument("--backend", choices=BACKENDS, default="select",
                     help="readiness API of the loop (default select; see below)")
    net.add_argument("--max-clients", type=positive(int), default=1000, metavar="N",
                     help="connections past N get an ERROR line and are closed (default 1000)")
    net.add_argument("--max-sendq", type=positive(int), default=256 * 1024, metavar="BYTES",
                     help="a client whose unsent output exceeds this is dropped (default 262144)")
    net.add_argument("--ping-interval", type=positive(float), default=defaults.ping_interval, metavar="S",
                     help="PING a client idle this long (default 60)")
    net.add_argument("--ping-timeout", type=positive(float), default=defaults.ping_timeout, metavar="S",
                     help="drop a client that does not answer a PING within this (default 60)")

    rooms = parser.add_argument_group("rooms and access")
    rooms.add_argument("--room", action="append", default=[], metavar="NAME[:LIMIT[:KEY]]",
                       help="create a room at start (repeatable); LIMIT 0 is none, KEY makes it private")
    rooms.add_argument("--no-client-rooms", action="store_true",
                       help="only the operator creates rooms; JOIN of an unknown room is refused")
    rooms.add_argument("--password", help="server password that clients must send with PASS "
                       "(visible in ps: prefer --password-env)")
    rooms.add_argument("--password-env", metavar="VAR",
                       help="read the server password from environment variable VAR")
    rooms.add_argument("--server-name", default=defaults.server_name, help="name used in replies")
    rooms.add_argument("--oper-file", metavar="FILE",
                       help="server operator credentials for OPER: one 'NAME PASSWORD' per line "
                       "(the password is the rest of the line; '#': comment)")
    rooms.add_argument("--oper-env", metavar="VAR",
                       help="one server operator's credentials for OPER from environment variable VAR: "
                       "'NAME:PASSWORD'")

    console = parser.add_argument_group("console and log")
    console.add_argument("--no-console", action="store_true", help="do not read commands from stdin")
    console.add_argument("--exit-on-eof", action="store_true",
                         help="shut down cleanly when stdin reaches EOF (for launchers)")
    console.add_argument("--console-thread", action="store_true",
                         help="read stdin in a thread through a socket pair (the Windows path)")
    console.add_argument("--log", metavar="FILE",
                         help="append the log to FILE ('-': stderr; default: stderr if it is a terminal)")
    console.add_argument("--quiet", action="store_true", help="no live log on stderr")

    trace = parser.add_argument_group("trace (see docs/tracing.md)")
    trace.add_argument("--trace", metavar="FILE",
                       help="record every select() call and I/O step to FILE (JSON Lines); "
                       "read it with 'selectchat trace summary|plot|export FILE'")
    trace.add_argument("--trace-size", type=int, metavar="N",
                       help="events kept in memory (ring buffer; default 100000); "
                       "without --trace, record to memory only (to measure the cost)")

    live = parser.add_argument_group("live view (see docs/server.md and docs/security.md)")
    live.add_argument("--live", type=port_number, metavar="PORT",
                      help="also serve a read-only web page of rooms and the loop on PORT, on --host "
                      "(0: any free port; the address is the second line on stdout)")
    live.add_argument("--live-text", action="store_true",
                      help="let the live page show what users wrote (messages, topics, reasons)")


def port_number(text):
    """argparse type: a TCP port, 0-65535 (0: any free port)."""
    port = int(text) if text.lstrip("-").isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (0-65535)")
    return port


def positive(kind):
    """argparse type: a number above 0 (a zero interval would make the loop spin)."""
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} is not a positive number")
        return value
    convert.__name__ = f"positive {kind.__name__}"
    return convert


def parse_room(spec):
    """``NAME[:LIMIT[:KEY]]`` -> (name, limit, key)."""
    name, _, rest = spec.partition(":")
    limit, _, key = rest.partition(":")
    if not name:
        raise argparse.ArgumentTypeError(f"bad --room {spec!r}: expected NAME[:LIMIT[:KEY]]")
    try:
        limit = int(limit or 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad --room {spec!r}: LIMIT must be a number") from None
    return name, limit, key or None


def check_rooms(specs, settings):
    """Parse every ``--room``; refuse, before starting, what the core would refuse."""
    rooms, check = [], Chat(settings)
    for spec in specs:
        room = parse_room(spec)
        try:
            operator.create_room(check, *room)
        except ChatError as error:
            raise argparse.ArgumentTypeError(f"bad --room {spec!r}: {error}") from None
        rooms.append(room)
    return rooms


def oper_credentials(args):
    """The ((name, password), ...) pairs OPER accepts, from --oper-file and --oper-env.

    Never from the command line itself, where any user of the machine could
    read them with ``ps``.
    """
    pairs = []
    if args.oper_file:
        try:
            with open(args.oper_file, encoding="utf-8") as file:
                lines = [line.strip() for line in file]
        except OSError as error:
            raise SystemExit(f"selectchat server: cannot read --oper-file {args.oper_file}: {error.strerror}")
        for number, line in enumerate(lines, 1):
            if line and not line.startswith("#"):
                pairs.append(_credential(line.split(None, 1), f"{args.oper_file} line {number}"))
    if args.oper_env:
        value = os.environ.get(args.oper_env)
        if value is None:
            raise SystemExit(f"selectchat server: environment variable {args.oper_env} is not set")
        pairs.append(_credential(value.split(":", 1), args.oper_env))
    return tuple(pairs)


def _credential(parts, where):
    if len(parts) != 2 or not all(part.strip() for part in parts):
        raise SystemExit(f"selectchat server: {where}: expected a name and a password")
    return parts[0], parts[1]


def server_config(args):
    """Turn parsed options into a :class:`~selectchat.server.ServerConfig`."""
    password = args.password
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            raise SystemExit(f"selectchat server: environment variable {args.password_env} is not set")
    settings = Settings(server_name=args.server_name, password=password,
                        client_rooms=not args.no_client_rooms,
                        ping_interval=args.ping_interval, ping_timeout=args.ping_timeout,
                        register_timeout=max(args.ping_interval, args.ping_timeout),
                        operators=oper_credentials(args))
    if args.live_text and args.live is None:
        raise argparse.ArgumentTypeError("--live-text needs --live PORT")
    log = args.log or ("-" if sys.stderr.isatty() and not args.quiet else None)
    if args.quiet and log == "-":  # --quiet wins over the launcher's "--log -"
        log = None
    return ServerConfig(host=args.host, port=args.port, rooms=check_rooms(args.room, settings),
                        settings=settings, max_clients=args.max_clients, max_sendq=args.max_sendq,
                        backend=args.backend, console=not args.no_console,
                        console_thread=args.console_thread or sys.platform == "win32",
                        exit_on_eof=args.exit_on_eof, log_file=log,
                        live_port=args.live, live_text=args.live_text,
                        tick_interval=min(1.0, args.ping_interval / 2, args.ping_timeout / 2))


def main(args):
    """``selectchat server``."""
    from .server import run

    try:
        config = server_config(args)
    except argparse.ArgumentTypeError as error:
        raise SystemExit(f"selectchat server: {error}") from None
    recorder = None
    if args.trace or args.trace_size is not None:
        from ..trace import Recorder
        try:
            recorder = Recorder(100_000 if args.trace_size is None else args.trace_size, args.trace,
                                backend=config.backend, program="server")
        except OSError as error:
            print(f"selectchat server: cannot write the trace {args.trace}: {error.strerror}", file=sys.stderr)
            return 1
    try:
        return run(config, recorder)
    finally:
        if recorder is not None:
            recorder.close()  # write what is pending and the end event

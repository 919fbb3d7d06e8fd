"""The ``selectchat`` command: a dispatcher, and nothing else.

Each subcommand lives in its own module, which offers ``add_arguments(parser)``,
``main(args) -> exit code`` and, if it likes, ``EPILOG``.  Only the module of
the subcommand being run is imported, so ``selectchat server`` never loads
the bench, the grader or matplotlib.
"""

import argparse
import importlib
import sys

from . import __version__

# name -> (module, one-line help)
SUBCOMMANDS = {
    "server": ("selectchat.server.command", "run the chat server (one select() loop)"),
    "client": ("selectchat.client.terminal", "chat from a terminal (one select() over keyboard and socket)"),
    "trace": ("selectchat.trace.cli", "summarise, plot or export a trace of the event loop"),
    "bench": ("selectchat.bench.cli", "measure a server (this one or any IRC server) under load"),
    "labs": ("selectchat.grading", "list, release and grade the labs (see docs/labs.md)"),
}


def build_parser(command=None):
    """The parser; the options of ``command`` only (importing its module), or of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="selectchat",
        description="A select() chat server, its clients, and tools to see the event loop at work.",
        epilog="Run 'selectchat COMMAND --help' for the options of each command.")
    parser.add_argument("--version", action="version", version=f"selectchat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name, help=help_text)  # listed in --help, its module not loaded
            continue
        module = importlib.import_module(module_name)
        parser_of = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                                   epilog=getattr(module, "EPILOG", None),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(parser_of)
        parser_of.set_defaults(run=module.main)
    return parser


def run(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    command = next((word for word in argv if not word.startswith("-")), None)
    args = build_parser(command if command in SUBCOMMANDS else None).parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(run())

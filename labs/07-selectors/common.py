"""What both servers of lab 07 share (given): the listener, the command line, descriptor games."""

import argparse
import os
import socket
import sys


def parse_args(description, argv=None, backends=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7007, help="0: any free port")
    parser.add_argument("--reserve-fds", type=int, default=0, metavar="N",
                        help="open N descriptors first, so that every socket gets a number above N")
    if backends:
        parser.add_argument("--backend", choices=backends, default="default",
                            help="which selector: default (the best this system has), poll or epoll")
    return parser.parse_args(argv)


def reserve_descriptors(count):
    """Hold ``count`` descriptors open, so that the next ones are numbered above ``count``.

    A quick way to show what a busy server with a thousand clients meets:
    ``select()`` cannot watch a descriptor numbered FD_SETSIZE (1024) or more.
    """
    if count <= 0:
        return []
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 512
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            sys.exit(f"cannot open {wanted} descriptors: the hard limit (ulimit -Hn) is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return [os.open(os.devnull, os.O_RDONLY) for _ in range(count)]


def make_listener(host, port):
    listener = socket.create_server((host, port), backlog=128)
    return listener


def announce(name, listener):
    """The first line, which tells the tests (and you) the port."""
    host, port = listener.getsockname()[:2]
    print(f"{name} listening on {host}:{port} (descriptor {listener.fileno()})", flush=True)

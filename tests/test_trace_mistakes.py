"""The trace names the classic mistakes -- and stays quiet about a healthy server.

Each wrong server of ``tests/wrong_servers.py`` is recorded live (real
sockets, selectchat's EventLoop and Recorder) and must be flagged with the
right mistake on the right descriptor; the clean echo server and the real
``selectchat server`` under a normal session must raise nothing.
"""

import json
import os
import socket
import time

import pytest

import wrong_servers
from selectchat import cli
from selectchat.client import Client
from selectchat.launch import start_server
from selectchat.trace import find_mistakes, load, summarize


def client_fds(trace):
    return [e["fd"] for e in trace.of("accept")]


def only(mistakes, kind):
    """The mistakes found, all of one kind (any other kind found is a false alarm)."""
    assert mistakes, "nothing flagged"
    assert {m.kind for m in mistakes} == {kind}, [str(m) for m in mistakes]
    return mistakes


def test_a_socket_always_watched_for_writing_is_a_busy_loop():
    trace = wrong_servers.record(wrong_servers.AlwaysWatchesWrite, wrong_servers.say_and_hear([b"hi\n"]))
    (mistake,) = only(find_mistakes(trace), "busy loop")
    assert mistake.fd == client_fds(trace)[0] and mistake.count >= 50
    assert "writable with nothing to send" in mistake.detail and "only while" in mistake.advice


def poke(address):
    """A client script: send one byte (expecting no answer), wait, close."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(b"x")
        time.sleep(0.1)


def test_a_readable_socket_left_unread_is_a_busy_loop():
    trace = wrong_servers.record(wrong_servers.ForgetsToRead, poke)
    (mistake,) = only(find_mistakes(trace), "busy loop")
    assert mistake.fd == client_fds(trace)[0] and "readable and not read" in mistake.detail


def test_select_with_a_timeout_of_zero_is_a_busy_loop():
    trace = wrong_servers.record(wrong_servers.CleanEcho, wrong_servers.say_and_hear([b"hi\n"]), timeout=0)
    (mistake,) = only(find_mistakes(trace), "busy loop")
    assert mistake.fd is None and "timeout of 0" in mistake.detail and "not 0" in mistake.advice


def test_empty_reads_again_and_again_are_an_ignored_eof():
    trace = wrong_servers.record(wrong_servers.IgnoresEOF, wrong_servers.say_and_hear([b"hi\n"], linger=0))
    (mistake,) = only(find_mistakes(trace), "EOF ignored")
    (fd,) = client_fds(trace)
    first_empty = next(e for e in trace.of("recv") if e["fd"] == fd and e["bytes"] == 0)
    assert mistake.fd == fd and mistake.t == first_empty["t"] and mistake.count >= 2
    assert "close it" in mistake.advice


def test_a_blocking_recv_for_the_rest_of_a_line_is_a_blocking_call():
    trace = wrong_servers.record(wrong_servers.BlocksForTheLine,
                                 wrong_servers.say_and_hear([b"hel", b"lo\n"], pause=0.4))
    (mistake,) = only(find_mistakes(trace), "blocking call")
    assert mistake.fd == client_fds(trace)[0]
    assert "recv() returned" in mistake.detail and "non-blocking" in mistake.advice
    # It happened in the pass whose select() returned the client readable.
    (woke,) = [e for e in trace.of("select") if e["t"] == mistake.t]
    assert woke["ready_read"] == [mistake.fd]


def test_long_work_in_a_handler_is_a_stall_naming_the_handler():
    trace = wrong_servers.record(wrong_servers.ThinksHard, wrong_servers.say_and_hear([b"a\n"]))
    (mistake,) = only(find_mistakes(trace), "stall")
    assert mistake.fd == client_fds(trace)[0]
    assert f"handle_read of fd {mistake.fd}" in mistake.detail and "took 3" in mistake.detail


def test_descriptors_near_fd_setsize_are_flagged_for_select_only():
    spare = []
    try:   # fill the low descriptors, so that the client's socket is numbered near 1024
        while not spare or spare[-1] < 990:
            spare.append(os.open(os.devnull, os.O_RDONLY))
        trace = wrong_servers.record(wrong_servers.CleanEcho, wrong_servers.say_and_hear([b"hi\n"]))
    finally:
        for fd in spare:
            os.close(fd)
    (mistake,) = only(find_mistakes(trace), "near FD_SETSIZE")
    (client,) = client_fds(trace)
    assert mistake.fd >= 990 and mistake.t == trace.of("select")[0]["t"] and "poll" in mistake.advice
    assert f"{client} at most" in mistake.detail
    poll_trace = type(trace)(dict(trace.header, backend="poll"),
                             [dict(e, backend="poll") if e["kind"] == "select" else e for e in trace.events])
    assert find_mistakes(poll_trace) == []


def test_a_clean_echo_server_raises_nothing():
    trace = wrong_servers.record(wrong_servers.CleanEcho,
                                 wrong_servers.say_and_hear([b"hel", b"lo\n", b"again\n"], pause=0.05))
    assert len(trace.of("select")) > 3 and trace.of("send")
    assert find_mistakes(trace) == []


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """The real server, traced, under a normal session: register, join, chat, a burst, quit."""
    path = tmp_path_factory.mktemp("clean") / "classroom.jsonl"
    with start_server("--trace", str(path)) as server:
        students = [Client(*server.address, nick, timeout=5) for nick in ("ada", "bob", "cy")]
        try:
            for student in students:
                student.join("#lobby")
            for round_ in range(3):
                for student in students:
                    student.say("#lobby", f"hello {round_} from {student.nick}")
                time.sleep(0.05)
            students[0].send("".join(f"PRIVMSG #lobby :line {i}\r\n" for i in range(200)))
            students[1].expect("PRIVMSG", timeout=5)
            time.sleep(0.2)
            for student in students:
                student.quit()
        finally:
            for student in students:
                student.close()
        assert server.stop() == 0
    return path


def test_the_real_server_in_a_normal_session_raises_nothing(classroom, capsys):
    trace = load(classroom)
    assert trace.complete and len(trace.of("select")) > 10
    assert find_mistakes(trace) == []
    assert summarize(trace).mistakes == []
    assert cli.run(["trace", "summary", str(classroom)]) == 0
    assert "mistakes      none found" in capsys.readouterr().out


def test_trace_summary_prints_each_mistake_with_time_descriptor_and_advice(tmp_path, capsys):
    path = tmp_path / "eof.jsonl"
    trace = wrong_servers.record(wrong_servers.IgnoresEOF, wrong_servers.say_and_hear([b"hi\n"], linger=0),
                                 path=str(path))
    assert load(path).complete
    assert cli.run(["trace", "summary", str(path)]) == 0
    out = capsys.readouterr().out
    (fd,) = client_fds(trace)
    assert "mistakes      1 found:" in out
    assert "EOF ignored at " in out and f"on fd {fd} (client {fd})" in out and "close it" in out


def test_a_long_pass_counts_only_if_a_handler_or_timer_took_the_time():
    """selectchat's loop times its handlers: a long pass that none of them explains is the
    machine's (the process was not scheduled), not the program's.  Without those timings
    (a trace before version 3, or another loop) the pass alone is the evidence."""
    from selectchat.trace import loads

    def trace_of(*events, numbered=True):
        header = {"format": "selectchat-trace", "version": 3, "labels": {"7": "ada"}}
        selects = [{"t": t, "kind": "select", "began": t - 0.001, "blocked": 0.001, "timeout": 1.0,
                    "backend": "select", "read": [7], "write": [], "ready_read": [7] if t == 0.1 else [],
                    "ready_write": [], **({"pass": n} if numbered else {})}
                   for n, t in ((1, 0.1), (2, 0.5))]
        lines = [header, selects[0], *events, selects[1]]
        return loads("\n".join(json.dumps(line) for line in lines))

    recv = {"t": 0.11, "kind": "recv", "fd": 7, "bytes": 5}
    assert find_mistakes(trace_of(recv)) == []                                   # 0.4 s, nobody's
    (stall,) = find_mistakes(trace_of(recv, {"t": 0.45, "kind": "slow", "fd": 7, "call": "handle_read",
                                             "took": 0.34}))
    assert stall.kind == "stall" and "handle_read of fd 7 (ada) took 340 ms" in stall.detail
    (old,) = find_mistakes(trace_of(recv, numbered=False))                       # no timings: the pass
    assert old.kind == "stall" and "held the loop 399 ms" in old.detail

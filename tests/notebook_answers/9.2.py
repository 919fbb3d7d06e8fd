# The kernel took what fitted in sleepy's socket buffer; the rest waits in the server, and the loop keeps sleepy's
# bit set in *writefds given* until the buffer is empty. Step to that pass to see it (`stepper.next_event_on`).
bytes_left_behind = next(e["asked"] - e["sent"] for e in trace.of("send") if e["sent"] < e["asked"])

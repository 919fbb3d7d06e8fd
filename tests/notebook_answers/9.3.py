# Nearly all of them: this server sleeps until a socket needs it. The few others are its once-a-second timer (idle
# clients are checked for), or the end.
passes_woken_by_a_descriptor = sum(p.woke_by == "a descriptor" for p in passes(trace))

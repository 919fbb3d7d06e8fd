# Compare it with the span of the trace: even under this load, the loop mostly waits. That idle time
# is what lets one thread serve many clients.
seconds_blocked = sum(e["blocked"] for e in trace.of("select"))

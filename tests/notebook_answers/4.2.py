largest_ready_set = max(len(e["ready_read"]) + len(e["ready_write"]) for e in trace.of("select"))

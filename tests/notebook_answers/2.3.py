# The listener is readable because Carol's connection waits in its backlog; `bob_conn` because Bob's
# bytes wait in its receive buffer. A single `select()` call reports both: that is the whole trick.
readable_answer = {"listener", "bob_conn"}

# The first piece has no line end; the second finishes `NICK alice` and holds a whole `USER` line; the
# third finishes `JOIN #x`.
lines_per_feed = [0, 2, 1]

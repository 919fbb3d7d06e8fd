# Usually `[0, 3, 5]`: the console (the server's stdin, descriptor 0), the listening socket and the self-pipe that
# turns a signal into a readable socket. Clients are added as they connect.
first_read_set = passes(trace)[0].select["read"]

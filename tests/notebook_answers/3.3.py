# One `accept` per client: the `Client` objects this notebook made (four, five with erin).
accepted = len(trace.of("accept"))

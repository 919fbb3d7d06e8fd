# expect: your bins do not add up
def busy_per_bin(events, width):
    selects = [e for e in events if e["kind"] == "select"]
    last = events[-1]["t"]
    count = math.ceil(last / width)
    blocked = [0.0] * count
    for event in selects:
        begin, end = event["began"], event["began"] + event["blocked"]
        index = int(begin / width)
        while begin < end and index < count:
            edge = (index + 1) * width
            blocked[index] += min(end, edge) - begin
            begin, index = edge, index + 1
    return [max(0.0, width - wait) for wait in blocked]

# expect: only the last bin is wrong
def busy_per_bin(events, width):
    selects = [e for e in events if e["kind"] == "select"]
    first = selects[0]["began"]
    last = max(events[-1]["t"], selects[-1]["t"])
    count = max(1, math.ceil((last - first) / width - 1e-9))
    blocked = [0.0] * count
    for event in selects:
        begin, end = event["began"], event["began"] + event["blocked"]
        index = int((begin - first) / width)
        while begin < end and index < count:
            edge = first + (index + 1) * width
            blocked[index] += min(end, edge) - begin
            begin, index = edge, index + 1
    return [max(0.0, width - wait) for wait in blocked]      # the last bin is shorter than width

# expect: was counted whole in the bin where it began
def busy_per_bin(events, width):
    selects = [e for e in events if e["kind"] == "select"]
    first = selects[0]["began"]
    last = max(events[-1]["t"], selects[-1]["t"])
    count = max(1, math.ceil((last - first) / width - 1e-9))
    blocked = [0.0] * count
    for event in selects:
        index = min(count - 1, int((event["began"] - first) / width))
        blocked[index] += event["blocked"]
    lengths = [min(width, last - (first + n * width)) for n in range(count)]
    return [length - wait for length, wait in zip(lengths, blocked)]

# expect: a line longer than max_line came out as bytes
def split_lines(pending, data, max_line=512):
    pending += data
    lines = []
    while (end := pending.find(b"\n")) >= 0:
        lines.append(bytes(pending[:end]).removesuffix(b"\r"))
        del pending[:end + 1]
    return lines

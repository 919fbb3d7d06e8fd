# expect: the 4th line came out as
def split_lines(pending, data, max_line=512):
    pending += data
    lines = []
    while (end := pending.find(b"\n")) >= 0:
        line = bytes(pending[:end]).strip()
        del pending[:end + 1]
        lines.append(line if len(line) <= max_line else None)
    del pending[max_line + 1:]
    return lines

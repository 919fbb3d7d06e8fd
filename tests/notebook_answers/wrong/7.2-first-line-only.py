# expect: fed everything in one piece, a stream of 6 lines gave
def split_lines(pending, data, max_line=512):
    pending += data
    end = pending.find(b"\n")
    if end < 0:
        return []
    line = bytes(pending[:end]).removesuffix(b"\r")
    del pending[:end + 1]
    return [line]

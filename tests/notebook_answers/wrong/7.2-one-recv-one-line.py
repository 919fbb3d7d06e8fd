# expect: fed one byte at a time (recv(1)), a stream of 6 lines gave
def split_lines(pending, data, max_line=512):
    return [line.removesuffix(b"\r") for line in data.split(b"\n") if line]

HEADER = 10   # bytes: the payload's length in decimal ASCII, padded with spaces


def split_frames(pending, data, max_frame=65536):
    pending += data
    frames = []
    while len(pending) >= HEADER:
        length = int(pending[:HEADER])          # ValueError if the header is not a number
        if not 0 <= length <= max_frame:
            raise ValueError(f"frame of {length} bytes announced, at most {max_frame} allowed")
        if len(pending) < HEADER + length:
            break                                # the rest of this frame has not arrived yet
        frames.append(bytes(pending[HEADER:HEADER + length]))
        del pending[:HEADER + length]
    return frames

# expect: announcing a negative length did not raise ValueError
def split_frames(pending, data, max_frame=65536):
    pending += data
    frames = []
    while len(pending) >= 10:
        length = int(pending[:10])
        if length > max_frame:
            raise ValueError("frame too long")
        if len(pending) < 10 + length:
            break
        frames.append(bytes(pending[10:10 + length]))
        del pending[:10 + max(length, 0)]
        if length < 0:
            break
    return frames

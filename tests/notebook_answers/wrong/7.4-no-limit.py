# expect: announcing a 1 GB payload did not raise ValueError
def split_frames(pending, data, max_frame=65536):
    pending += data
    frames = []
    while len(pending) >= 10:
        length = int(pending[:10])
        if len(pending) < 10 + length:
            break
        frames.append(bytes(pending[10:10 + length]))
        del pending[:10 + length]
    return frames

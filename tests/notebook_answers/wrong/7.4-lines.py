# expect: frames gave
def split_frames(pending, data, max_frame=65536):
    pending += data
    frames = []
    while (end := pending.find(b"\n")) >= 0:
        frames.append(bytes(pending[10:end]))
        del pending[:end + 1]
    return frames

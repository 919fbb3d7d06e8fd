# expect: a stream of 6 frames gave 5
def split_frames(pending, data, max_frame=65536):
    pending += data
    frames = []
    while len(pending) > 10:
        length = int(pending[:10])
        if length > max_frame:
            raise ValueError("too long")
        if len(pending) <= 10 + length:      # off by one: a frame that is exactly complete waits
            break
        frames.append(bytes(pending[10:10 + length]))
        del pending[:10 + length]
    return frames

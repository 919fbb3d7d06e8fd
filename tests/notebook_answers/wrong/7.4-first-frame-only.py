# expect: fed everything in one piece, a stream of 6 frames gave
def split_frames(pending, data, max_frame=65536):
    pending += data
    if len(pending) < 10:
        return []
    length = int(pending[:10])
    if length > max_frame:
        raise ValueError("too long")
    if len(pending) < 10 + length:
        return []
    frame = bytes(pending[10:10 + length])
    del pending[:10 + length]
    return [frame]

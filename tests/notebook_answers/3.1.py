# `471 ERR_CHANNELISFULL`, "Cannot join channel (+l)". IRC calls a room's participant limit mode `+l`.
# Dave is still connected: a refusal is an answer, not a disconnection.
full_room_numeric = "471"

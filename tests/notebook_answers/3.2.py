erin = Client(*server.address, "erin")
erin_names = erin.join("#staff", "s3cret")

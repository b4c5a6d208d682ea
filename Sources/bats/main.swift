print("bats")

"""plan-executor: executes rebalance plans against Alpaca, at most once per plan."""

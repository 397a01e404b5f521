"""Entry points: thin adapters that parse, make one service call, and map the result."""

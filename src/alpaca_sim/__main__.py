"""`python -m alpaca_sim serve ...`."""

from alpaca_sim.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
